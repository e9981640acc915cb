"""Rules for villages: how rollout changes and installations move a village, and who is told.

The rules are written out for people in docs/villages.md; keep the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import aiosqlite

from bot.clock import to_db
from bot.i18n import N_
from db import audit, events, outbox, places
from db.places import Area, Installation, SocialObject, Stage, Village, VillageChange

CORRECTION_WINDOW = timedelta(hours=24)
MIN_SPEED, MAX_SPEED = 0.1, 10_000.0

# Why a stage or planned date changed: a fixed list, so residents read a plain reason.
REASONS: dict[str, str] = {
    "plan_import": N_("the rollout plan was updated"),
    "plan_updated": N_("the rollout plan was updated"),
    "survey_done": N_("the survey is finished"),
    "construction_started": N_("construction has started"),
    "installed": N_("equipment was installed"),
    "delayed_weather": N_("delayed by weather"),
    "delayed_permits": N_("delayed by permits"),
    "technology_changed": N_("the connection technology changed"),
    "other": N_("other reasons"),
}
STAFF_REASONS = (
    "plan_updated",
    "survey_done",
    "construction_started",
    "delayed_weather",
    "delayed_permits",
    "technology_changed",
    "other",
)


@dataclass(frozen=True)
class RolloutChange:
    stage: Stage
    planned_year: int | None = None
    planned_quarter: int | None = None
    operator: str | None = None
    technology: str | None = None
    planned_technology: str | None = None
    note: str | None = None


@dataclass
class Outcome:
    fields: list[str] = field(default_factory=list)
    notified: int = 0


def _names(village: Village) -> dict[str, str]:
    return {"kk": village.name_kk, "ru": village.name_ru}


async def notify_followers(
    conn: aiosqlite.Connection,
    village: Village,
    kind: str,
    params: dict[str, object],
    key: str,
    now: datetime,
) -> int:
    """Queue one notification per follower, in the caller's transaction."""
    count = 0
    for user_id in await places.followers(conn, village.code):
        if await outbox.enqueue(
            conn,
            chat_id=user_id,
            kind=kind,
            params={"village": _names(village), "code": village.code, **params},
            now=now,
            dedup_key=f"{key}:user:{user_id}",
        ):
            count += 1
    return count


async def _last_change_id(conn: aiosqlite.Connection) -> int:
    async with conn.execute("SELECT max(id) FROM village_changes") as cursor:
        row = await cursor.fetchone()
    return int(row[0] or 0) if row else 0


async def change_rollout(
    conn: aiosqlite.Connection,
    village: Village,
    change: RolloutChange,
    *,
    reason: str,
    actor_id: int | None,
    now: datetime,
) -> Outcome:
    """Apply a new stage/plan to a village: history with the reason, followers told."""
    outcome = Outcome()
    current = {
        "stage": village.stage,
        "operator": village.operator,
        "technology": village.technology,
        "planned_technology": village.planned_technology,
        "note": village.note,
        "window": _window(village.planned_year, village.planned_quarter),
    }
    wanted = {
        "stage": change.stage,
        "operator": change.operator,
        "technology": change.technology,
        "planned_technology": change.planned_technology,
        "note": change.note,
        "window": _window(change.planned_year, change.planned_quarter),
    }
    for name, value in wanted.items():
        if current[name] != value:
            outcome.fields.append(name)
            await places.record_change(
                conn,
                village_code=village.code,
                field=name,
                old=current[name],
                new=value,
                reason=reason,
                actor_id=actor_id,
                now=now,
            )
    if not outcome.fields:
        return outcome
    await conn.execute(
        "UPDATE villages SET stage = ?, planned_year = ?, planned_quarter = ?, operator = ?, technology = ?,"
        " planned_technology = ?, note = ? WHERE code = ?",
        (
            change.stage,
            change.planned_year,
            change.planned_quarter,
            change.operator,
            change.technology,
            change.planned_technology,
            change.note,
            village.code,
        ),
    )
    change_id = await _last_change_id(conn)
    if "stage" in outcome.fields:
        await events.emit(
            conn,
            "stage_changed",
            f"village:{village.code}",
            {
                "village": village.code,
                "stage": change.stage,
                "old_stage": village.stage,
                "reason": reason,
                "planned": {"year": change.planned_year, "quarter": change.planned_quarter},
            },
            now,
        )
        outcome.notified += await notify_followers(
            conn,
            village,
            "village.stage_changed",
            {
                "stage": change.stage,
                "old_stage": village.stage,
                "reason": reason,
                "year": change.planned_year,
                "quarter": change.planned_quarter,
            },
            f"village:{village.code}:change:{change_id}",
            now,
        )
    elif "window" in outcome.fields:
        outcome.notified += await notify_followers(
            conn,
            village,
            "village.window_changed",
            {"year": change.planned_year, "quarter": change.planned_quarter, "reason": reason},
            f"village:{village.code}:change:{change_id}",
            now,
        )
    return outcome


