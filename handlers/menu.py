"""The main menu and /help."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot import ui
from bot.context import BotContext
from bot.core import texts
from bot.core.callbacks import MenuCb
from bot.core.keyboards import make_back_keyboard, make_main_menu
from bot.flows import Flow, Handler
from bot.i18n import Translator
from bot.roles import Member


async def show_menu(update: Update, context: BotContext) -> None:
    """The main menu: in place of a pressed message, or as a new message."""
    t = context.t
    await ui.show(update, context, t._(texts.WHAT_TO_DO), make_main_menu(t, context.member))


async def menu_command(update: Update, context: BotContext) -> None:
    """/menu: show the main menu."""
    await show_menu(update, context)


async def menu_button(update: Update, context: BotContext, data: MenuCb) -> None:
    """«⬅️ Menu»: the pressed message becomes the main menu."""
    await show_menu(update, context)


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
        t._("⚙️ <b>Settings</b>: language, your village, your data (/privacy)."),
    ]
    if member.holds("trainer"):
        parts.append(
            t._(
                "🧑‍🏫 Trainers: /newclass schedules a class, /myclasses keeps the register,"
                " /classstats shows the statistics."
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
                "👑 Admins: /admin opens the panel, /invite makes a role invite link for your area,"
                " /roles lists and revokes roles, /outbox shows notification delivery."
            )
        )
    parts += ["", t._("Commands: /menu, /language, /help.")]
    return "\n".join(parts)


async def help_command(update: Update, context: BotContext) -> None:
    """/help and «❓ Help»: what each part of the bot does, in plain words."""
    t = context.t
    await ui.show(update, context, help_text(t, context.member), make_back_keyboard(t))


async def help_button(update: Update, context: BotContext, data: MenuCb) -> None:
    await help_command(update, context)


FLOWS: list[Flow] = []
HANDLERS: list[Handler] = [
    CommandHandler("menu", menu_command),
    CommandHandler("help", help_command),
    ui.on_button(MenuCb, menu_button, when=lambda data: data.item == "main"),
    ui.on_button(MenuCb, help_button, when=lambda data: data.item == "help"),
]
