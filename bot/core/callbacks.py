"""Buttons of the core: the main menu, language, privacy, and the way out of any flow."""

from __future__ import annotations

from typing import Literal

from bot.callbacks import CallbackData
from bot.config import Language

MenuItem = Literal[
    "main",
    "village",
    "report",
    "myreports",
    "classes",
    "settings",
    "language",
    "privacy",
    "help",
    "trainer",
    "install",
    "outages",
    "admin",
    "roles",
    "stats",
    "export",
    "announce",
    "mydata",
]


class MenuCb(CallbackData, prefix="menu"):
    """A main-menu entry; pressing one ends whatever flow the person was in."""

    item: MenuItem


class LanguageCb(CallbackData, prefix="lang"):
    code: Language


class EraseCb(CallbackData, prefix="erase"):
    confirmed: bool = False


class FlowCb(CallbackData, prefix="flow"):
    """«✖️ Cancel» in any multi-step flow."""

    action: Literal["cancel"] = "cancel"
