"""Villages, areas, social objects, installations and followers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

import aiosqlite
from pydantic import BaseModel, ConfigDict

from db.timestamps import from_db, to_db

Stage = Literal["none", "planned", "design", "construction", "connected"]
STAGES: tuple[Stage, ...] = ("none", "planned", "design", "construction", "connected")
ObjectKind = Literal["school", "medical", "akimat", "library", "other"]
OBJECT_KINDS: tuple[ObjectKind, ...] = ("school", "medical", "akimat", "library", "other")
TECHNOLOGIES: tuple[str, ...] = ("fibre", "satellite", "radio", "mobile")


class Area(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    level: Literal["region", "district", "okrug"]
    parent: str | None
    name_kk: str
    name_ru: str

    def name(self, language: str) -> str:
        return self.name_kk if language == "kk" else self.name_ru


class Village(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    region_code: str
    district_code: str
    okrug_code: str | None = None
    name_kk: str
    name_ru: str
    latitude: float | None = None
    longitude: float | None = None
    population: int | None = None
    stage: Stage = "none"
    planned_year: int | None = None
    planned_quarter: int | None = None
    operator: str | None = None
    technology: str | None = None
    planned_technology: str | None = None
    note: str | None = None
    changed_at: datetime | None = None
    change_reason: str | None = None

    def name(self, language: str) -> str:
        return self.name_kk if language == "kk" else self.name_ru


class SocialObject(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    village_code: str
    kind: ObjectKind
    name: str
    connected: bool
    technology: str | None = None
    speed_mbps: float | None = None
    connected_at: datetime | None = None


class Installation(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    village_code: str
    object_id: int
    staff_id: int
    technology: str
    speed_mbps: float
    photo_file_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    created_at: datetime
    updated_at: datetime


class VillageChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: datetime
    actor_id: int | None
    field: str
    old: str | None
    new: str | None
    reason: str


def _village(row: aiosqlite.Row) -> Village:
    data = dict(row)
    data["changed_at"] = from_db(data["changed_at"]) if data.get("changed_at") else None
    return Village.model_validate(data)


def _object(row: aiosqlite.Row) -> SocialObject:
    data = dict(row)
    data["connected_at"] = from_db(data["connected_at"]) if data.get("connected_at") else None
    return SocialObject.model_validate(data)


async def get_village(conn: aiosqlite.Connection, code: str) -> Village | None:
    async with conn.execute("SELECT * FROM villages WHERE code = ?", (code,)) as cursor:
        row = await cursor.fetchone()
    return _village(row) if row else None


async def all_villages(conn: aiosqlite.Connection) -> list[Village]:
    async with conn.execute("SELECT * FROM villages ORDER BY code") as cursor:
        return [_village(row) for row in await cursor.fetchall()]


async def villages_in(conn: aiosqlite.Connection, district_code: str) -> list[Village]:
    async with conn.execute(
        "SELECT * FROM villages WHERE district_code = ? ORDER BY name_ru", (district_code,)
    ) as cursor:
        return [_village(row) for row in await cursor.fetchall()]


async def get_area(conn: aiosqlite.Connection, code: str) -> Area | None:
    async with conn.execute("SELECT * FROM areas WHERE code = ?", (code,)) as cursor:
        row = await cursor.fetchone()
    return Area.model_validate(dict(row)) if row else None


async def all_areas(conn: aiosqlite.Connection) -> list[Area]:
    async with conn.execute("SELECT * FROM areas ORDER BY code") as cursor:
        return [Area.model_validate(dict(row)) for row in await cursor.fetchall()]


async def areas_with_villages(conn: aiosqlite.Connection, level: str, parent: str | None) -> list[Area]:
    """Regions (parent None) or a region's districts that have at least one village."""
    column = "region_code" if level == "region" else "district_code"
    async with conn.execute(
        f"SELECT * FROM areas WHERE level = ? AND (? IS NULL OR parent = ?)"
        f" AND code IN (SELECT DISTINCT {column} FROM villages) ORDER BY name_ru",
        (level, parent, parent),
    ) as cursor:
        return [Area.model_validate(dict(row)) for row in await cursor.fetchall()]


async def objects_of(conn: aiosqlite.Connection, village_code: str) -> list[SocialObject]:
    async with conn.execute(
        "SELECT * FROM social_objects WHERE village_code = ? ORDER BY kind, name", (village_code,)
    ) as cursor:
        return [_object(row) for row in await cursor.fetchall()]


