"""Answering with a photo or a file: a chart, an export, a person's data.

Like ``bot.ui.send``, a reply keyboard the bot left under the person's text field goes away with
this answer instead of with a message of its own.
"""

from __future__ import annotations

from contextlib import suppress

from telegram import InlineKeyboardMarkup, InputFile, Message, ReplyKeyboardRemove, Update
from telegram.error import BadRequest

from bot.context import BotContext
from db import users


async def send_photo(
    update: Update, context: BotContext, png: bytes, caption: str, markup: InlineKeyboardMarkup | None
) -> Message | None:
    chat = update.effective_chat
    if chat is None:
        return None
    if not _keyboard_to_remove(context, chat.id):
        return await context.bot.send_photo(chat.id, png, caption=caption, reply_markup=markup)
    sent = await context.bot.send_photo(chat.id, png, caption=caption, reply_markup=ReplyKeyboardRemove())
    return await _after_removal(context, sent, markup)


async def send_document(
    update: Update,
    context: BotContext,
    data: bytes,
    filename: str,
    caption: str,
    markup: InlineKeyboardMarkup | None = None,
) -> Message | None:
    chat = update.effective_chat
    if chat is None:
        return None
    document = InputFile(data, filename=filename)
    if not _keyboard_to_remove(context, chat.id):
        return await context.bot.send_document(chat.id, document, caption=caption, reply_markup=markup)
    sent = await context.bot.send_document(
        chat.id, document, caption=caption, reply_markup=ReplyKeyboardRemove()
    )
    return await _after_removal(context, sent, markup)


async def replace_pressed(update: Update, context: BotContext, sent: Message | None) -> None:
    """The pressed message gives way to the new one: a chart replaced by the chart of another area."""
    query = update.callback_query
    pressed = query.message if query is not None else None
    if sent is None or not isinstance(pressed, Message) or pressed.message_id == sent.message_id:
        return
    with suppress(BadRequest):  # already gone, or too old to delete: it simply stays
        await pressed.delete()


def _keyboard_to_remove(context: BotContext, chat_id: int) -> bool:
    return context.reply_keyboard_shown and context.has_member and chat_id == context.member.id


async def _after_removal(context: BotContext, sent: Message, markup: InlineKeyboardMarkup | None) -> Message:
    async with context.db.transaction() as tx:
        await users.set_reply_keyboard(tx, context.member.id, shown=False)
    context.reply_keyboard_shown = False
    if markup is not None:
        # A message carries one kind of keyboard: the buttons follow as an edit of the same message.
        edited = await sent.edit_reply_markup(markup)
        if isinstance(edited, Message):
            return edited
    return sent
