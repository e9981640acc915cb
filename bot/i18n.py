"""Kazakh and Russian: gettext catalogs read with Babel, dates and numbers in the user's locale.

Catalogs live in ``locales/<lang>/LC_MESSAGES/<feature>.po`` and are read as package resources, so
an installed wheel finds them as the checkout does; every file of a language is merged into one set
of translations. Source strings are English and are never shown when a catalog is
complete (``tests/test_catalogs.py`` fails otherwise).

Times are shown in one zone per process: the ``AUYLNET_TIMEZONE`` of the settings the application
was built with (``use_zone``), Asia/Almaty until then.

Usage in code: ``t._("Ticket {number} is open", number=...)``, ``t.n_("{n} report", "{n} reports",
count)``; strings defined before a user is known are marked with ``N_`` and translated later.
"""

from __future__ import annotations

import html
import io
from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

from bot.config import LANGUAGES, Language

ZONE = ZoneInfo("Asia/Almaty")
_shown_zone = ZONE
_Moment = datetime  # the method Translator.datetime shadows the type inside the class


def N_(message: str) -> str:
    """Mark a string for the catalog without translating it yet."""
    return message


class Safe(str):
    """Already-escaped HTML that a placeholder must not escape again."""

    __slots__ = ()


def catalog_files(language: Language) -> list[Traversable]:
    """The language's ``.po`` files inside the installed ``locales`` package, by name."""
    folder = resources.files("locales").joinpath(language, "LC_MESSAGES")
    if not folder.is_dir():
        return []
    return sorted((entry for entry in folder.iterdir() if entry.name.endswith(".po")), key=lambda e: e.name)


@cache
def translations(language: Language) -> Translations:
    """All catalogs of one language merged; compiled in memory, so no build step is needed."""
    merged: Translations | None = None
    files = catalog_files(language)
    if not files:
        # Without catalogs every resident would get the English source strings: stop instead.
        raise RuntimeError(
            f"no {language} catalogs in the installed package (locales/{language}/LC_MESSAGES)"
        )
    for po_path in files:
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=language)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)  # fuzzy entries are left out, so they fall back to English
        buffer.seek(0)
        loaded = Translations(fp=buffer)
        if merged is None:
            merged = loaded
        else:
            merged.merge(loaded)
    return merged if merged is not None else Translations()


class Translator:
    """Everything language-specific for one user: messages, plurals, dates, numbers."""

    def __init__(self, language: Language, zone: ZoneInfo = ZONE) -> None:
        self.language: Language = language
        self.zone = zone
        self._translations = translations(language)

    def _(self, message: str, /, **params: object) -> str:
        text = self._translations.gettext(message)
        return self._fill(text, params) if params else text

    def n_(self, singular: str, plural: str, n: int, /, **params: object) -> str:
        text = self._translations.ngettext(singular, plural, n)
        return self._fill(text, {"n": n, **params})

    def _fill(self, text: str, params: Mapping[str, object]) -> str:
        return text.format_map({key: self._render(value) for key, value in params.items()})

    def _render(self, value: object) -> str:
        if isinstance(value, Safe):
            return value
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, int | float):
            return self.number(value)
        if isinstance(value, _Moment):
            return self.datetime(value)
        if isinstance(value, date):
            return self.date(value)
        return html.escape(str(value), quote=False)

    def pick(self, names: Mapping[str, str]) -> str:
        """The entry of a {"kk": …, "ru": …} mapping for this language (data, not catalog text)."""
        return names.get(self.language) or next(iter(names.values()), "")

    def number(self, value: float, digits: int | None = None) -> str:
        if digits is not None:
            return format_decimal(value, format=f"#,##0.{'0' * digits}", locale=self.language)
        return format_decimal(value, locale=self.language)

    def date(self, value: date | _Moment, form: str = "long") -> str:
        if isinstance(value, _Moment):
            value = value.astimezone(self.zone).date()
        return format_date(value, form, locale=self.language)

    def datetime(self, value: _Moment, form: str = "d MMMM y, HH:mm") -> str:
        return format_datetime(value, form, tzinfo=self.zone, locale=self.language)

    def time(self, value: _Moment) -> str:
        return format_time(value, "HH:mm", tzinfo=self.zone, locale=self.language)


def use_zone(zone: ZoneInfo) -> None:
    """Show every time from now on in ``zone`` (the application calls this with its settings' zone)."""
    global _shown_zone
    _shown_zone = zone


def translator(language: Language) -> Translator:
    """The shared translator of a language, in the zone the application was configured with."""
    return _translator(language, _shown_zone)


@cache
def _translator(language: Language, zone: ZoneInfo) -> Translator:
    return Translator(language, zone)


def pick_language(telegram_code: str | None, default: Language) -> Language:
    """The language to suggest from Telegram's language_code."""
    if telegram_code:
        base = telegram_code.split("-")[0].lower()
        for language in LANGUAGES:
            if base == language:
                return language
        if base in {"uk", "be"}:
            return "ru"
    return default
