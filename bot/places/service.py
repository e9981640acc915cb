"""The places feature's rules as the bot uses them: one function per screen or action.

Functions take the database (they own the transaction) or a connection, the acting ``Member`` and
the time, and return what to show. Staff actions are checked as (staff, area) inside the
transaction that commits them, so a button, a typed step or a revoked role is refused the same way.
What a change does to a village is in ``rollout``; the rules for people are in docs/villages.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import aiosqlite

from bot.places import importer
from bot.places.importer import ImportResult, Problem, Progress
from bot.places.rollout import (
    CORRECTION_WINDOW,
    InstallationError,
    NewInstallation,
    PlacesError,
    RolloutChange,
    change_rollout,
    correct,
    record_installation,
)
from bot.places.search import Place, VillageIndex
from bot.roles import Member
from db import drafts, places
from db.database import Database
from db.models import Role
from db.places import (
    Area,
    Installation,
    InstallationLine,
    ObjectKind,
    OpenOutage,
    SocialObject,
    Stage,
    Village,
    VillageChange,
)

__all__ = [
    "CORRECTION_WINDOW",
    "InstallationError",
    "NewInstallation",
    "PlacesError",
    "RolloutChange",
    "VillageCard",
    "VillageStatus",
    "change_rollout",
]

INSTALL_DRAFT = "install"
PAGE_SIZE = 8
BIG_PLACES = ("village", "town")
# Reasons staff may give for a new stage: a connected village's homes can connect; the others move
# the plan. «Other reasons» is not one: residents could not tell what it means.
STAGE_REASONS: dict[str, tuple[str, ...]] = {
    "connected": ("homes_ready", "plan_updated", "technology_changed"),
    "construction": (
        "construction_started",
        "survey_done",
        "delayed_weather",
        "delayed_permits",
        "technology_changed",
        "plan_updated",
    ),
    "design": ("plan_updated", "delayed_weather", "delayed_permits", "technology_changed"),
    "planned": ("plan_updated", "delayed_weather", "delayed_permits", "technology_changed"),
    "none": ("plan_updated",),
}


# --- the status card ------------------------------------------------------------------------------
@dataclass(frozen=True)
class VillageCard:
    village: Village
    okrug_name: dict[str, str]
    district_name: dict[str, str]
    region_name: dict[str, str]
    objects: list[SocialObject]
    changes: list[VillageChange]
    outages: list[OpenOutage]
    followers: int
    following: bool
    mine: bool
    can_change_stage: bool
    now: datetime

    @property
    def last_change(self) -> VillageChange | None:
        return self.changes[0] if self.changes else None


def _names(area: Area | None) -> dict[str, str]:
    return {"kk": area.name_kk, "ru": area.name_ru} if area else {}


async def village_card(
    conn: aiosqlite.Connection, code: str, viewer: Member | int | None = None, now: datetime | None = None
) -> VillageCard | None:
    """Everything a village's card shows, for this viewer, read in the caller's block."""
    village = await places.get_village(conn, code)
    if village is None:
        return None
    viewer_id = viewer.id if isinstance(viewer, Member) else viewer
    areas = await places.get_areas(conn, (village.okrug_code, village.district_code, village.region_code))
    watchers = await places.followers(conn, code)
    return VillageCard(
        village=village,
        okrug_name=_names(areas.get(village.okrug_code or "")),
        district_name=_names(areas.get(village.district_code)),
        region_name=_names(areas.get(village.region_code)),
        objects=await places.objects_of(conn, code),
        changes=await places.recent_changes(conn, code, limit=6),
        outages=await places.open_outages(conn, code),
        followers=len(watchers),
        following=viewer_id in watchers,
        mine=viewer_id is not None and await places.my_village(conn, viewer_id) == code,
        can_change_stage=isinstance(viewer, Member) and viewer.can("staff", code),
        now=now or datetime.now().astimezone(),
    )


async def home_card(db: Database, member: Member, now: datetime) -> VillageCard | None:
    """The card of my village (or the first I follow); None when I have none yet."""
    async with db.read() as conn:
        code = await places.home_village(conn, member.id)
        return await village_card(conn, code, member, now) if code else None


async def open_card(db: Database, member: Member, code: str, now: datetime) -> VillageCard | None:
    async with db.read() as conn:
        return await village_card(conn, code, member, now)


async def set_following(
    db: Database, member: Member, code: str, *, follow: bool, now: datetime
) -> VillageCard | None:
    """Follow or stop following a village; the card as it is now."""
    async with db.transaction() as tx:
        if await places.get_village(tx, code) is None:
            return None
        if follow:
            await places.follow(tx, member.id, code, now)
        else:
            await places.unfollow(tx, member.id, code)
        return await village_card(tx, code, member, now)


async def make_mine(db: Database, member: Member, code: str, now: datetime) -> VillageCard | None:
    """ "This is my village": it becomes mine, and I follow it."""
    async with db.transaction() as tx:
        if await places.get_village(tx, code) is None:
            return None
        await places.set_my_village(tx, member.id, code)
        await places.follow(tx, member.id, code, now)
        return await village_card(tx, code, member, now)


# --- finding a village ----------------------------------------------------------------------------
MAX_TYPED = 100


def find_villages(
    index: VillageIndex,
    typed: str,
    *,
    member: Member | None = None,
    role: Role | None = None,
    limit: int = 5,
) -> list[Place]:
    """The places closest to what was typed, best first; with ``role``, only those in the member's area."""
    matches = index.search(typed[:MAX_TYPED], limit=limit if role is None else limit * 8)
    found = [match.place for match in matches]
    if role is not None and member is not None:
        found = [place for place in found if member.can(role, place.code)]
    return found[:limit]


