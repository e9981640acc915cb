"""Small pieces every feature's handlers share: role checks, replies, menu callback data."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import ConversationHandler

from bot.callbacks import CallbackData
from bot.context import BotContext
from bot.i18n import N_, Translator
from db import drafts
from db.models import Role

Handler = Callable[[Update, BotContext], Awaitable[Any]]
H = TypeVar("H", bound=Handler)

# Telegram allows 4096 characters; a description or name typed by a resident is kept far shorter.
MAX_FREE_TEXT = 1000


class MenuCb(CallbackData, prefix="menu"):
    """A main-menu entry; each feature module handles its own items."""

    item: str


ROLE_NAMES: dict[str, str] = {
    "resident": N_("resident"),
    "trainer": N_("trainer"),
    "staff": N_("field staff"),
    "admin": N_("administrator"),
}


def button(label: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=data.pack())


def back_to_menu(t: Translator) -> InlineKeyboardButton:
    return button(t._("⬅️ Menu"), MenuCb(item="main"))


def keyboard(*rows: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([list(row) for row in rows if row])


async def reply(
    update: Update,
    context: BotContext,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    *,
    edit: bool = False,
) -> Message | None:
    """Answer in the update's chat; with ``edit``, replace the pressed message instead."""
    query = update.callback_query
    if edit and query is not None and isinstance(query.message, Message):
        try:
            result = await query.message.edit_text(text, reply_markup=markup)
        except BadRequest as error:
            if "not modified" not in str(error):
                raise
            return query.message
        return result if isinstance(result, Message) else None
    chat = update.effective_chat
    if chat is None:
        return None
    return await context.bot.send_message(chat.id, text, reply_markup=markup)


async def refuse(update: Update, context: BotContext, text: str) -> None:
    """Say no: as a callback answer for a button, as a message for a command."""
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    else:
        await reply(update, context, text)


def requires(role: Role) -> Callable[[H], H]:
    """Check the role on the server before the handler runs; refuse politely otherwise."""

    def decorate(handler: H) -> H:
        @functools.wraps(handler)
        async def checked(update: Update, context: BotContext) -> Any:
            if not context.has_member or not context.member.can(role):
                t = context.t
                await refuse(
                    update,
                    context,
                    t._(
                        "Sorry, this is only for the {role} role.",
                        role=t._(ROLE_NAMES[role]),
                    ),
                )
                return ConversationHandler.END
            return await handler(update, context)

        return checked  # type: ignore[return-value]

    return decorate


def village_choices(
    context: BotContext, typed: str, choose: Callable[[str], CallbackData], *, role: Role | None = None
) -> list[list[InlineKeyboardButton]]:
    """Buttons for the villages closest to what was typed ("Name — district, region").

    With ``role``, only villages in the member's area for that role are offered.
    """
    t = context.t
    matches = context.services.villages.search(typed[:MAX_FREE_TEXT], limit=5)
    found = [m.place for m in matches if role is None or context.member.can(role, m.place.code)]
    return [
        [
            button(
                t._("{village} — {where}", village=p.name(t.language), where=p.where(t.language))[:60],
                choose(p.code),
            )
        ]
        for p in found
    ]


async def update_draft(context: BotContext, flow: str, **changes: Any) -> dict[str, Any]:
    """The member's draft for ``flow`` with ``changes`` merged in (and saved)."""
    async with context.db.transaction() as tx:
        return await drafts.update_draft(tx, context.member.id, flow, changes, context.clock.now())


async def cancel_flow(update: Update, context: BotContext) -> int:
    """/cancel (or a Cancel button) inside any multi-step flow."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    await reply(update, context, context.t._("Cancelled."), keyboard([back_to_menu(context.t)]))
    return ConversationHandler.END


async def answer_the_question(update: Update, context: BotContext) -> None:
    """Something other than what a flow's current step asks for."""
    await reply(update, context, context.t._("Please answer the question above, or press Cancel."))


def step_filter(prefix: str, step: str) -> Callable[[object], bool]:
    """A CallbackQueryHandler pattern for one step of a flow's typed callback data."""
    head = f"{prefix}:{step}:"
    return lambda data: isinstance(data, str) and data.startswith(head)


async def stale_button(update: Update, context: BotContext) -> None:
    """Answer a button whose data is out of date or was never ours."""
    if update.callback_query is not None:
        await update.callback_query.answer(
            context.t._("This button is out of date. Open /menu again."), show_alert=True
        )
