"""Every string the bot shows exists in Kazakh and Russian, translated, with the same placeholders."""

from __future__ import annotations

from babel.messages.pofile import read_po

from bot.catalogs import LOCALES, PLURAL_FORMS, problems, used_messages
from bot.config import LANGUAGES
from bot.i18n import Translator


def test_every_message_is_translated_in_kk_and_ru() -> None:
    found = [str(problem) for problem in problems()]
    assert found == [], "\n".join(found)


def test_a_message_means_one_thing_whichever_catalog_holds_it() -> None:
    """Catalogs of one language are merged; a msgid translated twice differently would depend on file order."""
    for language in LANGUAGES:
        seen: dict[object, tuple[str, object]] = {}
        clashes = []
        for path in sorted((LOCALES / language / "LC_MESSAGES").glob("*.po")):
            with path.open("rb") as file:
                for entry in read_po(file, locale=language):
                    if not entry.id:
                        continue
                    key = entry.id if isinstance(entry.id, str) else entry.id[0]
                    first = seen.setdefault(key, (path.stem, entry.string))
                    if first[1] != entry.string:
                        clashes.append(f"{language}: {key!r} in {first[0]}.po and {path.stem}.po")
        assert clashes == [], "\n".join(clashes)


def test_the_check_sees_the_code() -> None:
    used = used_messages()
    assert "Choose your language:" in used
    assert len(used) > 50


def test_catalog_headers_declare_cldr_plural_forms() -> None:
    for language in LANGUAGES:
        files = sorted((LOCALES / language / "LC_MESSAGES").glob("*.po"))
        assert files, f"no catalogs for {language}"
        for path in files:
            with path.open("rb") as file:
                catalog = read_po(file, locale=language)
            assert catalog.plural_forms == PLURAL_FORMS[language], path


def test_a_message_renders_in_each_language() -> None:
    kk, ru = Translator("kk"), Translator("ru")
    assert kk._("Choose your language:") == "Тілді таңдаңыз:"
    assert ru._("Choose your language:") == "Выберите язык:"


def test_placeholders_are_escaped_for_html() -> None:
    ru = Translator("ru")
    text = ru._("Hello, {name}! I am AuylNet.", name="<b>Bob</b> & co")
    assert text == "Здравствуйте, &lt;b&gt;Bob&lt;/b&gt; &amp; co! Я — AuylNet."