def nearest_villages(
    index: VillageIndex, latitude: float, longitude: float, limit: int = 5
) -> list[tuple[Place, float]]:
    return index.nearest(latitude, longitude, limit=limit)


BrowseLevel = Literal["regions", "districts", "okrugs", "places", "small"]


@dataclass(frozen=True)
class BrowseEntry:
    code: str
    label: str
    is_area: bool  # True: opens the next level; False: a place's card


@dataclass(frozen=True)
class BrowsePage:
    level: BrowseLevel
    code: str | None
    area: Area | None
    entries: list[BrowseEntry]
    page: int
    pages: int
    small: int = 0  # wintering places, farms and points behind «more»
    up: tuple[BrowseLevel, str | None] | None = None  # one level back; None: back to typing a name


_KAZAKH_ORDER = str.maketrans(
    {letter: base + "\U0010ffff" for letter, base in zip("әғқңөұүһіё", "агкноууһие", strict=True)}
)


def sort_key(name: str) -> str:
    """Alphabetical order for Kazakh and Russian: Ә after А, Қ after К, and so on."""
    return name.lower().translate(_KAZAKH_ORDER)


async def browse(
    db: Database, level: BrowseLevel, code: str | None, page: int, language: str
) -> BrowsePage | None:
    """One page of region → district → rural okrug → settlement, villages before small places."""
    async with db.read() as conn:
        if level == "regions":
            areas = await places.areas_with_villages(conn, "region", None)
            return _page("regions", None, None, _area_entries(areas, language), page, up=None)
        area = await places.get_area(conn, code or "")
        if area is None:
            return None
        if level == "districts" and area.level == "region":
            areas = await places.areas_with_villages(conn, "district", area.code)
            return _page(
                "districts", area.code, area, _area_entries(areas, language), page, up=("regions", None)
            )
        if level == "okrugs" and area.level == "district":
            okrugs = await places.areas_with_villages(conn, "okrug", area.code)
            direct = await places.settlements_under(conn, area)
            up: tuple[BrowseLevel, str | None] = ("districts", area.parent)
            if len(okrugs) == 1 and not direct:
                only = okrugs[0]
                return _places_page(
                    only, await places.settlements_under(conn, only), page, language, up, small=False
                )
            if not okrugs:
                return _places_page(area, direct, page, language, up, small=False)
            big = [v for v in direct if v.kind in BIG_PLACES]
            entries = _area_entries(okrugs, language) + _place_entries(big, direct, language)
            small = len(direct) - len(big)
            return _page("okrugs", area.code, area, entries, page, up=up, small=small)
        if level in ("places", "small") and area.level in ("okrug", "district"):
            settled = await places.settlements_under(conn, area)
            district = area.parent if area.level == "okrug" else area.code
            up = ("okrugs", district) if area.level == "okrug" else ("districts", area.parent)
            return _places_page(area, settled, page, language, up, small=level == "small")
    return None


def _area_entries(areas: Sequence[Area], language: str) -> list[BrowseEntry]:
    ordered = sorted(areas, key=lambda area: sort_key(area.name(language)))
    return [BrowseEntry(area.code, area.name(language), is_area=True) for area in ordered]


