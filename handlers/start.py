"""First contact: /start, choosing the language, invites, the settings screen."""

from __future__ import annotations

import logging
from collections.abc import Collection

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import ui
from bot.callbacks import CallbackData
from bot.config import LANGUAGES, Language
from bot.context import BotContext
from bot.flows import Flow, Handler
from bot.i18n import Translator, pick_language, translator
from bot.privacy import record_consent
from bot.roles import InviteOutcome, redeem_invite
from db import users
from handlers.common import ROLE_NAMES, MenuCb, back_to_menu, button, keyboard, reply
from handlers.menu import show_menu

log = logging.getLogger(__name__)

LANGUAGE_NAMES: dict[Language, str] = {"kk": "Қазақша", "ru": "Русский"}
INVITE_PREFIX = "inv_"


class LanguageCb(CallbackData, prefix="lang"):
    code: Language


def make_language_keyboard(suggested: Language) -> list[list[object]]:
    ordered = sorted(LANGUAGES, key=lambda code: code != suggested)
    return [[button(LANGUAGE_NAMES[code], LanguageCb(code=code)) for code in ordered]]


async def ask_language(update: Update, context: BotContext) -> None:
    """Offer both languages, the one Telegram suggests first; the prompt is in both."""
    user = update.effective_user
    suggested = pick_language(user.language_code if user else None, context.settings.default_language)
    other: Language = "ru" if suggested == "kk" else "kk"
    prompt = "\n".join(
        [translator(code)._("Choose your language:") for code in (suggested, other)]
        + [
            "",
            *(
                translator(code)._("By continuing you agree that AuylNet keeps your data: /privacy")
                for code in (suggested, other)
            ),
        ]
    )
    await reply(update, context, prompt, keyboard(*make_language_keyboard(suggested)))  # type: ignore[arg-type]


async def start(update: Update, context: BotContext) -> None:
    """/start: greet, use an invite if the link carried one, then ask the language or show the menu."""
    payload = context.args[0] if context.args else ""
    if payload.startswith(INVITE_PREFIX):
        await use_invite(update, context, payload.removeprefix(INVITE_PREFIX))
    if context.member.account.language is None:
        await ask_language(update, context)
        return
    t = context.t
    await reply(update, context, t._("Hello, {name}! I am AuylNet.", name=context.member.account.first_name))
    await show_menu(update, context)


async def use_invite(update: Update, context: BotContext, code: str) -> None:
    t = context.t
    outcome, invite = await redeem_invite(context.db, code, context.member.id, context.clock.now())
    if outcome is InviteOutcome.GRANTED and invite is not None:
        await _reload_member(context)
        text = t._("Welcome! You now have the {role} role.", role=t._(ROLE_NAMES[invite.role]))
    elif outcome is InviteOutcome.ALREADY and invite is not None:
        text = t._("You already have the {role} role.", role=t._(ROLE_NAMES[invite.role]))
    elif outcome is InviteOutcome.EXPIRED:
        text = t._("This invite has expired. Ask the administrator for a new one.")
    elif outcome is InviteOutcome.USED:
        text = t._("This invite has already been used. Ask the administrator for a new one.")
    else:
        text = t._("This invite is not valid. Ask the administrator for a new one.")
    await reply(update, context, text)


async def _reload_member(context: BotContext) -> None:
    from bot.roles import Member

    member = context.member
    async with context.db.read() as conn:
        grants = await users.roles_of(conn, member.id)
    context.set_member(Member(member.account, tuple(grants), member.settings_admin), context.t.language)


async def language_command(update: Update, context: BotContext) -> None:
    """/language: change the language at any time."""
    await ask_language(update, context)


