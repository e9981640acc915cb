"""Every button of the places feature. Fields are typed narrowly, so forged data fails parsing."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from bot.callbacks import CallbackData, Id, Kato
from db.places import ObjectKind, Stage, Technology

Page = Annotated[int, Field(ge=0, le=999)]
Year = Annotated[int, Field(ge=-1, le=2100)]  # -1: keep the current window
Quarter = Annotated[int, Field(ge=0, le=4)]  # 0: no quarter, the whole year
StaffReason = Literal[
    "plan_updated",
    "survey_done",
    "construction_started",
    "delayed_weather",
    "delayed_permits",
    "technology_changed",
    "homes_ready",
]
KEEP_WINDOW = -1


class VillageCb(CallbackData, prefix="vl"):
    """Open a village's card, follow it, stop following it, or make it my village."""

    action: Literal["show", "mine", "follow", "unfollow"]
    code: Kato


class SearchCb(CallbackData, prefix="vq"):
    """Search again (type a name), or find the villages near me (share a location)."""

    action: Literal["again", "near"]


class BrowseCb(CallbackData, prefix="vb"):
    """One page of the list: regions, a region's districts, a district's okrugs, an okrug's places.

    ``small`` lists the wintering places, farms and points of an okrug, after its villages.
    """

    level: Literal["regions", "districts", "okrugs", "places", "small"]
    code: Kato | None = None
    page: Page = 0


class StageCb(CallbackData, prefix="vs"):
    """Staff change a village's stage, then its planned window, then say why."""

    code: Kato
    stage: Stage | None = None
    year: Year | None = None
    quarter: Quarter | None = None
    reason: StaffReason | None = None


class InstallVillageCb(CallbackData, prefix="iv"):
    code: Kato


class InstallBuildingCb(CallbackData, prefix="io"):
    """An existing building of the village, or (no id) a new one."""

    building: Id | None = None


class InstallKindCb(CallbackData, prefix="ik"):
    kind: ObjectKind


class InstallTechnologyCb(CallbackData, prefix="it"):
    technology: Technology


class InstallSkipCb(CallbackData, prefix="is"):
    step: Literal["photo", "location"]


class InstallSaveCb(CallbackData, prefix="iw"):
    pass


class InstallAgainCb(CallbackData, prefix="ia"):
    """Type the village name again."""


class FixCb(CallbackData, prefix="fx"):
    installation: Id


class ImportCb(CallbackData, prefix="imp"):
    kind: Literal["kato", "plan", "objects", "cancel"]
