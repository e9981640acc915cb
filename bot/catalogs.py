"""Checking the kk and ru catalogs against the strings the code uses.

``python -m bot.catalogs check`` lists problems; ``python -m bot.catalogs add DOMAIN`` appends
strings the code uses but no catalog has to ``locales/*/LC_MESSAGES/DOMAIN.po`` (untranslated,
so the check keeps failing until someone translates them).
"""

from __future__ import annotations

import re
import string
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot.config import LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
SOURCE_DIRS = ("bot", "handlers", "db")
KEYWORDS = {"_": None, "N_": None, "n_": (1, 2)}
PLURAL_FORMS = {
    "kk": "nplurals=2; plural=(n != 1);",
    "ru": "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && "
    "(n%100<10 || n%100>=20) ? 1 : 2);",
}

MessageId = str | tuple[str, str]


def used_messages() -> dict[str, MessageId]:
    """Every string the code marks for translation, keyed by its singular form."""
    found: dict[str, MessageId] = {}
    for directory in SOURCE_DIRS:
        extracted = extract_from_dir(
            ROOT / directory,
            method_map=[("**/sandbox/**.py", "ignore"), ("**.py", "python")],
            keywords=KEYWORDS,
        )
        for _filename, _line, message, _comments, _context in extracted:
            key = message if isinstance(message, str) else message[0]
            found[key] = message if isinstance(message, str) else (message[0], message[1])
    return found


def load_catalogs(language: str) -> dict[str, Catalog]:
    catalogs = {}
    for path in sorted((LOCALES / language / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as file:
            catalogs[path.stem] = read_po(file, locale=language)
    return catalogs


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@dataclass(frozen=True)
class Problem:
    language: str
    message: str
    what: str

    def __str__(self) -> str:
        return f"[{self.language}] {self.what}: {self.message!r}"


def problems() -> Iterator[Problem]:
    used = used_messages()
    for language in LANGUAGES:
        entries: dict[str, Message] = {}
        for catalog in load_catalogs(language).values():
            for entry in catalog:
                if entry.id:
                    key = entry.id if isinstance(entry.id, str) else entry.id[0]
                    entries[key] = entry
        for key in sorted(used):
            found = entries.get(key)
            if found is None:
                yield Problem(language, key, "missing")
                continue
            entry = found
            if entry.fuzzy:
                yield Problem(language, key, "fuzzy")
            raw = entry.string
            translations = tuple(raw) if isinstance(raw, tuple | list) else (raw or "",)
            if not all(translations):
                yield Problem(language, key, "untranslated")
                continue
            source = used[key]
            sources: tuple[str, ...] = source if isinstance(source, tuple) else (source,)
            expected = set().union(*(placeholders(source) for source in sources))
            for translation in translations:
                if placeholders(translation) - expected or (
                    len(sources) == 1 and placeholders(translation) != expected
                ):
                    yield Problem(language, key, f"placeholders differ in {translation!r}")
            if isinstance(used[key], tuple) != isinstance(entry.id, tuple):
                yield Problem(language, key, "plural form mismatch")


def add_missing(domain: str) -> int:
    """Append strings no catalog has to DOMAIN.po of each language; returns how many."""
    used = used_messages()
    added = 0
    for language in LANGUAGES:
        known = set()
        for catalog in load_catalogs(language).values():
            known |= {entry.id if isinstance(entry.id, str) else entry.id[0] for entry in catalog}
        path = LOCALES / language / "LC_MESSAGES" / f"{domain}.po"
        if path.exists():
            with path.open("rb") as file:
                catalog = read_po(file, locale=language)
        else:
            catalog = Catalog(locale=language, project="AuylNet", fuzzy=False)
        catalog.plural_forms  # noqa: B018 - computed from the locale
        for key, message in used.items():
            if key not in known:
                catalog.add(message, string=("", "") if isinstance(message, tuple) else "")
                added += 1
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as file:
            write_po(file, catalog, width=0, omit_header=False)
        _fix_plural_header(path, language)
    return added


def _fix_plural_header(path: Path, language: str) -> None:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r'"Plural-Forms: [^"]*\\n"', f'"Plural-Forms: {PLURAL_FORMS[language]}\\\\n"', text)
    path.write_text(text, encoding="utf-8")


def main(argv: list[str]) -> int:
    if argv[:1] == ["add"] and len(argv) == 2:
        print(f"added {add_missing(argv[1])} entries")
        return 0
    found = list(problems())
    for problem in found:
        print(problem)
    print(f"{len(found)} problems")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
