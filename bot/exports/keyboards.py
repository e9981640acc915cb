"""Keyboards of the export chooser: what, where, when, which file."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardMarkup

from bot import ui
from bot.exports import texts
from bot.exports.callbacks import ExportCb
from bot.exports.service import KINDS, PERIOD_CHOICES, SNAPSHOTS, Kind, has_personal_columns
from bot.i18n import Translator
from bot.stats.callbacks import pack_area
from bot.stats.keyboards import in_rows
from db.stats import Place


def make_kinds_keyboard(t: Translator) -> InlineKeyboardMarkup:
    buttons = [ui.button(t._(texts.KIND_NAMES[kind]), ExportCb(step="area", kind=kind)) for kind in KINDS]
    return ui.keyboard(
        *[buttons[index : index + 2] for index in range(0, len(buttons), 2)], [ui.back_to_menu(t)]
    )


def after_area(kind: Kind, area: str) -> ExportCb:
    """The step after the area: the period, or the file for what has no period."""
    if kind in SNAPSHOTS:
        return ExportCb(step="format", kind=kind, area=pack_area(area), period="all")
    return ExportCb(step="period", kind=kind, area=pack_area(area))


def make_areas_keyboard(
    t: Translator, kind: Kind, whole: Place | None, parts: Sequence[Place]
) -> InlineKeyboardMarkup:
    """«✅ All of …» for the area itself; its parts either chosen at once (districts) or opened
    (a region, from the whole country)."""
    rows = []
    if whole is not None:
        label = t._("✅ All: {area}", area=whole.name(t.language))
        rows.append([ui.button(ui.shorten(label), after_area(kind, whole.code))])
    buttons = [
        ui.button(
            ui.shorten(place.name(t.language)),
            after_area(kind, place.code)
            if place.level in ("district", "okrug", "village")
            else ExportCb(step="area", kind=kind, area=pack_area(place.code)),
        )
        for place in sorted(parts, key=lambda place: place.name(t.language))
    ]
    rows += in_rows(buttons)
    rows.append([ui.button(t._("⬅️ Back"), ExportCb(step="kind")), ui.back_to_menu(t)])
    return ui.keyboard(*rows)


def make_periods_keyboard(t: Translator, kind: Kind, area: str) -> InlineKeyboardMarkup:
    buttons = [
        ui.button(
            t._(texts.PERIOD_NAMES[choice]), ExportCb(step="format", kind=kind, area=area, period=choice)
        )
        for choice in PERIOD_CHOICES
    ]
    return ui.keyboard(
        buttons[:2],
        buttons[2:4],
        buttons[4:],
        [ui.button(t._("⬅️ Back"), ExportCb(step="area", kind=kind)), ui.back_to_menu(t)],
    )


def make_formats_keyboard(t: Translator, data: ExportCb) -> InlineKeyboardMarkup:
    assert data.kind is not None

    def file(fmt: str, personal: bool) -> ExportCb:
        return data.model_copy(update={"step": "file", "fmt": fmt, "personal": personal})

    rows = [[ui.button("📗 Excel (XLSX)", file("xlsx", False)), ui.button("📄 CSV", file("csv", False))]]
    if has_personal_columns(data.kind):
        rows.append([ui.button(t._("📗 XLSX with personal data"), file("xlsx", True))])
        rows.append([ui.button(t._("📄 CSV with personal data"), file("csv", True))])
    back = (
        ExportCb(step="period", kind=data.kind, area=data.area)
        if data.kind not in SNAPSHOTS
        else (ExportCb(step="area", kind=data.kind))
    )
    rows.append([ui.button(t._("⬅️ Back"), back), ui.back_to_menu(t)])
    return ui.keyboard(*rows)
