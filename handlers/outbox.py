"""The admins' view of notification delivery (/outbox)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import ui
from bot.callbacks import CallbackData
from bot.context import BotContext
from bot.flows import Flow, Handler
from db import outbox
from handlers.common import back_to_menu, button, keyboard, reply, requires


class RetryCb(CallbackData, prefix="obr"):
    confirm: bool = True


@requires("admin")
async def outbox_status(update: Update, context: BotContext) -> None:
    """/outbox: how notification delivery is going."""
    t = context.t
    async with context.db.read() as conn:
        health = await outbox.queue_health(conn, context.clock.now())
    lines = [
        t._("<b>Notification delivery</b>"),
        t._("Waiting: {n}", n=health.pending),
        t._("Sent in the last hour: {n}", n=health.sent_last_hour),
        t._("Failed, waiting for an admin: {n}", n=health.failed),
        t._("Dropped (recipient blocked the bot): {n}", n=health.dropped),
        t._("People who blocked the bot: {n}", n=health.blocked_recipients),
    ]
    if health.oldest_pending_age is not None:
        minutes = int(health.oldest_pending_age.total_seconds() // 60)
        lines.append(
            t.n_(
                "The oldest waiting one is {n} minute old.",
                "The oldest waiting one is {n} minutes old.",
                minutes,
            )
        )
    rows = [[button(t._("🔁 Retry the failed ones"), RetryCb())]] if health.failed else []
    await reply(update, context, "\n".join(lines), keyboard(*rows, [back_to_menu(t)]))


@requires("admin")
async def retry_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    async with context.db.transaction() as tx:
        count = await outbox.retry_failed(tx, context.clock.now())
    await ui.answer(
        update,
        context,
        context.t.n_("{n} notification will be sent again.", "{n} notifications will be sent again.", count),
    )
    await outbox_status(update, context)


FLOWS: list[Flow] = []
HANDLERS: list[Handler] = [
    CommandHandler("outbox", outbox_status),
    CallbackQueryHandler(retry_button, pattern=RetryCb.filter()),
]
