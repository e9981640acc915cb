"""Keyboards of the progress view."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import ui
from bot.i18n import Translator
from bot.stats.callbacks import StatsCb, pack_area
from db.stats import Place

PAIR_LABEL = 15  # names up to this long fit two to a row on a phone; longer ones get a row each


def area_buttons(
    t: Translator, places: Sequence[Place], make: type[StatsCb] = StatsCb
) -> list[list[InlineKeyboardButton]]:
    """Places as buttons sorted by name in the reader's language: two to a row when the names are
    short, one to a row when they are not (so no name is cut)."""
    ordered = sorted(places, key=lambda place: place.name(t.language))
    return in_rows(
        [ui.button(ui.shorten(place.name(t.language)), make(area=pack_area(place.code))) for place in ordered]
    )


def in_rows(buttons: Sequence[InlineKeyboardButton]) -> list[list[InlineKeyboardButton]]:
    """Two to a row when every label is short, else one to a row (so no label is cut)."""
    per_row = 2 if all(len(button.text) <= PAIR_LABEL for button in buttons) else 1
    return [list(buttons[index : index + per_row]) for index in range(0, len(buttons), per_row)]


def make_progress_keyboard(
    t: Translator, children: Sequence[Place], parent: Place | None
) -> InlineKeyboardMarkup:
    rows = area_buttons(t, children)
    if parent is not None:
        up = t._("⬆️ {area}", area=parent.name(t.language))
        rows.append([ui.button(ui.shorten(up), StatsCb(area=pack_area(parent.code)))])
    return ui.keyboard(*rows, [ui.back_to_menu(t)])


def make_areas_keyboard(t: Translator, places: Sequence[Place]) -> InlineKeyboardMarkup:
    """The reader's own areas, when they have more than one."""
    return ui.keyboard(*area_buttons(t, places), [ui.back_to_menu(t)])
