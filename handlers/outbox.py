"""The admins' view of notification delivery (/outbox)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot import ui
from bot.admin import service
from bot.admin.callbacks import RetryCb
from bot.admin.keyboards import make_outbox_keyboard
from bot.admin.service import AdminError
from bot.admin.texts import refusal
from bot.context import BotContext
from bot.flows import Flow, Handler


async def outbox_status(update: Update, context: BotContext) -> None:
    """/outbox: how notification delivery is going."""
    t = context.t
    try:
        delivery = await service.delivery_health(context.db, context.member, context.clock.now())
    except AdminError as error:
        await ui.refuse(update, context, refusal(t, error))
        return
    health = delivery.health
    lines = [
        t._("📬 <b>Notification delivery</b>"),
        t._("Waiting to be sent: {n}", n=health.pending),
        t._("Sent in the last hour: {n}", n=health.sent_last_hour),
        t._("Not delivered, waiting for an administrator: {n}", n=health.failed),
        t._("Dropped because the person blocked the bot: {n}", n=health.dropped),
        t._("People who blocked the bot: {n}", n=health.blocked_recipients),
    ]
    if health.oldest_pending_age is not None:
        minutes = int(health.oldest_pending_age.total_seconds() // 60)
        lines.append(
            t.n_(
                "The oldest one waiting was queued {n} minute ago.",
                "The oldest one waiting was queued {n} minutes ago.",
                minutes,
            )
        )
    if health.failed and not delivery.may_retry:
        lines.append(t._("Only an administrator of the whole country can send them again."))
    await ui.show(update, context, "\n".join(lines), make_outbox_keyboard(t, delivery))


async def retry_button(update: Update, context: BotContext, data: RetryCb) -> None:
    """«🔁 Send again»: the failed notifications go back into the queue; the view shows it."""
    t = context.t
    try:
        count = await service.retry_failed(context.db, context.member, context.clock.now())
    except AdminError as error:
        await ui.refuse(update, context, refusal(t, error))
        return
    await ui.notice(
        update, context, t.n_("{n} notification queued again.", "{n} notifications queued again.", count)
    )
    await outbox_status(update, context)


FLOWS: list[Flow] = []
HANDLERS: list[Handler] = [
    CommandHandler("outbox", outbox_status),
    ui.on_button(RetryCb, retry_button),
]
