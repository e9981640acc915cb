"""Every button of outages, typed narrowly: a forged or out-of-range value fails parsing and gets the
out-of-date answer; what parses is still checked against the current state by the rules."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from bot.callbacks import CallbackData, Id, Kato
from db.outages import Kind, Resolution, Since

Page = Annotated[int, Field(ge=0, le=999)]


class ReportCb(CallbackData, prefix="rp"):
    """The report flow's own buttons: send it now, or report for another village."""

    action: Literal["send", "other"]


class ReportVillageCb(CallbackData, prefix="rpv"):
    """A village chosen from the search results of the report flow."""

    code: Kato


class ReportKindCb(CallbackData, prefix="rpk"):
    kind: Kind


class ReportSinceCb(CallbackData, prefix="rps"):
    since: Since


class FollowCb(CallbackData, prefix="rpf"):
    """Follow a village that has no internet yet, offered instead of a report."""

    code: Kato


class TicketCb(CallbackData, prefix="ot"):
    """A resident's ticket in /myreports: open it, add to it, withdraw it, share or hide the phone."""

    report: Id
    action: Literal["show", "add", "withdraw", "withdraw_confirmed", "phone", "hide_phone"] = "show"


class FixedCb(CallbackData, prefix="of"):
    """A reporter's answer to "Is it working now?"."""

    incident: Id
    working: bool


class AnswerCb(CallbackData, prefix="oa"):
    """A resident answers an engineer's question."""

    question: Id


class StaffCb(CallbackData, prefix="oi"):
    """A staff action on an incident: take, progress, resolve (then a reason), ask the reporter."""

    incident: Id
    action: Literal["take", "progress", "resolve", "back", "ask"]
    reason: Resolution | None = None


class ListCb(CallbackData, prefix="ol"):
    """/outages: all or mine, a page, one region or district, or one incident's detail.

    ``fresh``: the list as a new message (from a detail, which stays as it is).
    """

    mine: bool = False
    show: Id | None = None
    page: Page = 0
    area: Kato | None = None
    fresh: bool = False


class AskCb(CallbackData, prefix="oq"):
    """The report whose author an engineer asks."""

    report: Id


class GroupLanguageCb(CallbackData, prefix="og"):
    language: Literal["kk", "ru", "both"]
