"""What a rollout change or an installation does to a village, inside the caller's transaction.

The rules are written out for people in docs/villages.md; keep the two in step. The central one:
a village is "connected" — homes can get internet — only when staff say so (a stage change, or a
rollout plan file). A building that goes online (an installation) is news about that building:
followers are told which building is online and what homes should do, and the village's stage
stays as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import aiosqlite

from db import audit, events, outbox, places
from db.places import Installation, SocialObject, Stage, Village

CORRECTION_WINDOW = timedelta(hours=24)
MIN_SPEED, MAX_SPEED = 0.1, 10_000.0
MAX_BUILDING_NAME = 100
# A building's technology replaces the village's when the village has none, or only a stopgap.
STOPGAP_TECHNOLOGIES = (None, "satellite", "radio", "mobile")


class PlacesError(ValueError):
    """A request that breaks a rule; ``code`` says which, for a message in the person's language."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class InstallationError(PlacesError):
    """An installation or a correction that breaks a rule."""


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


def names(village: Village) -> dict[str, str]:
    return {"kk": village.name_kk, "ru": village.name_ru}


def homes_params(village: Village) -> dict[str, object]:
    """What a notification needs to say whether homes can connect, and when."""
    return {
        "stage": village.stage,
        "year": village.planned_year,
        "quarter": village.planned_quarter,
        "operator": village.operator,
        "hotline": village.hotline,
    }


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
            params={"village": names(village), "code": village.code, **params},
            now=now,
            dedup_key=f"{key}:user:{user_id}",
        ):
            count += 1
    return count


def window(year: int | None, quarter: int | None) -> str | None:
    if year is None:
        return None
    return f"{year}" if quarter is None else f"{year}-Q{quarter}"


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
        "window": window(village.planned_year, village.planned_quarter),
    }
    wanted = {
        "stage": change.stage,
        "operator": change.operator,
        "technology": change.technology,
        "planned_technology": change.planned_technology,
        "note": change.note,
        "window": window(change.planned_year, change.planned_quarter),
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
    await places.update_rollout(
        conn,
        village.code,
        stage=change.stage,
        planned_year=change.planned_year,
        planned_quarter=change.planned_quarter,
        operator=change.operator,
        technology=change.technology,
        planned_technology=change.planned_technology,
        note=change.note,
    )
    change_id = await places.last_change_id(conn)
    key = f"village:{village.code}:change:{change_id}"
    common: dict[str, object] = {
        "reason": reason,
        "year": change.planned_year,
        "quarter": change.planned_quarter,
    }
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
                **common,
                "stage": change.stage,
                "old_stage": village.stage,
                "operator": change.operator,
                "hotline": village.hotline,
            },
            key,
            now,
        )
    elif "window" in outcome.fields:
        outcome.notified += await notify_followers(conn, village, "village.window_changed", common, key, now)
    return outcome


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


def check_building_name(text: str) -> str:
    name = " ".join(text.split())
    if not 2 <= len(name) <= MAX_BUILDING_NAME:
        raise InstallationError("name_length")
    return name


async def record_installation(
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
    building = await _building_for(conn, village, new)
    await places.mark_online(conn, building.id, technology=new.technology, speed_mbps=new.speed_mbps, now=now)
    installation_id = await places.add_installation(
        conn,
        village_code=village.code,
        object_id=building.id,
        staff_id=staff_id,
        technology=new.technology,
        speed_mbps=new.speed_mbps,
        photo_file_id=new.photo_file_id,
        latitude=new.latitude,
        longitude=new.longitude,
        source_key=source_key,
        now=now,
    )
    await audit.record(
        conn,
        actor_id=staff_id,
        subject=f"installation:{installation_id}",
        action="installation.log",
        detail={"object": building.id, "technology": new.technology, "speed_mbps": new.speed_mbps},
        now=now,
    )
    await events.emit(
        conn,
        "installation",
        f"village:{village.code}",
        {
            "village": village.code,
            "installation": installation_id,
            "building": {"id": building.id, "kind": building.kind, "name": building.name},
            "technology": new.technology,
            "speed_mbps": new.speed_mbps,
        },
        now,
    )
    # Rule: the village's technology follows a building's when the village had none or a stopgap;
    # its stage does not move — homes are connected only when staff say so.
    technology = new.technology if village.technology in STOPGAP_TECHNOLOGIES else village.technology
    planned_technology = None if village.planned_technology == technology else village.planned_technology
    if technology != village.technology or planned_technology != village.planned_technology:
        await change_rollout(
            conn,
            village,
            RolloutChange(
                stage=village.stage,
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
    if not building.connected:
        await notify_followers(
            conn,
            village,
            "village.object_online",
            {
                "object": {"kk": building.title("kk"), "ru": building.title("ru")},
                "kind": building.kind,
                "technology": new.technology,
                "speed": new.speed_mbps,
                **homes_params(village),
            },
            f"installation:{installation_id}",
            now,
        )
    installation = await places.get_installation(conn, installation_id)
    assert installation is not None
    return installation, True


async def _building_for(conn: aiosqlite.Connection, village: Village, new: NewInstallation) -> SocialObject:
    if new.object_id is not None:
        found = await places.get_object(conn, new.object_id)
        if found is None or found.village_code != village.code:
            raise InstallationError("unknown_object")
        return found
    if new.new_object_kind not in places.OBJECT_KINDS or not (new.new_object_name or "").strip():
        raise InstallationError("unknown_object")
    return await places.add_object(
        conn, village.code, new.new_object_kind, check_building_name(new.new_object_name or "")
    )


async def correct(
    conn: aiosqlite.Connection,
    installation: Installation,
    *,
    staff_id: int,
    speed_mbps: float | None,
    technology: str | None,
    now: datetime,
) -> Installation:
    """The author may correct their own entry within 24 hours; the audit log keeps old and new values."""
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
    await places.update_installation(
        conn, installation.id, speed_mbps=new_speed, technology=new_technology, now=now
    )
    await places.set_object_link(
        conn, installation.object_id, technology=new_technology, speed_mbps=new_speed
    )
    await audit.record(
        conn,
        actor_id=staff_id,
        subject=f"installation:{installation.id}",
        action="installation.correct",
        detail={
            "old": {"speed_mbps": installation.speed_mbps, "technology": installation.technology},
            "new": {"speed_mbps": new_speed, "technology": new_technology},
        },
        now=now,
    )
    corrected = await places.get_installation(conn, installation.id)
    assert corrected is not None
    return corrected
