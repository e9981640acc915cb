"""Keyboards of the progress view."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import ui
from bot.i18n import Translator
from bot.stats.callbacks import StatsCb, pack_area
from db.stats import Place

HALF_LABEL = 24  # two buttons share a row


def area_buttons(
    t: Translator, places: Sequence[Place], make: type[StatsCb] = StatsCb
) -> list[list[InlineKeyboardButton]]:
    """Places as buttons, two to a row, sorted by name in the reader's language."""
    ordered = sorted(places, key=lambda place: place.name(t.language))
    buttons = [
        ui.button(ui.shorten(place.name(t.language), HALF_LABEL), make(area=pack_area(place.code)))
        for place in ordered
    ]
    return [buttons[index : index + 2] for index in range(0, len(buttons), 2)]


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