async def language_chosen(update: Update, context: BotContext) -> None:
    """A language button: save the choice, confirm in that language, show the menu."""
    query = update.callback_query
    assert query is not None
    choice = LanguageCb.parse(query.data)
    if choice is None:
        await ui.answer(update, context, context.t._("This button is out of date. Open /menu again."))
        return
    first_choice = context.member.account.language is None
    async with context.db.transaction() as tx:
        await users.set_language(tx, context.member.id, choice.code)
        if first_choice:
            # The prompt said what continuing means (see /privacy): the press is the logged consent.
            await record_consent(tx, context.member.id, context.clock.now())
    account = context.member.account.model_copy(update={"language": choice.code})
    from bot.roles import Member

    context.set_member(Member(account, context.member.grants, context.member.settings_admin), choice.code)
    t = context.t
    await ui.answer(update, context, t._("Language saved."))
    await reply(update, context, t._("Language: {name}", name=LANGUAGE_NAMES[choice.code]), edit=True)
    await _set_chat_commands(context, t, update.effective_chat.id if update.effective_chat else 0)
    await show_menu(update, context)


async def _set_chat_commands(context: BotContext, t: Translator, chat_id: int) -> None:
    """Show this person the command menu in the language they chose, not Telegram's."""
    if chat_id <= 0:
        return
    try:
        await context.bot.set_my_commands(
            command_list(t, context.member.roles), scope=BotCommandScopeChat(chat_id)
        )
    except TelegramError as error:  # the command list is a convenience; never fail the flow
        log.warning("could not set commands for chat %s: %s", chat_id, error)


def command_list(t: Translator, roles: Collection[str]) -> list[BotCommand]:
    commands = [
        BotCommand("menu", t._("Main menu")),
        BotCommand("village", t._("My village's internet")),
        BotCommand("report", t._("Report an outage")),
        BotCommand("myreports", t._("My outage reports")),
        BotCommand("classes", t._("Digital-literacy classes")),
        BotCommand("language", t._("Change language")),
        BotCommand("privacy", t._("My data")),
        BotCommand("help", t._("Help")),
    ]
    roles = set(roles)
    if roles & {"staff", "admin"}:
        commands += [
            BotCommand("install", t._("Log an installation")),
            BotCommand("mylog", t._("My installations")),
            BotCommand("outages", t._("Open outages")),
        ]
    if roles & {"trainer", "admin"}:
        commands += [
            BotCommand("myclasses", t._("My classes (trainer)")),
            BotCommand("newclass", t._("Schedule a class")),
            BotCommand("classstats", t._("Class numbers")),
        ]
    if "admin" in roles:
        commands += [
            BotCommand("invite", t._("Invite staff, trainers, admins")),
            BotCommand("roles", t._("Roles")),
            BotCommand("outbox", t._("Notification delivery")),
        ]
    return commands


async def set_default_commands(app: Application) -> None:  # type: ignore[type-arg]
    """The resident command menu for each Telegram interface language, and a default."""
    default = app.bot_data.config.default_language
    for language in (None, *LANGUAGES):
        t = translator(language or default)
        await app.bot.set_my_commands(command_list(t, set()), language_code=language)


async def settings_screen(update: Update, context: BotContext) -> None:
    """Settings: language, my village, my data."""
    query = update.callback_query
    assert query is not None
    await ui.answer(update, context)
    t = context.t
    await reply(
        update,
        context,
        t._("⚙️ Settings"),
        keyboard(
            [button(t._("🌐 Language"), MenuCb(item="language"))],
            [button(t._("🏡 My village"), MenuCb(item="village"))],
            [button(t._("🔒 My data"), MenuCb(item="privacy"))],
            [back_to_menu(t)],
        ),
        edit=True,
    )


async def language_button(update: Update, context: BotContext) -> None:
    assert update.callback_query is not None
    await ui.answer(update, context)
    await ask_language(update, context)


FLOWS: list[Flow] = []
HANDLERS: list[Handler] = [
    CommandHandler("start", start),
    CommandHandler("language", language_command),
    CallbackQueryHandler(language_chosen, pattern=LanguageCb.filter()),
    CallbackQueryHandler(settings_screen, pattern=lambda d: d == "menu:settings"),
    CallbackQueryHandler(language_button, pattern=lambda d: d == "menu:language"),
]
