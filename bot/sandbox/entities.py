"""Telegram's text formatting: HTML and MarkdownV2 to plain text plus entities.

Offsets and lengths are in UTF-16 code units, as the Bot API reports them. Errors use Telegram's
wording ("can't parse entities: …"), with byte offsets into the UTF-8 source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


class EntityParseError(ValueError):
    """The text cannot be parsed; ``str(error)`` is Telegram's description after the colon."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _Builder:
    parts: list[str] = field(default_factory=list)
    length: int = 0  # UTF-16 units written so far
    entities: list[dict[str, Any]] = field(default_factory=list)

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.length += utf16_len(text)

    def add(self, kind: str, start: int, **extra: Any) -> None:
        if self.length > start:
            self.entities.append({"type": kind, "offset": start, "length": self.length - start, **extra})

    def result(self) -> tuple[str, list[dict[str, Any]]]:
        self.entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
        return "".join(self.parts), self.entities


_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)?((?:\s+[a-zA-Z_-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]*))?)*)\s*(/?)>"
)
_ATTR = re.compile(r"([a-zA-Z_-]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]*))?")
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _decode_entities(raw: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("#x"):
            return chr(int(name[2:], 16))
        if name.startswith("#"):
            return chr(int(name[1:]))
        return _NAMED_ENTITIES.get(name, match.group(0))

    return _ENTITY.sub(replace, raw)


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Builder()
    stack: list[tuple[str, int, dict[str, Any]]] = []
    index = 0
    while index < len(source):
        char = source[index]
        if char == "<":
            match = _TAG.match(source, index)
            if match is None or match.group(2) is None:
                raise EntityParseError(
                    f'Unsupported start tag "" at byte offset {_byte_offset(source, index)}'
                )
            closing, name, attributes = match.group(1) == "/", match.group(2).lower(), match.group(3)
            if name not in _HTML_TAGS:
                what = "end" if closing else "start"
                raise EntityParseError(
                    f'Unsupported {what} tag "{name}" at byte offset {_byte_offset(source, index)}'
                )
            if closing:
                if not stack or stack[-1][0] != name:
                    expected = f'"</{stack[-1][0]}>"' if stack else "no end tag"
                    raise EntityParseError(
                        f"Unmatched end tag at byte offset {_byte_offset(source, index)},"
                        f' expected {expected}, found "</{name}>"'
                    )
                tag, start, attrs = stack.pop()
                _close_html_entity(out, tag, start, attrs, stack)
            else:
                attrs = {
                    key.lower(): _decode_entities(value.strip("\"'")) if value else ""
                    for key, value in _ATTR.findall(attributes)
                }
                if name == "span" and attrs.get("class") != "tg-spoiler":
                    raise EntityParseError(
                        f'Unsupported start tag "span" at byte offset {_byte_offset(source, index)}'
                    )
                stack.append((name, out.length, attrs))
            index = match.end()
        elif char == "&":
            match = _ENTITY.match(source, index)
            if match and (match.group(1).startswith("#") or match.group(1) in _NAMED_ENTITIES):
                out.write(_decode_entities(match.group(0)))
                index = match.end()
            else:
                out.write("&")
                index += 1
        else:
            end = index
            while end < len(source) and source[end] not in "<&":
                end += 1
            out.write(source[index:end])
            index = end
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.result()


def _close_html_entity(
    out: _Builder, tag: str, start: int, attrs: dict[str, str], stack: list[tuple[str, int, dict[str, Any]]]
) -> None:
    kind = _HTML_TAGS[tag]
    if kind == "text_link":
        url = attrs.get("href", "")
        if not url:
            return
        if url.startswith("tg://user?id="):
            out.add(
                "text_mention",
                start,
                user={"id": int(url.split("=", 1)[1]), "is_bot": False, "first_name": ""},
            )
            return
        out.add("text_link", start, url=url)
    elif kind == "pre":
        out.add("pre", start)
    elif (
        kind == "code" and stack and stack[-1][0] == "pre" and attrs.get("class", "").startswith("language-")
    ):
        # <pre><code class="language-x"> gives the pre its language rather than a code entity.
        stack[-1][2]["language"] = attrs["class"].removeprefix("language-")
    elif kind == "blockquote":
        out.add("expandable_blockquote" if "expandable" in attrs else "blockquote", start)
    elif kind == "custom_emoji":
        out.add("custom_emoji", start, custom_emoji_id=attrs.get("emoji-id", ""))
    else:
        out.add(kind, start)
    if kind == "pre" and "language" in attrs:
        out.entities[-1]["language"] = attrs["language"]


_MD_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MD_MARKERS = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough", "||": "spoiler"}


def parse_markdown_v2(source: str) -> tuple[str, list[dict[str, Any]]]:
    return _MarkdownV2(source).parse()


def _reserved(char: str) -> EntityParseError:
    return EntityParseError(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")


def _unescaped(source: str, char: str, start: int) -> int:
    """The index of the first ``char`` at or after ``start`` not escaped by a backslash; -1 if none."""
    index = start
    while index < len(source):
        if source[index] == "\\":
            index += 2
        elif source[index] == char:
            return index
        else:
            index += 1
    return -1


class _MarkdownV2:
    """One pass over MarkdownV2 source; markers nest, quotes are runs of lines starting with '>'."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.out = _Builder()
        self.stack: list[tuple[str, int, int]] = []  # marker, start (UTF-16), source index
        self.index = 0
        self.quote_start: int | None = None  # UTF-16 start of the open block quote
        self.quote_expandable = False

    def parse(self) -> tuple[str, list[dict[str, Any]]]:
        source = self.source
        while self.index < len(source):
            if self.index == 0 or source[self.index - 1] == "\n":
                self._line_start()
                if self.index >= len(source):
                    break
            char = source[self.index]
            if char == "\\":
                self._escape()
            elif char == "\n" and self.quote_start is not None:
                self._quote_line_end()
            elif char == "`":
                self._code()
            elif char == "[" or source.startswith("![", self.index):
                self._link()
            elif not self._marker() and not self._expandable_mark():
                if char in _MD_RESERVED:
                    raise _reserved(char)
                self.out.write(char)
                self.index += 1
        if self.stack:
            marker, _, position = self.stack[-1]
            raise EntityParseError(
                f"Can't find end of {_MD_MARKERS[marker].capitalize()} entity at byte offset"
                f" {_byte_offset(source, position)}"
            )
        self._close_quote()
        return self.out.result()

    def _line_start(self) -> None:
        if self.source.startswith("**>", self.index):
            self.index += 2  # "**>" opens an expandable quote; the empty bold is no entity
        if self.source.startswith(">", self.index):
            if self.quote_start is None:
                self.quote_start = self.out.length
            self.index += 1

    def _quote_line_end(self) -> None:
        following = self.source[self.index + 1 : self.index + 4]
        if not following.startswith(">") and not following.startswith("**>"):
            self._close_quote()
        self.out.write("\n")
        self.index += 1

    def _close_quote(self) -> None:
        if self.quote_start is not None:
            kind = "expandable_blockquote" if self.quote_expandable else "blockquote"
            self.out.add(kind, self.quote_start)
        self.quote_start, self.quote_expandable = None, False

    def _expandable_mark(self) -> bool:
        """ "||" closing the last line of a quote makes the quote expandable."""
        end = self.index + 2
        at_line_end = self.source[end : end + 1] in ("", "\n")
        if self.quote_start is None or not self.source.startswith("||", self.index) or not at_line_end:
            return False
        if any(marker == "||" for marker, _, _ in self.stack):
            return False
        self.quote_expandable = True
        self.index = end
        return True

    def _escape(self) -> None:
        if self.index + 1 >= len(self.source):
            raise _reserved("\\")
        self.out.write(self.source[self.index + 1])
        self.index += 2

    def _code(self) -> None:
        source, index = self.source, self.index
        fence = source.startswith("```", index)
        quote = "```" if fence else "`"
        end = source.find(quote, index + len(quote))
        if end < 0:
            what = "Pre" if fence else "Code"
            raise EntityParseError(
                f"Can't find end of {what} entity at byte offset {_byte_offset(source, index)}"
            )
        body = source[index + len(quote) : end]
        language = None
        if fence and "\n" in body:
            first, rest = body.split("\n", 1)
            if first.strip() and " " not in first.strip():
                language, body = first.strip(), rest
        start = self.out.length
        self.out.write(body.replace("\\`", "`").replace("\\\\", "\\"))
        if fence:
            self.out.add("pre", start, **({"language": language} if language else {}))
        else:
            self.out.add("code", start)
        self.index = end + len(quote)

    def _link(self) -> None:
        """[text](url), or ![emoji](tg://emoji?id=…) for a custom emoji."""
        source = self.source
        emoji = source[self.index] == "!"
        opening = self.index + (1 if emoji else 0)
        close = source.find("](", opening)
        end = _unescaped(source, ")", close + 2) if close >= 0 else -1
        if close < 0 or end < 0:
            raise _reserved("!" if emoji else "[")
        start = self.out.length
        inner_text, inner_entities = parse_markdown_v2(source[opening + 1 : close])
        for entity in inner_entities:
            self.out.entities.append({**entity, "offset": entity["offset"] + start})
        self.out.write(inner_text)
        url = source[close + 2 : end].replace("\\)", ")").replace("\\\\", "\\")
        if emoji:
            self.out.add("custom_emoji", start, custom_emoji_id=url.rpartition("id=")[2])
        else:
            self.out.add("text_link", start, url=url)
        self.index = end + 1

    def _marker(self) -> bool:
        source, index = self.source, self.index
        two = source[index : index + 2]
        char = source[index]
        marker = two if two in ("__", "||") else char if char in "*_~" else None
        if marker is None:
            return False
        if marker == "||" and self._expandable_mark():
            return True
        if self.stack and self.stack[-1][0] == marker:
            _, start, _ = self.stack.pop()
            self.out.add(_MD_MARKERS[marker], start)
        else:
            self.stack.append((marker, self.out.length, index))
        self.index += len(marker)
        return True


def parse_legacy_markdown(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Old "Markdown": *bold*, _italic_, `code`, [text](url); no escaping of other characters."""
    escaped = re.sub(r"([.!#+\-=|{}>()~])", r"\\\1", source)
    return parse_markdown_v2(escaped)


def to_html(text: str, entities: list[dict[str, Any]]) -> str:
    """Render plain text + entities back to Telegram-style HTML (for the chat page)."""
    units = text.encode("utf-16-le")
    opens: dict[int, list[str]] = {}
    closes: dict[int, list[str]] = {}
    for entity in sorted(entities, key=lambda e: (e["offset"], -e["length"])):
        tag, attrs = _html_tag_for(entity)
        if tag is None:
            continue
        opens.setdefault(entity["offset"], []).append(f"<{tag}{attrs}>")
        closes.setdefault(entity["offset"] + entity["length"], []).insert(0, f"</{tag}>")
    # Cut only at entity boundaries (in UTF-16 units), so surrogate pairs stay whole in each piece.
    boundaries = sorted({0, len(units) // 2, *opens, *closes})
    pieces: list[str] = []
    for start, end in zip(boundaries, [*boundaries[1:], None], strict=True):
        pieces.extend(closes.get(start, []))
        pieces.extend(opens.get(start, []))
        if end is not None:
            chunk = units[start * 2 : end * 2].decode("utf-16-le", errors="replace")
            pieces.append(chunk.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    return "".join(pieces)


def _html_tag_for(entity: dict[str, Any]) -> tuple[str | None, str]:
    simple = {
        "bold": "b",
        "italic": "i",
        "underline": "u",
        "strikethrough": "s",
        "code": "code",
        "pre": "pre",
        "blockquote": "blockquote",
        "expandable_blockquote": "blockquote",
    }
    kind = entity["type"]
    if kind in simple:
        return simple[kind], ""
    if kind == "spoiler":
        return "tg-spoiler", ""
    if kind == "text_link":
        return "a", ' href="' + entity["url"].replace("&", "&amp;").replace('"', "&quot;") + '"'
    return None, ""


def parse(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    mode = (parse_mode or "").lower()
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_legacy_markdown(text)
    if mode:
        raise EntityParseError(f'Unsupported parse_mode "{parse_mode}"')
    return text, []
