"""What runs around every feature: knowing the member, errors, and input nobody else handled."""

from __future__ import annotations

import contextlib
import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot import ui
from bot.context import BotContext
from bot.i18n import pick_language
from bot.roles import Member
from db import users
from handlers.common import MAX_FREE_TEXT, reply, stale_button
from handlers.menu import make_main_menu

log = logging.getLogger(__name__)


async def load_member(update: Update, context: BotContext) -> None:
    """Know who is writing and in which language; write only when something changed."""
    user = update.effective_user
    if user is None or user.is_bot:
        return
    now = context.clock.now()
    async with context.db.read() as conn:
        account = await users.get_account(conn, user.id)
        grants = await users.roles_of(conn, user.id) if account else []
    if users.needs_refresh(
        account,
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        telegram_language=user.language_code,
        now=now,
    ):
        async with context.db.transaction() as tx:
            account = await users.record_contact(
                tx,
                user_id=user.id,
                first_name=user.first_name,
                last_name=user.last_name,
                username=user.username,
                telegram_language=user.language_code,
                now=now,
            )
    assert account is not None
    member = Member(account, tuple(grants), settings_admin=user.id in context.settings.admin_ids)
    language = account.language or pick_language(user.language_code, context.settings.default_language)
    context.set_member(member, language)


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
        await context.bot.send_message(
            update.effective_chat.id,
            context.t._("Sorry, something went wrong. Please try again in a minute."),
        )
    except Exception:  # the error handler must never raise itself
        log.exception("could not tell the user about the error")


async def unknown_command(update: Update, context: BotContext) -> None:
    """A command nobody handles."""
    t = context.t
    await reply(update, context, t._("I don't know this command. See /help or use the menu."))


async def unexpected_text(update: Update, context: BotContext) -> None:
    """Text outside any flow: point to the buttons."""
    message = update.effective_message
    if message is None or update.effective_chat is None or update.effective_chat.type != "private":
        return
    t = context.t
    if message.text and len(message.text) > MAX_FREE_TEXT:
        text = t._(
            "Your message is too long ({length} characters). Please keep it under {limit}.",
            length=len(message.text),
            limit=MAX_FREE_TEXT,
        )
    else:
        text = t._("Please use the buttons. What would you like to do?")
    await reply(update, context, text, make_main_menu(t, context.member))


async def unsupported_message(update: Update, context: BotContext) -> None:
    """Stickers, voice messages and the like."""
    if update.effective_chat is None or update.effective_chat.type != "private":
        return
    t = context.t
    await reply(
        update,
        context,
        t._("I can only read text and buttons here. Please use the menu."),
        make_main_menu(t, context.member),
    )


# Last resort answers, added after every feature's handlers.
FALLBACKS = [
    MessageHandler(filters.COMMAND, unknown_command),
    MessageHandler(filters.TEXT & ~filters.COMMAND, unexpected_text),
    CallbackQueryHandler(stale_button),
    MessageHandler(filters.ALL & ~filters.StatusUpdate.ALL, unsupported_message),
]
