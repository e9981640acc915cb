"""Answering people: buttons, keyboards, and the one answer every update gets.

The rules every handler follows through these functions:

* a tap gets one answer: the pressed message edited in place (:func:`show`), or one new message,
  or a short notice on the button (:func:`notice`); an edit that would change nothing is not sent;
* a pressed button whose handler edited nothing and said nothing is answered anyway when the
  handler returns (:func:`settle`), so no button is left spinning;
* a reply keyboard the bot showed (the «📍 Share my location» button) is taken away by the next
  answer, not by a message of its own.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable, Coroutine, Sequence
from contextlib import suppress
from typing import Any, TypeVar

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest, TelegramError
from telegram.ext import CallbackQueryHandler, ConversationHandler

from bot.callbacks import CallbackData
from bot.context import BotContext
from bot.core import texts
from bot.core.callbacks import FlowCb, MenuCb
from bot.i18n import Translator
from db import users
from db.models import Role

C = TypeVar("C", bound=CallbackData)
R = TypeVar("R")
Callback = Callable[[Update, BotContext], Coroutine[Any, Any, Any]]

# Telegram counts 4096 characters; a description or name typed by a person is kept far shorter.
MAX_FREE_TEXT = 1000
MAX_TEXT = 4096
MAX_LABEL = 40
_TAG = re.compile(r"<[^>]+>")


def source_key(update: Update) -> str:
    """What a change made by this update is recorded under, so that the update delivered again
    changes nothing twice: the press, or the message (its chat and id)."""
    if update.callback_query is not None:
        return f"callback:{update.callback_query.id}"
    message = update.effective_message
    if message is not None:
        return f"message:{message.chat_id}:{message.message_id}"
    return f"update:{update.update_id}"


def button(label: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=data.pack())


def keyboard(*rows: Sequence[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([list(row) for row in rows if row])


def back_to_menu(t: Translator) -> InlineKeyboardButton:
    return button(t._("⬅️ Menu"), MenuCb(item="main"))


def cancel_button(t: Translator) -> InlineKeyboardButton:
    return button(t._("✖️ Cancel"), FlowCb())


def shorten(label: str, limit: int = MAX_LABEL) -> str:
    """A label that fits a phone: cut at a word boundary, with an ellipsis, never mid-word."""
    if len(label) <= limit:
        return label
    cut = label[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:—-") + "…"


def fit(lines: Sequence[str], limit: int = MAX_TEXT, more: str = "…") -> str:
    """Join lines into a message no longer than Telegram allows, dropping whole lines from the end."""
    text = "\n".join(lines)
    if len(text) <= limit:
        return text
    kept: list[str] = []
    size = len(more) + 1
    for line in lines:
        if size + len(line) + 1 > limit:
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join([*kept, more])


def plain(text_html: str) -> str:
    """What Telegram shows of our HTML: the text without tags, entities unescaped."""
    return html.unescape(_TAG.sub("", text_html))


def _markup_of(message: Message) -> dict[str, Any] | None:
    return message.reply_markup.to_dict() if message.reply_markup else None


def unchanged(message: Message, text: str, markup: InlineKeyboardMarkup | None) -> bool:
    """Whether editing ``message`` to ``text`` and ``markup`` would show the same thing again."""
    if (message.text or message.caption or "") != plain(text).strip():
        return False
    return _markup_of(message) == (markup.to_dict() if markup else None)


async def show(
    update: Update,
    context: BotContext,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    *,
    new: bool = False,
) -> Message | None:
    """The answer to this update: a pressed message is edited in place, otherwise a new message.

    ``new`` sends a new message even for a tap (the pressed message stays as it was).
    """
    query = update.callback_query
    message = query.message if query is not None else None
    if new or context.reply_keyboard_shown or not isinstance(message, Message) or message.text is None:
        return await _send(update, context, text, markup)
    if unchanged(message, text, markup):
        return message  # the same again: nothing to send; settle() answers the button
    try:
        edited = await message.edit_text(text, reply_markup=markup)
    except BadRequest as error:
        if "not modified" in error.message.lower():
            return message
        if not _cannot_edit(error):
            raise
        return await _send(update, context, text, markup)
    context.settled = True
    return edited if isinstance(edited, Message) else message


def _cannot_edit(error: BadRequest) -> bool:
    text = error.message.lower()
    return "message to edit not found" in text or "can't be edited" in text or "there is no text" in text


async def _send(
    update: Update, context: BotContext, text: str, markup: InlineKeyboardMarkup | None
) -> Message | None:
    chat = update.effective_chat
    if chat is None:
        return None
    return await send(context, chat.id, text, markup)


async def send(
    context: BotContext, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None
) -> Message:
    """A new message; when this person still has a reply keyboard of ours, it goes with this one."""
    if not (context.reply_keyboard_shown and context.has_member and chat_id == context.member.id):
        return await context.bot.send_message(chat_id, text, reply_markup=markup)
    sent = await context.bot.send_message(chat_id, text, reply_markup=ReplyKeyboardRemove())
    await _forget_reply_keyboard(context)
    if markup is not None:
        # A message carries one kind of keyboard: the buttons follow as an edit of the same message.
        edited = await sent.edit_reply_markup(markup)
        if isinstance(edited, Message):
            return edited
    return sent


async def ask_with_reply_keyboard(
    update: Update, context: BotContext, text: str, markup: ReplyKeyboardMarkup
) -> None:
    """A question whose answer is a button under the text field (a location, a phone number)."""
    chat = update.effective_chat
    if chat is None:
        return
    await context.bot.send_message(chat.id, text, reply_markup=markup)
    if context.has_member and chat.id == context.member.id:
        async with context.db.transaction() as tx:
            await users.set_reply_keyboard(tx, context.member.id, shown=True)
        context.reply_keyboard_shown = True


async def _forget_reply_keyboard(context: BotContext) -> None:
    async with context.db.transaction() as tx:
        await users.set_reply_keyboard(tx, context.member.id, shown=False)
    context.reply_keyboard_shown = False


async def notice(update: Update, context: BotContext, text: str, *, alert: bool = False) -> None:
    """A short word: on the pressed button (as a toast, or an alert to dismiss), else as a message."""
    query = update.callback_query
    if query is None:
        await _send(update, context, text, None)
        return
    context.settled = True
    with suppress(BadRequest):  # too old to answer: the person pressed it long ago
        await query.answer(text[:200], show_alert=alert)


async def answer(
    update: Update, context: BotContext, text: str | None = None, *, show_alert: bool = False
) -> None:
    """Answer the pressed button now (with a short text, if any); prefer :func:`show` or :func:`notice`."""
    query = update.callback_query
    if query is None:
        return
    context.settled = True
    with suppress(BadRequest):
        await query.answer(text[:200] if text else None, show_alert=show_alert)


async def refuse(update: Update, context: BotContext, text: str) -> None:
    """Say no, with the reason: an alert on a button, a message for a command or typed text."""
    await notice(update, context, text, alert=True)


async def stale(update: Update, context: BotContext) -> None:
    """A button whose data is out of date, forged, or was never ours."""
    await refuse(update, context, context.t._(texts.STALE_BUTTON))


async def answer_the_question(update: Update, context: BotContext) -> None:
    """Something other than what the current step of a flow asks for."""
    await refuse(update, context, context.t._(texts.ANSWER_THE_QUESTION))


def settle(callback: Callback) -> Callback:
    """Run a handler; answer its button afterwards if it neither edited the message nor said anything."""

    @functools.wraps(callback)
    async def settled(update: Update, context: BotContext) -> Any:
        try:
            return await callback(update, context)
        finally:
            query = update.callback_query if isinstance(update, Update) else None
            if query is not None and not context.settled:
                context.settled = True
                with suppress(TelegramError):
                    await query.answer()

    return settled


def on_button(
    kind: type[C],
    callback: Callable[[Update, BotContext, C], Coroutine[Any, Any, R]],
    *,
    when: Callable[[C], bool] | None = None,
) -> CallbackQueryHandler[BotContext, R | None]:
    """A handler for one kind of button: the data arrives parsed and typed.

    With ``when``, only buttons whose data satisfies it are taken (one step of a flow); a button of
    this kind whose data does not parse is answered as out of date.
    """

    async def parsed(update: Update, context: BotContext) -> R | None:
        data = kind.parse(update.callback_query.data if update.callback_query else None)
        if data is None:
            await stale(update, context)
            return None
        return await callback(update, context, data)

    if when is None:
        return CallbackQueryHandler(parsed, pattern=kind.filter())
    check = when

    def matches(raw: object) -> bool:
        data = kind.parse(raw)
        return data is not None and check(data)

    return CallbackQueryHandler(parsed, pattern=matches)


def requires(role: Role) -> Callable[[Callback], Callback]:
    """A first gate: the person holds ``role`` somewhere. Rules check the area of each action."""

    def decorate(handler: Callback) -> Callback:
        @functools.wraps(handler)
        async def checked(update: Update, context: BotContext) -> Any:
            if not context.has_member or not context.member.holds(role):
                t = context.t
                await refuse(update, context, t._(texts.ONLY_FOR_ROLE, role=t._(texts.ROLE_NAMES[role])))
                return ConversationHandler.END
            return await handler(update, context)

        return checked

    return decorate
