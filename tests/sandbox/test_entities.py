"""Telegram's formatting rules, without a server: plain text, entities in UTF-16 units, errors."""

from __future__ import annotations

import pytest

from bot.sandbox.entities import EntityParseError, parse, to_html, utf16_len


def test_html_gives_plain_text_and_utf16_entities() -> None:
    text, entities = parse("😀 <b>Шақат</b> &lt;3 &#1179; <i>ok</i>", "HTML")
    assert text == "😀 Шақат <3 қ ok"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 5},  # the emoji is two UTF-16 units
        {"type": "italic", "offset": 14, "length": 2},
    ]
    assert utf16_len(text) == 16


def test_html_tags_telegram_allows() -> None:
    source = (
        '<strong>a</strong><em>b</em><ins>c</ins><del>d</del><span class="tg-spoiler">e</span>'
        '<tg-spoiler>f</tg-spoiler><a href="https://x.kz/?a=1&amp;b=2">g</a><code>h</code>'
        '<pre><code class="language-python">i</code></pre><blockquote expandable>j</blockquote>'
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
    )
    text, entities = parse(source, "HTML")
    assert text == "abcdefghij👍"
    assert [e["type"] for e in entities] == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "spoiler",
        "text_link",
        "code",
        "pre",
        "expandable_blockquote",
        "custom_emoji",
    ]
    assert entities[6]["url"] == "https://x.kz/?a=1&b=2"
    assert entities[8] == {"type": "pre", "offset": 8, "length": 1, "language": "python"}


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("Сәлем <foo>x</foo>", 'Unsupported start tag "foo" at byte offset 11'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ('<span class="red">x</span>', 'Unsupported start tag "span" at byte offset 0'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
    ],
)
def test_broken_html_is_refused_with_byte_offsets(source: str, error: str) -> None:
    with pytest.raises(EntityParseError) as raised:
        parse(source, "HTML")
    assert str(raised.value) == error


def test_markdown_v2_entities() -> None:
    text, entities = parse(r"*Шақат* _i_ __u__ ~s~ ||p|| `c` [сайт](https://x.kz/a\)b) 2\.5", "MarkdownV2")
    assert text == "Шақат i u s p c сайт 2.5"
    assert [e["type"] for e in entities] == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "text_link",
    ]
    assert entities[-1] == {"type": "text_link", "offset": 16, "length": 4, "url": "https://x.kz/a)b"}


def test_markdown_v2_quotes_pre_and_custom_emoji() -> None:
    assert parse(">one\n>two\nafter", "MarkdownV2") == (
        "one\ntwo\nafter",
        [{"type": "blockquote", "offset": 0, "length": 7}],
    )
    assert parse("**>hidden\n>more||", "MarkdownV2")[1] == [
        {"type": "expandable_blockquote", "offset": 0, "length": 11}
    ]
    assert parse("```python\nprint(1)\n```", "MarkdownV2") == (
        "print(1)\n",
        [{"type": "pre", "offset": 0, "length": 9, "language": "python"}],
    )
    assert parse("![👍](tg://emoji?id=5368324170671202286)", "MarkdownV2")[1] == [
        {"type": "custom_emoji", "offset": 0, "length": 2, "custom_emoji_id": "5368324170671202286"}
    ]


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("Speed: 2.5 Mbit/s", "Character '.' is reserved and must be escaped with the preceding '\\'"),
        ("a-b", "Character '-' is reserved and must be escaped with the preceding '\\'"),
        ("Сәлем *bold", "Can't find end of Bold entity at byte offset 11"),
        ("`code", "Can't find end of Code entity at byte offset 0"),
    ],
)
def test_bad_markdown_v2_is_refused(source: str, error: str) -> None:
    with pytest.raises(EntityParseError) as raised:
        parse(source, "MarkdownV2")
    assert str(raised.value) == error


def test_entities_render_back_to_html_for_the_page() -> None:
    text, entities = parse('😀 <b>a &lt; b</b> <a href="https://x.kz">c</a>', "HTML")
    assert to_html(text, entities) == '😀 <b>a &lt; b</b> <a href="https://x.kz">c</a>'
