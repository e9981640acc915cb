"""The delivery worker's place in the application, and the admins' view of it (/outbox)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.callbacks import CallbackData
from bot.context import BotContext
from bot.outbox import OutboxWorker
from db import outbox
from handlers.common import back_to_menu, button, keyboard, reply, requires

WORKER = "outbox_worker"


class RetryCb(CallbackData, prefix="obr"):
    confirm: bool = True


async def startup(app: Application) -> None:  # type: ignore[type-arg]
    services = app.bot_data
    worker = OutboxWorker(app.bot, services.db, services.config, services.clock)
    services.on_commit.append(worker.wake)
    app.bot_data.outbox = worker
    await worker.start()


async def shutdown(app: Application) -> None:  # type: ignore[type-arg]
    worker: OutboxWorker | None = getattr(app.bot_data, "outbox", None)
    if worker is not None:
        await worker.stop()


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
    context.services.committed()
    await query.answer(
        context.t.n_("{n} notification will be sent again.", "{n} notifications will be sent again.", count)
    )
    await outbox_status(update, context)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("outbox", outbox_status))
    app.add_handler(CallbackQueryHandler(retry_button, pattern=RetryCb.filter()))
