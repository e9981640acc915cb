"""/stats: progress of the reader's area as a chart with the figures as its caption."""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import ui
from bot.context import BotContext
from bot.core.callbacks import MenuCb
from bot.flows import Flow, Handler
from bot.stats import delivery, offload, service, texts
from bot.stats.callbacks import StatsCb, unpack_area
from bot.stats.chart import render_png
from bot.stats.keyboards import make_areas_keyboard, make_progress_keyboard
from bot.stats.service import StatsError


async def stats(update: Update, context: BotContext) -> None:
    """/stats and «📊 Progress»: the reader's area, or a choice when they cover several."""
    t = context.t
    try:
        areas = await service.my_areas(context.db, context.member)
    except StatsError as error:
        await ui.refuse(update, context, texts.error_text(t, error.code))
        return
    if len(areas) == 1:
        await show_progress(update, context, areas[0].code)
        return
    await ui.show(update, context, t._("📊 Which area?"), make_areas_keyboard(t, areas))


async def area_pressed(update: Update, context: BotContext, data: StatsCb) -> None:
    """A part of the area (or the area above): its chart replaces the one pressed."""
    await show_progress(update, context, unpack_area(data.area))


async def show_progress(update: Update, context: BotContext, area: str) -> None:
    t = context.t
    try:
        progress = await service.progress(
            context.db, context.member, area, context.settings, context.clock.now()
        )
    except StatsError as error:
        await ui.refuse(update, context, texts.error_text(t, error.code))
        return
    png = await offload.run(render_png, texts.chart_for(t, progress))
    markup = make_progress_keyboard(t, progress.children, progress.parent)
    sent = await delivery.send_photo(update, context, png, texts.progress_text(t, progress), markup)
    query = update.callback_query
    if query is not None and isinstance(query.message, Message) and query.message.photo:
        await delivery.replace_pressed(update, context, sent)


FLOWS: list[Flow] = []
HANDLERS: list[Handler] = [
    CommandHandler("stats", stats),
    CallbackQueryHandler(stats, pattern=lambda data: MenuCb.parse(data) == MenuCb(item="stats")),
    ui.on_button(StatsCb, area_pressed),
]
