"""First contact: /start (with an invite link or without), choosing the language, the settings screen."""

from __future__ import annotations

import logging

from telegram import BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler

from bot import ui
from bot.admin import service as admin
from bot.admin.service import INVITE_PREFIX, InviteUse
from bot.admin.texts import area_name, role_name
from bot.config import LANGUAGES, Language
from bot.context import BotContext
from bot.core import service, texts
from bot.core.callbacks import LanguageCb, MenuCb
from bot.core.keyboards import (
    make_command_menu,
    make_language_keyboard,
    make_main_menu,
    make_settings_keyboard,
)
from bot.flows import Flow, Handler
from bot.i18n import Translator, pick_language, translator
from bot.roles import InviteOutcome

log = logging.getLogger(__name__)


def contact_of(update: Update) -> service.Contact:
    user = update.effective_user
    assert user is not None
    return service.Contact(user.id, user.first_name, user.last_name, user.username, user.language_code)


def suggested_language(update: Update, context: BotContext) -> Language:
    user = update.effective_user
    return pick_language(user.language_code if user else None, context.settings.default_language)


def both_languages(suggested: Language) -> tuple[Language, Language]:
    """The suggested language first, then the other one."""
    return (suggested, "ru" if suggested == "kk" else "kk")


def language_prompt(suggested: Language, before: list[str] | None = None) -> str:
    """The question in both languages, the suggested one first, with what continuing means."""
    lines = [*before, ""] if before else []
    lines += [translator(code)._(texts.CHOOSE_LANGUAGE) for code in both_languages(suggested)]
    lines += ["", *(translator(code)._(texts.CONSENT) for code in both_languages(suggested))]
    return "\n".join(lines)


async def ask_language(update: Update, context: BotContext, before: list[str] | None = None) -> None:
    """Offer both languages, the one Telegram suggests first; the prompt is in both."""
    suggested = suggested_language(update, context)
    await ui.show(update, context, language_prompt(suggested, before), make_language_keyboard(suggested))


async def start(update: Update, context: BotContext) -> None:
    """/start: use an invite if the link carried one, then ask the language or show the menu."""
    t = context.t
    if context.member.account.erased:
        # Nothing (not even a role from an invite) is stored before the person consents again.
        await ask_language(update, context, [t._(texts.ERASED_ASK_CONSENT)])
        return
    lines: list[str] = []
    payload = context.args[0] if context.args else ""
    if payload.startswith(INVITE_PREFIX):
        used = await admin.use_invite(
            context.db,
            context.member,
            payload.removeprefix(INVITE_PREFIX),
            admin_ids=context.settings.admin_ids,
            now=context.clock.now(),
        )
        if context.member.account.language is None:
            # Before the language is chosen, the answer is in both, as the question that follows.
            languages = both_languages(suggested_language(update, context))
            lines += [invite_answer(translator(code), used) for code in languages]
        else:
            lines.append(invite_answer(t, used))
        if used.outcome is InviteOutcome.GRANTED:
            context.set_member(await service.reload(context.db, context.member), t.language)
            await set_chat_commands(update, context)
    if context.member.account.language is None:
        await ask_language(update, context, lines)
        return
    if not lines:
        lines.append(t._(texts.HELLO, name=context.member.account.first_name))
    lines.append(t._(texts.WHAT_TO_DO))
    await ui.show(update, context, "\n".join(lines), make_main_menu(t, context.member))


def invite_answer(t: Translator, used: InviteUse) -> str:
    role = role_name(t, used.invite.role) if used.invite else ""
    if used.outcome is InviteOutcome.GRANTED:
        return t._(
            "Welcome! You now have the {role} role. Area: {area}.", role=role, area=area_name(t, used.area)
        )
    if used.outcome is InviteOutcome.ALREADY:
        return t._("You already have the {role} role. Area: {area}.", role=role, area=area_name(t, used.area))
    if used.outcome is InviteOutcome.EXPIRED:
        return t._("This invite has expired. Ask the administrator for a new one.")
    if used.outcome is InviteOutcome.USED:
        return t._("This invite has already been used. Ask the administrator for a new one.")
    return t._("This invite is not valid. Ask the administrator for a new one.")


async def language_command(update: Update, context: BotContext) -> None:
    """/language and Settings → Language: change the language at any time."""
    await ask_language(update, context)


async def language_chosen(update: Update, context: BotContext, data: LanguageCb) -> None:
    """A language button: save the choice (the first one is the consent), then the menu in that language."""
    member = await service.choose_language(
        context.db, context.member, contact_of(update), data.code, context.clock.now()
    )
    context.set_member(member, data.code)
    t = context.t
    await ui.show(update, context, t._(texts.WHAT_TO_DO), make_main_menu(t, member))
    await set_chat_commands(update, context)


async def set_chat_commands(update: Update, context: BotContext) -> None:
    """Show this person the command menu in their language, with the commands of their roles."""
    chat = update.effective_chat
    if chat is None or chat.type != "private":
        return
    try:
        await context.bot.set_my_commands(
            make_command_menu(context.t, context.member), scope=BotCommandScopeChat(chat.id)
        )
    except TelegramError as error:  # the command list is a convenience; never fail the answer
        log.warning("could not set commands for chat %s: %s", chat.id, error)


async def set_default_commands(app: Application) -> None:  # type: ignore[type-arg]
    """The resident command menu for each Telegram interface language, and a default."""
    default = app.bot_data.config.default_language
    for language in (None, *LANGUAGES):
        t = translator(language or default)
        await app.bot.set_my_commands(make_command_menu(t, None), language_code=language)


async def settings_screen(update: Update, context: BotContext, data: MenuCb) -> None:
    """«⚙️ Settings»: language, my village, my data."""
    t = context.t
    await ui.show(update, context, t._("⚙️ Settings"), make_settings_keyboard(t))


async def language_button(update: Update, context: BotContext, data: MenuCb) -> None:
    """Settings → «🌐 Language»: the same question as /language, in place of the settings."""
    await ask_language(update, context)


FLOWS: list[Flow] = []
HANDLERS: list[Handler] = [
    CommandHandler("start", start),
    CommandHandler("language", language_command),
    ui.on_button(LanguageCb, language_chosen),
    ui.on_button(MenuCb, settings_screen, when=lambda data: data.item == "settings"),
    ui.on_button(MenuCb, language_button, when=lambda data: data.item == "language"),
]
