"""The main menu, /help and the settings screen."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import ui
from bot.context import BotContext
from bot.flows import Flow, Handler
from bot.i18n import Translator
from bot.roles import Member
from handlers.common import MenuCb, back_to_menu, button, keyboard, reply


def make_main_menu(t: Translator, member: Member) -> InlineKeyboardMarkup:
    rows = [
        [button(t._("📶 My village's internet"), MenuCb(item="village"))],
        [button(t._("⚠️ Report an outage"), MenuCb(item="report"))],
        [
            button(t._("🎓 Classes"), MenuCb(item="classes")),
            button(t._("⚙️ Settings"), MenuCb(item="settings")),
        ],
    ]
    if member.holds("trainer"):
        rows.append([button(t._("🧑‍🏫 My classes (trainer)"), MenuCb(item="trainer"))])
    if member.holds("staff"):
        rows.append(
            [
                button(t._("🛠 Log installation"), MenuCb(item="install")),
                button(t._("📋 Open outages"), MenuCb(item="outages")),
            ]
        )
    if member.is_admin:
        rows.append([button(t._("👑 Administration"), MenuCb(item="admin"))])
    rows.append([button(t._("❓ Help"), MenuCb(item="help"))])
    return keyboard(*rows)


async def show_menu(update: Update, context: BotContext, *, edit: bool = False) -> None:
    t = context.t
    await reply(
        update,
        context,
        t._("What would you like to do?"),
        make_main_menu(t, context.member),
        edit=edit,
    )


async def menu_command(update: Update, context: BotContext) -> None:
    """/menu: show the main menu."""
    await show_menu(update, context)


async def menu_button(update: Update, context: BotContext) -> None:
    """The "Menu" button: replace the pressed message with the main menu."""
    assert update.callback_query is not None
    await ui.answer(update, context)
    await show_menu(update, context, edit=True)


def help_text(t: Translator, member: Member) -> str:
    parts = [
        t._("<b>AuylNet</b> helps your village get online."),
        "",
        t._(
            "📶 <b>My village's internet</b>: when your village gets connected, which buildings"
            " are online; follow it to hear about changes."
        ),
        t._(
            "⚠️ <b>Report an outage</b>: tell us the internet is down; you get a ticket number"
            " and news when it is fixed. /myreports shows your tickets."
        ),
        t._(
            "🎓 <b>Classes</b>: free lessons on using a smartphone, eGov and safe payments."
            " You can book a seat for yourself or a relative."
        ),
        t._("⚙️ <b>Settings</b>: language, your village, your data."),
    ]
    if member.holds("trainer"):
        parts.append(
            t._(
                "🧑‍🏫 Trainers: /newclass schedules a class, /myclasses keeps the register, /classstats shows the numbers."
            )
        )
    if member.holds("staff"):
        parts.append(
            t._(
                "🛠 Field staff: /install logs an installation, /mylog lists yours,"
                " /outages lists open outages."
            )
        )
    if member.is_admin:
        parts.append(
            t._(
                "👑 Admins: /invite makes a role invite link, /roles lists and revokes roles,"
                " /outbox shows notification delivery."
            )
        )
    parts += ["", t._("Commands: /menu, /language, /help.")]
    return "\n".join(parts)


async def help_command(update: Update, context: BotContext) -> None:
    """/help: what each part of the bot does, in plain words."""
    t = context.t
    await reply(update, context, help_text(t, context.member), keyboard([back_to_menu(t)]))


async def help_button(update: Update, context: BotContext) -> None:
    assert update.callback_query is not None
    await ui.answer(update, context)
    t = context.t
    await reply(update, context, help_text(t, context.member), keyboard([back_to_menu(t)]), edit=True)


FLOWS: list[Flow] = []
HANDLERS: list[Handler] = [
    CommandHandler("menu", menu_command),
    CommandHandler("help", help_command),
    CallbackQueryHandler(menu_button, pattern=lambda d: d == "menu:main"),
    CallbackQueryHandler(help_button, pattern=lambda d: d == "menu:help"),
]