def _place_entries(
    shown: Sequence[Village], neighbours: Sequence[Village], language: str
) -> list[BrowseEntry]:
    """Places in alphabetical order; namesakes told apart by the village they belong to, else by code."""
    ordered = sorted(shown, key=lambda village: (sort_key(village.name(language)), village.code))
    by_code = {village.code: village for village in neighbours}
    names = [village.name(language) for village in ordered]
    labels = list(names)
    for index, village in enumerate(ordered):
        if names.count(names[index]) > 1:
            parent = by_code.get(village.code[:7] + "00")
            if parent is not None and parent.code != village.code:
                labels[index] = f"{names[index]} ({parent.name(language)})"
    for index, village in enumerate(ordered):
        if labels.count(labels[index]) > 1:
            labels[index] = f"{labels[index]} · {village.code[-3:]}"
    return [
        BrowseEntry(village.code, label, is_area=False)
        for village, label in zip(ordered, labels, strict=True)
    ]


def _places_page(
    area: Area,
    settled: Sequence[Village],
    page: int,
    language: str,
    up: tuple[BrowseLevel, str | None],
    *,
    small: bool,
) -> BrowsePage:
    big = [village for village in settled if village.kind in BIG_PLACES]
    rest = [village for village in settled if village.kind not in BIG_PLACES]
    if small or not big:
        level: BrowseLevel = "small" if big else "places"
        back = ("places", area.code) if big else up
        return _page(level, area.code, area, _place_entries(rest, settled, language), page, up=back)
    return _page(
        "places", area.code, area, _place_entries(big, settled, language), page, up=up, small=len(rest)
    )