def _window(year: int | None, quarter: int | None) -> str | None:
    if year is None:
        return None
    return f"{year}" if quarter is None else f"{year}-Q{quarter}"


@dataclass(frozen=True)
class NewInstallation:
    village_code: str
    object_id: int | None
    new_object_kind: str | None
    new_object_name: str | None
    technology: str
    speed_mbps: float
    photo_file_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None


class InstallationError(ValueError):
    """An installation that breaks a rule; ``code`` says which, for a localized message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def check_speed(text: str) -> float:
    """A measured speed typed by staff: «85», «85,5», «85 Mbit/s»."""
    cleaned = text.strip().lower().replace(",", ".")
    for unit in ("mbit/s", "mbps", "мбит/с", "мбит", "мб/с", "mb/s"):
        cleaned = cleaned.removesuffix(unit).strip()
    try:
        speed = float(cleaned)
    except ValueError:
        raise InstallationError("speed_not_a_number") from None
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise InstallationError("speed_out_of_range")
    return round(speed, 1)


async def log_installation(
    conn: aiosqlite.Connection, new: NewInstallation, *, staff_id: int, source_key: str, now: datetime
) -> tuple[Installation, bool]:
    """Record an installation and apply its effects; (installation, created). Idempotent per source_key."""
    existing = await places.installation_by_source(conn, source_key)
    if existing is not None:
        return existing, False
    village = await places.get_village(conn, new.village_code)
    if village is None:
        raise InstallationError("unknown_village")
    if new.technology not in places.TECHNOLOGIES:
        raise InstallationError("unknown_technology")
    if not MIN_SPEED <= new.speed_mbps <= MAX_SPEED:
        raise InstallationError("speed_out_of_range")
    social = await _object_for(conn, village, new)
    was_online = social.connected
    await conn.execute(
        "UPDATE social_objects SET connected = 1, technology = ?, speed_mbps = ?,"
        " connected_at = coalesce(connected_at, ?) WHERE id = ?",
        (new.technology, new.speed_mbps, to_db(now), social.id),
    )
    cursor = await conn.execute(
        "INSERT INTO installations (village_code, object_id, staff_id, technology, speed_mbps, photo_file_id,"
        " latitude, longitude, created_at, updated_at, source_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            village.code,
            social.id,
            staff_id,
            new.technology,
            new.speed_mbps,
            new.photo_file_id,
            new.latitude,
            new.longitude,
            to_db(now),
            to_db(now),
            source_key,
        ),
    )
    installation_id = cursor.lastrowid
    assert installation_id is not None
    await audit.record(
        conn,
        actor_id=staff_id,
        subject=f"installation:{installation_id}",
        action="installation.log",
        detail={"object": social.id, "technology": new.technology, "speed_mbps": new.speed_mbps},
        now=now,
    )
    await events.emit(
        conn,
        "installation",
        f"village:{village.code}",
        {
            "village": village.code,
            "installation": installation_id,
            "building": {"id": social.id, "kind": social.kind, "name": social.name},
            "technology": new.technology,
            "speed_mbps": new.speed_mbps,
        },
        now,
    )
    if not was_online:
        await notify_followers(
            conn,
            village,
            "village.object_online",
            {
                "object": social.name,
                "kind": social.kind,
                "technology": new.technology,
                "speed": new.speed_mbps,
            },
            f"installation:{installation_id}",
            now,
        )
    # Rule: the first building online makes the village "connected"; the technology follows the install.
    planned_technology = None if village.planned_technology == new.technology else village.planned_technology
    technology = (
        new.technology if village.technology in (None, "satellite", "radio", "mobile") else village.technology
    )
    if village.stage != "connected" or technology != village.technology:
        await change_rollout(
            conn,
            village,
            RolloutChange(
                stage="connected",
                planned_year=village.planned_year,
                planned_quarter=village.planned_quarter,
                operator=village.operator,
                technology=technology,
                planned_technology=planned_technology,
                note=village.note,
            ),
            reason="installed",
            actor_id=staff_id,
            now=now,
        )
    installation = await places.get_installation(conn, installation_id)
    assert installation is not None
    return installation, True


async def _object_for(conn: aiosqlite.Connection, village: Village, new: NewInstallation) -> SocialObject:
    if new.object_id is not None:
        found = await places.get_object(conn, new.object_id)
        if found is None or found.village_code != village.code:
            raise InstallationError("unknown_object")
        return found
    if new.new_object_kind not in places.OBJECT_KINDS or not (new.new_object_name or "").strip():
        raise InstallationError("unknown_object")
    name = (new.new_object_name or "").strip()
    await conn.execute(
        "INSERT INTO social_objects (village_code, kind, name) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        (village.code, new.new_object_kind, name),
    )
    async with conn.execute(
        "SELECT id FROM social_objects WHERE village_code = ? AND kind = ? AND name = ?",
        (village.code, new.new_object_kind, name),
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None  # inserted just above, or already there
    found = await places.get_object(conn, int(row[0]))
    assert found is not None
    return found


async def correct_installation(
    conn: aiosqlite.Connection,
    installation_id: int,
    *,
    staff_id: int,
    speed_mbps: float | None = None,
    technology: str | None = None,
    now: datetime,
) -> Installation:
    """The author may correct their own entry within 24 hours; the audit log keeps old and new values."""
    installation = await places.get_installation(conn, installation_id)
    if installation is None:
        raise InstallationError("unknown_installation")
    if installation.staff_id != staff_id:
        raise InstallationError("not_the_author")
    if now - installation.created_at > CORRECTION_WINDOW:
        raise InstallationError("too_late")
    new_speed = installation.speed_mbps if speed_mbps is None else speed_mbps
    new_technology = technology or installation.technology
    if not MIN_SPEED <= new_speed <= MAX_SPEED:
        raise InstallationError("speed_out_of_range")
    if new_technology not in places.TECHNOLOGIES:
        raise InstallationError("unknown_technology")
    await conn.execute(
        "UPDATE installations SET speed_mbps = ?, technology = ?, updated_at = ? WHERE id = ?",
        (new_speed, new_technology, to_db(now), installation_id),
    )
    await conn.execute(
        "UPDATE social_objects SET speed_mbps = ?, technology = ? WHERE id = ?",
        (new_speed, new_technology, installation.object_id),
    )
    await audit.record(
        conn,
        actor_id=staff_id,
        subject=f"installation:{installation_id}",
        action="installation.correct",
        detail={
            "old": {"speed_mbps": installation.speed_mbps, "technology": installation.technology},
            "new": {"speed_mbps": new_speed, "technology": new_technology},
        },
        now=now,
    )
    corrected = await places.get_installation(conn, installation_id)
    assert corrected is not None
    return corrected


@dataclass(frozen=True)
class VillageCard:
    village: Village
    district: Area | None
    region: Area | None
    objects: list[SocialObject]
    last_change: VillageChange | None
    followers: int
    following: bool


async def village_card(
    conn: aiosqlite.Connection, code: str, viewer_id: int | None = None
) -> VillageCard | None:
    village = await places.get_village(conn, code)
    if village is None:
        return None
    watchers = await places.followers(conn, code)
    return VillageCard(
        village=village,
        district=await places.get_area(conn, village.district_code),
        region=await places.get_area(conn, village.region_code),
        objects=await places.objects_of(conn, code),
        last_change=await places.last_change(conn, code),
        followers=len(watchers),
        following=viewer_id in watchers,
    )