async def get_object(conn: aiosqlite.Connection, object_id: int) -> SocialObject | None:
    async with conn.execute("SELECT * FROM social_objects WHERE id = ?", (object_id,)) as cursor:
        row = await cursor.fetchone()
    return _object(row) if row else None


async def last_change(conn: aiosqlite.Connection, village_code: str) -> VillageChange | None:
    async with conn.execute(
        "SELECT * FROM village_changes WHERE village_code = ? ORDER BY id DESC LIMIT 1", (village_code,)
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    return VillageChange(
        at=from_db(row["at"]),
        actor_id=row["actor_id"],
        field=row["field"],
        old=row["old"],
        new=row["new"],
        reason=row["reason"],
    )


async def record_change(
    conn: aiosqlite.Connection,
    *,
    village_code: str,
    field: str,
    old: object,
    new: object,
    reason: str,
    actor_id: int | None,
    now: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO village_changes (village_code, at, actor_id, field, old, new, reason)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            village_code,
            to_db(now),
            actor_id,
            field,
            None if old is None else str(old),
            None if new is None else str(new),
            reason,
        ),
    )
    await conn.execute(
        "UPDATE villages SET changed_at = ?, changed_by = ?, change_reason = ? WHERE code = ?",
        (to_db(now), actor_id, reason, village_code),
    )


async def followers(conn: aiosqlite.Connection, village_code: str) -> list[int]:
    async with conn.execute(
        "SELECT s.user_id FROM subscriptions s JOIN users u ON u.id = s.user_id"
        " WHERE s.village_code = ? AND u.blocked = 0 ORDER BY s.user_id",
        (village_code,),
    ) as cursor:
        return [row[0] for row in await cursor.fetchall()]


async def follow(conn: aiosqlite.Connection, user_id: int, village_code: str, now: datetime) -> bool:
    cursor = await conn.execute(
        "INSERT INTO subscriptions (user_id, village_code, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        (user_id, village_code, to_db(now)),
    )
    return cursor.rowcount == 1


async def unfollow(conn: aiosqlite.Connection, user_id: int, village_code: str) -> bool:
    cursor = await conn.execute(
        "DELETE FROM subscriptions WHERE user_id = ? AND village_code = ?", (user_id, village_code)
    )
    return cursor.rowcount == 1


async def followed_by(conn: aiosqlite.Connection, user_id: int) -> list[str]:
    async with conn.execute(
        "SELECT village_code FROM subscriptions WHERE user_id = ? ORDER BY created_at", (user_id,)
    ) as cursor:
        return [row[0] for row in await cursor.fetchall()]


async def set_my_village(conn: aiosqlite.Connection, user_id: int, village_code: str) -> None:
    await conn.execute("UPDATE users SET village_code = ? WHERE id = ?", (village_code, user_id))


async def my_village(conn: aiosqlite.Connection, user_id: int) -> str | None:
    async with conn.execute("SELECT village_code FROM users WHERE id = ?", (user_id,)) as cursor:
        row = await cursor.fetchone()
    return row[0] if row else None


def _installation(row: aiosqlite.Row) -> Installation:
    data = dict(row)
    data["created_at"] = from_db(data["created_at"])
    data["updated_at"] = from_db(data["updated_at"])
    return Installation.model_validate(data)


async def installations_by(conn: aiosqlite.Connection, staff_id: int, limit: int = 20) -> list[Installation]:
    async with conn.execute(
        "SELECT * FROM installations WHERE staff_id = ? ORDER BY id DESC LIMIT ?", (staff_id, limit)
    ) as cursor:
        return [_installation(row) for row in await cursor.fetchall()]


async def get_installation(conn: aiosqlite.Connection, installation_id: int) -> Installation | None:
    async with conn.execute("SELECT * FROM installations WHERE id = ?", (installation_id,)) as cursor:
        row = await cursor.fetchone()
    return _installation(row) if row else None


async def installation_by_source(conn: aiosqlite.Connection, source_key: str) -> Installation | None:
    async with conn.execute("SELECT * FROM installations WHERE source_key = ?", (source_key,)) as cursor:
        row = await cursor.fetchone()
    return _installation(row) if row else None


async def count_villages(conn: aiosqlite.Connection, codes: Iterable[str] | None = None) -> int:
    async with conn.execute("SELECT count(*) FROM villages") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0
