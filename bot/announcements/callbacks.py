"""Buttons of announcements: writing one (area, audience, sending), its delivery, opting out."""

from __future__ import annotations

from typing import Literal

from bot.callbacks import CallbackData, Id, Kato
from bot.stats.callbacks import AreaCode

Audience = Literal["followers", "tickets", "trainers"]
AUDIENCES: tuple[Audience, ...] = ("followers", "tickets", "trainers")


class SameTextCb(CallbackData, prefix="an1"):
    """«The same text in Russian»: one text for both languages."""


class AreaCb(CallbackData, prefix="ana"):
    area: AreaCode | None = None  # None: the administrator's own area (or areas)
    pick: bool = False  # False: open it to choose a part; True: the announcement goes to all of it


class AudienceCb(CallbackData, prefix="anu"):
    audience: Audience | None = None  # None: done choosing


class SendCb(CallbackData, prefix="ans"):
    action: Literal["send", "again"]


class SummaryCb(CallbackData, prefix="anr"):
    """Refresh the delivery summary of an announcement."""

    id: Id


class OptOutCb(CallbackData, prefix="ano"):
    """A resident stops (or, with ``back``, resumes) announcements for one village they follow."""

    village: Kato
    back: bool = False
