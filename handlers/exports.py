"""/export: an administrator picks what, where and when, and gets a CSV or XLSX file."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import ui
from bot.context import BotContext
from bot.core.callbacks import MenuCb
from bot.exports import service, texts
from bot.exports.callbacks import ExportCb
from bot.exports.keyboards import (
    make_areas_keyboard,
    make_formats_keyboard,
    make_kinds_keyboard,
    make_periods_keyboard,
)
from bot.exports.service import ExportError, Request, period_of
from bot.flows import Flow, Handler
from bot.stats import delivery
from bot.stats.callbacks import unpack_area


@ui.requires("admin")
async def export(update: Update, context: BotContext) -> None:
    """/export and «📤 Export»: first, what to export."""
    t = context.t
    await ui.show(update, context, t._("📤 What would you like to export?"), make_kinds_keyboard(t))


async def step(update: Update, context: BotContext, data: ExportCb) -> None:
    """One step of the chooser; each checks the member's area again."""
    t = context.t
    try:
        if data.step == "kind" or data.kind is None:
            await export(update, context)
        elif data.step == "area":
            area = unpack_area(data.area) if data.area is not None else None
            choice = await service.area_choice(context.db, context.member, area)
            title = t._("📤 {what}: which area?", what=t._(texts.KIND_NAMES[data.kind]))
            await ui.show(
                update, context, title, make_areas_keyboard(t, data.kind, choice.whole, choice.parts)
            )
        elif data.area is None:
            await ui.stale(update, context)
        elif data.step == "period":
            await _ask(
                update, context, data, t._("📤 Which period?"), make_periods_keyboard(t, data.kind, data.area)
            )
        elif data.step == "format":
            await _ask(update, context, data, t._("📤 Which file?"), make_formats_keyboard(t, data))
        else:
            await _send_file(update, context, data)
    except ExportError as error:
        await ui.refuse(update, context, t._(texts.ERRORS[error.code]))


async def _ask(update: Update, context: BotContext, data: ExportCb, question: str, markup: object) -> None:
    request = _request(context, data)
    service.check(context.member, request)
    place = await service.place_of(context.db, request.area)
    if place is None:
        raise ExportError("unknown_area")
    t = context.t
    lines = [
        question,
        "",
        t._("{what}, {area}", what=t._(texts.KIND_NAMES[request.kind]), area=place.name(t.language)),
    ]
    if data.period is not None and request.kind not in service.SNAPSHOTS:
        lines[-1] += ", " + t._(texts.PERIOD_NAMES[data.period]).lower()
    await ui.show(update, context, "\n".join(lines), markup)  # type: ignore[arg-type]


def _request(context: BotContext, data: ExportCb) -> Request:
    assert data.kind is not None and data.area is not None
    today = context.clock.now().astimezone(context.settings.zone).date()
    return Request(
        kind=data.kind,
        area=unpack_area(data.area),
        period=period_of(data.period or "all", today),
        personal=data.personal,
        fmt=data.fmt or "xlsx",
    )


async def _send_file(update: Update, context: BotContext, data: ExportCb) -> None:
    t = context.t
    request = _request(context, data)
    made = await service.export_for(
        context.db, context.member, request, t.language, context.settings.timezone
    )
    caption = t.n_(
        "{what}, {area}: {n} row.",
        "{what}, {area}: {n} rows.",
        made.rows,
        what=t._(texts.KIND_NAMES[request.kind]),
        area=made.place.name(t.language),
    )
    if request.personal:
        caption += "\n" + t._("🔒 Contains personal data: keep it safe and do not forward it.")
    await delivery.send_document(update, context, made.content, request.filename(), caption)


FLOWS: list[Flow] = []
HANDLERS: list[Handler] = [
    CommandHandler("export", export),
    CallbackQueryHandler(export, pattern=lambda data: MenuCb.parse(data) == MenuCb(item="export")),
    ui.on_button(ExportCb, step),
]
