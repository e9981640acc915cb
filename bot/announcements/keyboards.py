"""Keyboards of writing an announcement and of its delivery summary."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import ui
from bot.announcements import texts
from bot.announcements.callbacks import AUDIENCES, AreaCb, AudienceCb, SameTextCb, SendCb, SummaryCb
from bot.i18n import Translator
from bot.stats.callbacks import pack_area
from bot.stats.keyboards import in_rows
from db.stats import Place

# Telegram allows 100 buttons; a district's okrugs and villages stay well under it, typing finds the rest.
MAX_PARTS = 60


def make_same_text_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return ui.keyboard([ui.button(t._("↔️ The same text in Russian"), SameTextCb())], [ui.cancel_button(t)])


def make_cancel_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return ui.keyboard([ui.cancel_button(t)])


def make_areas_keyboard(
    t: Translator, whole: Place | None, parts: Sequence[Place], up: Place | None
) -> InlineKeyboardMarkup:
    """«📢 All of …» sends to the whole area; a part opens (a village is chosen at once)."""
    rows: list[list[InlineKeyboardButton]] = []
    if whole is not None:
        label = t._("📢 All: {area}", area=whole.name(t.language))
        rows.append([ui.button(ui.shorten(label), AreaCb(area=pack_area(whole.code), pick=True))])
    buttons = [
        ui.button(
            ui.shorten(place.name(t.language)),
            AreaCb(area=pack_area(place.code), pick=place.level == "village"),
        )
        for place in sorted(parts, key=lambda place: place.name(t.language))
    ]
    rows += in_rows(buttons[:MAX_PARTS])
    if up is not None:
        label = ui.shorten(t._("⬆️ {area}", area=up.name(t.language)))
        rows.append([ui.button(label, AreaCb(area=pack_area(up.code)))])
    rows.append([ui.cancel_button(t)])
    return ui.keyboard(*rows)


def make_found_keyboard(t: Translator, villages: Sequence[tuple[str, str]]) -> InlineKeyboardMarkup:
    """Villages found by a typed name: (code, "name — district") each."""
    rows = [[ui.button(ui.shorten(label), AreaCb(area=code, pick=True))] for code, label in villages]
    rows.append([ui.button(t._("🔎 Choose from the list"), AreaCb())])
    rows.append([ui.cancel_button(t)])
    return ui.keyboard(*rows)


def make_audience_keyboard(t: Translator, chosen: Sequence[str]) -> InlineKeyboardMarkup:
    rows = [
        [
            ui.button(
                ("✅ " if audience in chosen else "⬜ ") + t._(texts.AUDIENCE_NAMES[audience]),
                AudienceCb(audience=audience),
            )
        ]
        for audience in AUDIENCES
    ]
    rows.append([ui.button(t._("Next ➡️"), AudienceCb())])
    rows.append([ui.cancel_button(t)])
    return ui.keyboard(*rows)


def make_preview_keyboard(t: Translator, recipients: int) -> InlineKeyboardMarkup:
    send = t.n_("📢 Send to {n} person", "📢 Send to {n} people", recipients)
    return ui.keyboard(
        [ui.button(send, SendCb(action="send"))],
        [ui.button(t._("✏️ Write again"), SendCb(action="again"))],
        [ui.cancel_button(t)],
    )


def make_summary_keyboard(t: Translator, announcement_id: int) -> InlineKeyboardMarkup:
    return ui.keyboard(
        [ui.button(t._("🔄 Refresh"), SummaryCb(id=announcement_id))],
        [ui.back_to_menu(t)],
    )
