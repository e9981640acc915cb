"""Keyboards of the core: the main menu, the language choice, settings and my data; the command menu."""

from __future__ import annotations

from telegram import BotCommand, InlineKeyboardMarkup

from bot.config import LANGUAGES, Language
from bot.core.callbacks import EraseCb, LanguageCb, MenuCb
from bot.core.texts import LANGUAGE_NAMES
from bot.i18n import Translator
from bot.roles import Member
from bot.ui import back_to_menu, button, keyboard


def make_main_menu(t: Translator, member: Member) -> InlineKeyboardMarkup:
    """Everything a person can start, by the roles they hold somewhere."""
    rows = [
        [button(t._("📶 My village's internet"), MenuCb(item="village"))],
        [button(t._("⚠️ Report an outage"), MenuCb(item="report"))],
        # One a row: side by side, a phone cuts «⚙️ Баптаулар».
        [button(t._("🎓 Classes"), MenuCb(item="classes"))],
        [button(t._("⚙️ Settings"), MenuCb(item="settings"))],
    ]
    if member.holds("trainer"):
        rows.append([button(t._("🧑‍🏫 My classes (trainer)"), MenuCb(item="trainer"))])
    if member.holds("staff"):
        # One a row: side by side, a phone cuts the labels.
        rows.append([button(t._("🛠 Log installation"), MenuCb(item="install"))])
        rows.append([button(t._("📋 Open outages"), MenuCb(item="outages"))])
        if not member.is_admin:  # admins reach it from the administration panel
            rows.append([button(t._("📊 Progress"), MenuCb(item="stats"))])
    if member.is_admin:
        rows.append([button(t._("👑 Administration"), MenuCb(item="admin"))])
    rows.append([button(t._("❓ Help"), MenuCb(item="help"))])
    return keyboard(*rows)


def make_language_keyboard(suggested: Language) -> InlineKeyboardMarkup:
    """Both languages, each in its own words, the suggested one first."""
    ordered = sorted(LANGUAGES, key=lambda code: code != suggested)
    return keyboard([button(LANGUAGE_NAMES[code], LanguageCb(code=code)) for code in ordered])


def make_settings_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return keyboard(
        [button(t._("🌐 Language"), MenuCb(item="language"))],
        [button(t._("🏡 My village"), MenuCb(item="village"))],
        [button(t._("🔒 My data"), MenuCb(item="privacy"))],
        [back_to_menu(t)],
    )


def make_privacy_keyboard(t: Translator, *, anything_kept: bool) -> InlineKeyboardMarkup:
    rows = [[button(t._("📦 My data as a file"), MenuCb(item="mydata"))]] if anything_kept else []
    if anything_kept:
        rows.append([button(t._("🗑 Delete my data"), EraseCb())])
    return keyboard(*rows, [back_to_menu(t)])


def make_erase_keyboard(t: Translator) -> InlineKeyboardMarkup:
    """Deleting asks once: yes, or back to the menu."""
    return keyboard([button(t._("🗑 Yes, delete"), EraseCb(confirmed=True))], [back_to_menu(t)])


def make_back_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return keyboard([back_to_menu(t)])


def make_command_menu(t: Translator, member: Member | None) -> list[BotCommand]:
    """The commands Telegram lists next to the text field, by the roles held somewhere."""
    commands = [
        BotCommand("menu", t._("Main menu")),
        BotCommand("village", t._("My village's internet")),
        BotCommand("report", t._("Report an outage")),
        BotCommand("myreports", t._("My outage reports")),
        BotCommand("classes", t._("Digital-literacy classes")),
        BotCommand("language", t._("Change language")),
        BotCommand("privacy", t._("My data")),
        BotCommand("mydata", t._("My data as a file")),
        BotCommand("help", t._("Help")),
    ]
    if member is not None and member.holds("staff"):
        commands += [
            BotCommand("install", t._("Log an installation")),
            BotCommand("mylog", t._("My installations")),
            BotCommand("outages", t._("Open outages")),
            BotCommand("stats", t._("Progress of the area")),
        ]
    if member is not None and member.holds("trainer"):
        commands += [
            BotCommand("myclasses", t._("My classes (trainer)")),
            BotCommand("newclass", t._("Schedule a class")),
            BotCommand("classstats", t._("Class statistics")),
        ]
    if member is not None and member.is_admin:
        commands += [
            BotCommand("admin", t._("Administration")),
            BotCommand("invite", t._("Invite staff, trainers, admins")),
            BotCommand("roles", t._("Roles")),
            BotCommand("outbox", t._("Notification delivery")),
            BotCommand("export", t._("Export a report")),
            BotCommand("announce", t._("Announce to an area")),
        ]
        if not member.holds("staff"):
            commands.append(BotCommand("stats", t._("Progress of the area")))
    return commands
