"""/mydata: the person gets a file with everything AuylNet keeps about them."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.context import BotContext
from bot.core.callbacks import MenuCb
from bot.flows import Flow, Handler
from bot.mydata import service
from bot.stats import delivery


async def my_data(update: Update, context: BotContext) -> None:
    """/mydata and «📦 My data as a file»."""
    t = context.t
    now = context.clock.now()
    found = await service.collect(context.db, context.member.id, t.language, now)
    if found is None:  # pragma: no cover - load_member has just recorded the person
        return
    caption = t._(
        "📦 Everything AuylNet keeps about you, as of {date}. Only you got this file. /privacy tells"
        " what we keep and why, and how to delete it.",
        date=t.date(now),
    )
    await delivery.send_document(update, context, service.as_file(found), "auylnet-my-data.json", caption)


FLOWS: list[Flow] = []
HANDLERS: list[Handler] = [
    CommandHandler("mydata", my_data),
    CallbackQueryHandler(my_data, pattern=lambda data: MenuCb.parse(data) == MenuCb(item="mydata")),
]