def _page(
    level: BrowseLevel,
    code: str | None,
    area: Area | None,
    entries: list[BrowseEntry],
    page: int,
    *,
    up: tuple[BrowseLevel, str | None] | None,
    small: int = 0,
) -> BrowsePage:
    pages = max(1, math.ceil(len(entries) / PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = entries[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    return BrowsePage(level, code, area, shown, page, pages, small, up)


# --- staff: the stage -----------------------------------------------------------------------------
async def stage_village(db: Database, member: Member, code: str) -> Village:
    """The village whose stage this staff member may change; refuses with the reason."""
    async with db.read() as conn:
        village = await places.get_village(conn, code)
    if village is None:
        raise PlacesError("stale")
    if not member.can("staff", code):
        raise PlacesError("outside_area" if member.holds("staff") else "not_staff")
    return village


def reasons_for(stage: str) -> tuple[str, ...]:
    return STAGE_REASONS.get(stage, ("plan_updated",))


async def change_stage(
    db: Database,
    member: Member,
    code: str,
    *,
    stage: Stage,
    year: int | None,
    quarter: int | None,
    reason: str,
    now: datetime,
    keep_window: bool = False,
) -> tuple[VillageCard, int]:
    """A staff member sets a village's stage and planned window with a reason; followers are told."""
    if reason not in reasons_for(stage):
        raise PlacesError("stale")
    async with db.transaction() as tx:
        village = await places.get_village(tx, code)
        if village is None:
            raise PlacesError("stale")
        if not member.can("staff", code):
            raise PlacesError("outside_area" if member.holds("staff") else "not_staff")
        if keep_window or stage in ("connected", "none"):
            year, quarter = village.planned_year, village.planned_quarter
        change = RolloutChange(
            stage=stage,
            planned_year=year,
            planned_quarter=quarter,
            operator=village.operator,
            technology=village.technology,
            planned_technology=village.planned_technology,
            note=village.note,
        )
        outcome = await change_rollout(tx, village, change, reason=reason, actor_id=member.id, now=now)
        card = await village_card(tx, code, member, now)
    assert card is not None
    return card, outcome.notified


# --- what outages need to know --------------------------------------------------------------------
@dataclass(frozen=True)
class VillageStatus:
    """Whether a village (or one of its buildings) has internet yet, and when it is planned."""

    code: str
    name: dict[str, str]
    stage: Stage
    has_internet: bool
    planned_year: int | None
    planned_quarter: int | None
    online: tuple[ObjectKind, ...] = field(default_factory=tuple)


async def village_status(
    conn: aiosqlite.Connection, code: str, building: str | None = None
) -> VillageStatus | None:
    """Has this place internet yet? ``building``: "home" (or None), "village", "mobile" or a building kind.

    Homes have internet when the village is connected (staff said so). A school, medical post,
    akimat or library has it when a building of that kind in the village is online; a kind the
    village has no record of counts as homes do. "village" means any building or the homes;
    mobile internet is not the programme's, so it counts as there.
    """
    village = await places.get_village(conn, code)
    if village is None:
        return None
    buildings = await places.objects_of(conn, code)
    online = tuple(dict.fromkeys(b.kind for b in buildings if b.connected))
    homes = village.stage == "connected"
    if building == "mobile":
        has = True
    elif building == "village":
        has = homes or bool(online)
    elif building in places.OBJECT_KINDS and any(b.kind == building for b in buildings):
        has = building in online
    else:
        has = homes
    return VillageStatus(
        code=village.code,
        name={"kk": village.name_kk, "ru": village.name_ru},
        stage=village.stage,
        has_internet=has,
        planned_year=village.planned_year,
        planned_quarter=village.planned_quarter,
        online=online,
    )


# --- staff: installations -------------------------------------------------------------------------
async def begin_installation(db: Database, member: Member, now: datetime) -> None:
    async with db.transaction() as tx:
        await drafts.save_draft(tx, member.id, INSTALL_DRAFT, {}, now)


async def install_draft(db: Database, member: Member) -> dict[str, Any]:
    async with db.read() as conn:
        return await drafts.get_draft(conn, member.id, INSTALL_DRAFT)


async def note_installation(db: Database, member: Member, now: datetime, **changes: Any) -> dict[str, Any]:
    """Keep a step's answer (speed, photo, location…) in the installation being logged."""
    async with db.transaction() as tx:
        return await drafts.update_draft(tx, member.id, INSTALL_DRAFT, changes, now)


async def choose_install_village(
    db: Database, member: Member, code: str, now: datetime
) -> tuple[Village, list[SocialObject]]:
    """The village of the installation: it must be in the staff member's area."""
    async with db.transaction() as tx:
        village = await places.get_village(tx, code)
        if village is None:
            raise InstallationError("unknown_village")
        if not member.can("staff", code):
            raise InstallationError("outside_area")
        await drafts.update_draft(tx, member.id, INSTALL_DRAFT, {"village": code}, now)
        return village, await places.objects_of(tx, code)


async def choose_building(db: Database, member: Member, building_id: int, now: datetime) -> SocialObject:
    async with db.transaction() as tx:
        draft = await drafts.get_draft(tx, member.id, INSTALL_DRAFT)
        found = await places.get_object(tx, building_id)
        if found is None or found.village_code != draft.get("village"):
            raise InstallationError("unknown_object")
        if not member.can("staff", found.village_code):
            raise InstallationError("outside_area")
        await drafts.update_draft(
            tx, member.id, INSTALL_DRAFT, {"object_id": found.id, "new_kind": None, "new_name": None}, now
        )
        return found


@dataclass(frozen=True)
class InstallSummary:
    village: Village
    building: str  # in the reader's language, or the name typed for a new one
    kind: str
    technology: str
    speed: float
    photo: bool
    located: bool


async def installation_summary(db: Database, member: Member, language: str) -> InstallSummary:
    async with db.read() as conn:
        draft = await drafts.get_draft(conn, member.id, INSTALL_DRAFT)
        village = await places.get_village(conn, draft.get("village", ""))
        found = await places.get_object(conn, int(draft["object_id"])) if draft.get("object_id") else None
    if village is None or "technology" not in draft or "speed" not in draft:
        raise InstallationError("stale")
    return InstallSummary(
        village=village,
        building=found.title(language) if found else str(draft.get("new_name", "")),
        kind=found.kind if found else str(draft.get("new_kind", "other")),
        technology=str(draft["technology"]),
        speed=float(draft["speed"]),
        photo=bool(draft.get("photo")),
        located=draft.get("latitude") is not None,
    )


async def save_installation(db: Database, member: Member, *, source_key: str, now: datetime) -> Installation:
    """Commit the installation being logged; a redelivered press finds the same entry and adds nothing."""
    async with db.transaction() as tx:
        existing = await places.installation_by_source(tx, source_key)
        if existing is not None:
            return existing
        draft = await drafts.get_draft(tx, member.id, INSTALL_DRAFT)
        if not draft.get("village"):
            raise InstallationError("stale")
        if not member.can("staff", draft["village"]):
            raise InstallationError("outside_area")
        new = NewInstallation(
            village_code=draft["village"],
            object_id=draft.get("object_id"),
            new_object_kind=draft.get("new_kind"),
            new_object_name=draft.get("new_name"),
            technology=draft.get("technology", ""),
            speed_mbps=float(draft.get("speed", 0)),
            photo_file_id=draft.get("photo"),
            latitude=draft.get("latitude"),
            longitude=draft.get("longitude"),
        )
        installation, _created = await record_installation(
            tx, new, staff_id=member.id, source_key=source_key, now=now
        )
        await drafts.clear_draft(tx, member.id, INSTALL_DRAFT)
        return installation


async def log_installation(
    db: Database, member: Member, new: NewInstallation, *, source_key: str, now: datetime
) -> tuple[Installation, bool]:
    """Record an installation for a village in the member's area (the rules are in ``rollout``)."""
    async with db.transaction() as tx:
        if not member.can("staff", new.village_code):
            raise InstallationError("outside_area")
        return await record_installation(tx, new, staff_id=member.id, source_key=source_key, now=now)


@dataclass(frozen=True)
class LogLine:
    line: InstallationLine
    correctable: bool


async def my_installations(db: Database, member: Member, now: datetime) -> list[LogLine]:
    """My newest installations, with their names; those I may still correct are marked."""
    async with db.read() as conn:
        lines = await places.installation_lines(conn, member.id)
    return [
        LogLine(
            line,
            now - line.installation.created_at < CORRECTION_WINDOW
            and member.can("staff", line.installation.village_code),
        )
        for line in lines
    ]


async def start_correction(db: Database, member: Member, installation_id: int, now: datetime) -> Installation:
    """Open an entry for correction: mine, in my area, under 24 hours old."""
    async with db.transaction() as tx:
        installation = await _correctable(tx, member, installation_id, now)
        await drafts.save_draft(tx, member.id, INSTALL_DRAFT, {"fix": installation.id}, now)
        return installation


async def correct_installation(
    db: Database,
    member: Member,
    installation_id: int | None = None,
    *,
    speed_mbps: float | None = None,
    technology: str | None = None,
    now: datetime,
) -> Installation:
    """Correct an entry (by default the one opened for correction); the audit log keeps both values."""
    async with db.transaction() as tx:
        if installation_id is None:
            draft = await drafts.get_draft(tx, member.id, INSTALL_DRAFT)
            installation_id = int(draft.get("fix") or 0)
        installation = await _correctable(tx, member, installation_id, now)
        fixed = await correct(
            tx, installation, staff_id=member.id, speed_mbps=speed_mbps, technology=technology, now=now
        )
        await drafts.clear_draft(tx, member.id, INSTALL_DRAFT)
        return fixed


async def _correctable(
    conn: aiosqlite.Connection, member: Member, installation_id: int, now: datetime
) -> Installation:
    installation = await places.get_installation(conn, installation_id)
    if installation is None:
        raise InstallationError("unknown_installation")
    if installation.staff_id != member.id:
        raise InstallationError("not_the_author")
    if not member.can("staff", installation.village_code):
        raise InstallationError("outside_area")
    if now - installation.created_at > CORRECTION_WINDOW:
        raise InstallationError("too_late")
    return installation


# --- admins: imports ------------------------------------------------------------------------------
async def import_file(
    db: Database,
    member: Member,
    kind: importer.ImportKind,
    data: bytes,
    now: datetime,
    *,
    progress: Progress | None = None,
) -> ImportResult:
    """An admin's file: the classifier for the whole country only; plans and buildings for their area."""
    if not member.is_admin:
        raise PlacesError("not_admin")
    if kind == "kato":
        if not member.is_global_admin:
            return ImportResult("kato", problems=[Problem("kato_everywhere")])
        result = await importer.import_kato(db, data, progress=progress)
    else:
        run = importer.import_plan if kind == "plan" else importer.import_objects
        result = await run(
            db, data, now=now, allowed=lambda code: member.can("admin", code), progress=progress
        )
    return result


IMPORT_DRAFT = "import"


async def remember_import_file(db: Database, member: Member, file_id: str, name: str, now: datetime) -> None:
    """An admin sent a file: keep it until they say what is in it."""
    async with db.transaction() as tx:
        await drafts.save_draft(tx, member.id, IMPORT_DRAFT, {"file_id": file_id, "name": name}, now)


async def take_import_file(db: Database, member: Member) -> tuple[str, str] | None:
    """The file waiting to be imported (file id, name), taken once: a second press finds nothing."""
    async with db.transaction() as tx:
        draft = await drafts.get_draft(tx, member.id, IMPORT_DRAFT)
        await drafts.clear_draft(tx, member.id, IMPORT_DRAFT)
    if not draft.get("file_id"):
        return None
    return str(draft["file_id"]), str(draft.get("name") or "file.csv")
