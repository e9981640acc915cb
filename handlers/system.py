"""What runs around every feature: knowing the member, errors, and input nobody else handled."""

from __future__ import annotations

import contextlib
import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, CallbackQueryHandler, MessageHandler, filters

from bot import ui
from bot.context import BotContext
from bot.core import service, texts
from bot.core.callbacks import LanguageCb, MenuCb
from bot.core.keyboards import make_language_keyboard, make_main_menu
from bot.i18n import pick_language, translator
from db import users
from handlers.start import contact_of, language_prompt, suggested_language

log = logging.getLogger(__name__)

# What someone who asked to be forgotten may still do before choosing to use the bot again: start
# over, choose the language (the consent), and read what is kept.
_WHILE_ERASED_COMMANDS = frozenset({"/start", "/language", "/privacy"})
_WHILE_ERASED_BUTTONS = (MenuCb(item="privacy").pack(), MenuCb(item="language").pack())


async def load_member(update: Update, context: BotContext) -> None:
    """Know who is writing and in which language; write only when something changed.

    A person who deleted their data is known by id only until they choose a language again; anything
    else they send or press is answered with that question and goes no further.
    """
    user = update.effective_user
    if user is None or user.is_bot:
        return
    member = await service.know(
        context.db,
        contact_of(update),
        settings_admin=user.id in context.settings.admin_ids,
        now=context.clock.now(),
    )
    language = member.account.language or pick_language(user.language_code, context.settings.default_language)
    context.set_member(member, language)
    if member.account.erased and not _allowed_while_erased(update):
        await _ask_consent_again(update, context)
        raise ApplicationHandlerStop


def _allowed_while_erased(update: Update) -> bool:
    if update.callback_query is not None:
        data = update.callback_query.data
        return LanguageCb.parse(data) is not None or data in _WHILE_ERASED_BUTTONS
    message = update.effective_message
    text = message.text if message is not None and message.text else ""
    command = text.split(maxsplit=1)[0].split("@")[0] if text.startswith("/") else ""
    return command in _WHILE_ERASED_COMMANDS


async def _ask_consent_again(update: Update, context: BotContext) -> None:
    """The answer to anything but the allowed few: choose the language to use the bot again."""
    chat = update.effective_chat
    if chat is None or chat.type != "private":
        if update.callback_query is not None:  # a button in a group: a word on the button only
            await ui.refuse(update, context, context.t._(texts.ERASED_ASK_CONSENT))
        return
    suggested = suggested_language(update, context)
    before = [translator(suggested)._(texts.ERASED_ASK_CONSENT)]
    await ui.answer(update, context)
    await context.bot.send_message(
        chat.id, language_prompt(suggested, before), reply_markup=make_language_keyboard(suggested)
    )


async def on_error(update: object, context: BotContext) -> None:
    """Log first, then tell the person, in their language, that it did not work."""
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    try:
        # The error handler gets a fresh context: find the person's language again.
        if update.effective_user is not None and not context.has_member:
            async with context.db.read() as conn:
                account = await users.get_account(conn, update.effective_user.id)
            context.use_language(
                (account.language if account else None)
                or pick_language(update.effective_user.language_code, context.settings.default_language)
            )
        if update.callback_query is not None:
            # The handler may have answered the button already; a second answer fails, and that
            # must not keep the person from hearing what happened.
            with contextlib.suppress(TelegramError):
                await ui.answer(update, context)
        await context.bot.send_message(update.effective_chat.id, context.t._(texts.SOMETHING_WENT_WRONG))
    except Exception:  # the error handler must never raise itself
        log.exception("could not tell the user about the error")


async def unknown_command(update: Update, context: BotContext) -> None:
    """A command nobody handles."""
    await ui.show(update, context, context.t._(texts.UNKNOWN_COMMAND))


async def unexpected_text(update: Update, context: BotContext) -> None:
    """Text outside any flow: point to the buttons."""
    message = update.effective_message
    if message is None or update.effective_chat is None or update.effective_chat.type != "private":
        return
    t = context.t
    if message.text and len(message.text) > ui.MAX_FREE_TEXT:
        text = t._(texts.MESSAGE_TOO_LONG, length=len(message.text), limit=ui.MAX_FREE_TEXT)
    else:
        text = t._(texts.USE_THE_BUTTONS)
    await ui.show(update, context, text, make_main_menu(t, context.member))


async def unsupported_message(update: Update, context: BotContext) -> None:
    """Stickers, voice messages and the like."""
    if update.effective_chat is None or update.effective_chat.type != "private":
        return
    t = context.t
    await ui.show(update, context, t._(texts.ONLY_TEXT_AND_BUTTONS), make_main_menu(t, context.member))


# Last resort answers, added after every feature's handlers.
FALLBACKS = [
    MessageHandler(filters.COMMAND, unknown_command),
    MessageHandler(filters.TEXT & ~filters.COMMAND, unexpected_text),
    CallbackQueryHandler(ui.stale),
    MessageHandler(filters.ALL & ~filters.StatusUpdate.ALL, unsupported_message),
]
