"""Villages, areas, social objects, installations and followers: every query of the places feature."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Literal

import aiosqlite
from pydantic import BaseModel, ConfigDict

from db.timestamps import from_db, to_db

Stage = Literal["none", "planned", "design", "construction", "connected"]
STAGES: tuple[Stage, ...] = ("none", "planned", "design", "construction", "connected")
ObjectKind = Literal["school", "medical", "akimat", "library", "other"]
OBJECT_KINDS: tuple[ObjectKind, ...] = ("school", "medical", "akimat", "library", "other")
Technology = Literal["fibre", "satellite", "radio", "mobile"]
TECHNOLOGIES: tuple[Technology, ...] = ("fibre", "satellite", "radio", "mobile")
SettlementKind = Literal["village", "town", "station", "locality"]
AreaLevel = Literal["region", "district", "okrug"]


class Area(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    level: AreaLevel
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
    kind: SettlementKind = "village"
    latitude: float | None = None
    longitude: float | None = None
    population: int | None = None
    stage: Stage = "none"
    planned_year: int | None = None
    planned_quarter: int | None = None
    operator: str | None = None
    hotline: str | None = None
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
    name_kk: str | None = None
    name_ru: str | None = None
    connected: bool
    technology: str | None = None
    speed_mbps: float | None = None
    connected_at: datetime | None = None

    def title(self, language: str) -> str:
        """The building's name in ``language``, else in the other one, else the name it was given."""
        own, other = (self.name_kk, self.name_ru) if language == "kk" else (self.name_ru, self.name_kk)
        return own or other or self.name


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


class InstallationLine(BaseModel):
    """An installation with the names of its village and building, for a list."""

    model_config = ConfigDict(frozen=True)

    installation: Installation
    village: dict[str, str]
    building: SocialObject


class VillageChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: datetime
    actor_id: int | None
    field: str
    old: str | None
    new: str | None
    reason: str


class OpenOutage(BaseModel):
    """An outage in a village that is not resolved yet, as a card shows it."""

    model_config = ConfigDict(frozen=True)

    kind: str
    state: str
    since: datetime
    reports: int


def _village(row: aiosqlite.Row) -> Village:
    data = {key: row[key] for key in row.keys() if key in Village.model_fields}
    data["changed_at"] = from_db(data["changed_at"]) if data.get("changed_at") else None
    return Village.model_validate(data)


def _object(row: aiosqlite.Row) -> SocialObject:
    data = {key: row[key] for key in row.keys() if key in SocialObject.model_fields}
    data["connected_at"] = from_db(data["connected_at"]) if data.get("connected_at") else None
    return SocialObject.model_validate(data)


def _area(row: aiosqlite.Row) -> Area:
    return Area.model_validate({key: row[key] for key in row.keys() if key in Area.model_fields})


def _installation(row: aiosqlite.Row) -> Installation:
    data = {key: row[key] for key in row.keys() if key in Installation.model_fields}
    data["created_at"] = from_db(data["created_at"])
    data["updated_at"] = from_db(data["updated_at"])
    return Installation.model_validate(data)


# --- villages and areas ---------------------------------------------------------------------------
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


async def settlements_under(conn: aiosqlite.Connection, area: Area) -> list[Village]:
    """The settlements of a rural okrug, or those of a district that belong to no okrug."""
    if area.level == "okrug":
        sql, params = "SELECT * FROM villages WHERE okrug_code = ?", (area.code,)
    else:
        column = "region_code" if area.level == "region" else "district_code"
        sql, params = f"SELECT * FROM villages WHERE {column} = ? AND okrug_code IS NULL", (area.code,)
    async with conn.execute(sql, params) as cursor:
        return [_village(row) for row in await cursor.fetchall()]


async def get_area(conn: aiosqlite.Connection, code: str) -> Area | None:
    async with conn.execute("SELECT * FROM areas WHERE code = ?", (code,)) as cursor:
        row = await cursor.fetchone()
    return _area(row) if row else None


async def get_areas(conn: aiosqlite.Connection, codes: Iterable[str | None]) -> dict[str, Area]:
    """Several areas in one query, by code."""
    wanted = sorted({code for code in codes if code})
    if not wanted:
        return {}
    marks = ", ".join("?" for _ in wanted)
    async with conn.execute(f"SELECT * FROM areas WHERE code IN ({marks})", wanted) as cursor:
        return {row["code"]: _area(row) for row in await cursor.fetchall()}


async def all_areas(conn: aiosqlite.Connection) -> list[Area]:
    async with conn.execute("SELECT * FROM areas ORDER BY code") as cursor:
        return [_area(row) for row in await cursor.fetchall()]


async def areas_with_villages(conn: aiosqlite.Connection, level: str, parent: str | None) -> list[Area]:
    """Regions (parent None), a region's districts or a district's okrugs that have a settlement."""
    column = {"region": "region_code", "district": "district_code", "okrug": "okrug_code"}[level]
    async with conn.execute(
        f"SELECT * FROM areas WHERE level = ? AND (? IS NULL OR parent = ?)"
        f" AND code IN (SELECT DISTINCT {column} FROM villages WHERE {column} IS NOT NULL) ORDER BY code",
        (level, parent, parent),
    ) as cursor:
        return [_area(row) for row in await cursor.fetchall()]


async def count_villages(conn: aiosqlite.Connection, codes: Iterable[str] | None = None) -> int:
    async with conn.execute("SELECT count(*) FROM villages") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def index_rows(conn: aiosqlite.Connection) -> list[tuple[Any, ...]]:
    """What the search index needs of every settlement, with its okrug, district and region names."""
    async with conn.execute(
        "SELECT v.code, v.name_kk, v.name_ru, d.name_kk, d.name_ru, r.name_kk, r.name_ru, v.stage,"
        " v.latitude, v.longitude, v.kind, o.name_kk, o.name_ru FROM villages v"
        " LEFT JOIN areas d ON d.code = v.district_code LEFT JOIN areas r ON r.code = v.region_code"
        " LEFT JOIN areas o ON o.code = v.okrug_code ORDER BY v.code"
    ) as cursor:
        return [tuple(row) for row in await cursor.fetchall()]


# --- the classifier -------------------------------------------------------------------------------
AreaRow = tuple[str, str | None, str, str]  # level, parent, name_kk, name_ru
VillageRow = tuple[str, str, str | None, str, str, str, str]  # region, district, okrug, kk, ru, version, kind


async def classifier_snapshot(
    conn: aiosqlite.Connection,
) -> tuple[dict[str, AreaRow], dict[str, VillageRow]]:
    """Every area and settlement as the classifier import compares them."""
    async with conn.execute("SELECT code, level, parent, name_kk, name_ru FROM areas") as cursor:
        areas = {row[0]: (row[1], row[2], row[3], row[4]) for row in await cursor.fetchall()}
    async with conn.execute(
        "SELECT code, region_code, district_code, okrug_code, name_kk, name_ru, kato_version, kind FROM villages"
    ) as cursor:
        villages = {
            row[0]: (row[1], row[2], row[3], row[4], row[5], row[6], row[7])
            for row in await cursor.fetchall()
        }
    return areas, villages


async def settlement_codes(conn: aiosqlite.Connection) -> set[str]:
    async with conn.execute("SELECT code FROM villages") as cursor:
        return {row[0] for row in await cursor.fetchall()}


async def save_areas(
    conn: aiosqlite.Connection, rows: Sequence[tuple[str, str, str | None, str, str]]
) -> None:
    await conn.executemany(
        "INSERT INTO areas (code, level, parent, name_kk, name_ru) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (code) DO UPDATE SET level = excluded.level, parent = excluded.parent,"
        " name_kk = excluded.name_kk, name_ru = excluded.name_ru",
        rows,
    )


async def save_settlements(conn: aiosqlite.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """(code, region, district, okrug, name_kk, name_ru, kato_version, kind) rows, added or updated."""
    await conn.executemany(
        "INSERT INTO villages (code, region_code, district_code, okrug_code, name_kk, name_ru, kato_version, kind)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET region_code = excluded.region_code,"
        " district_code = excluded.district_code, okrug_code = excluded.okrug_code,"
        " name_kk = excluded.name_kk, name_ru = excluded.name_ru, kato_version = excluded.kato_version,"
        " kind = excluded.kind",
        rows,
    )


# --- rollout --------------------------------------------------------------------------------------
async def update_rollout(
    conn: aiosqlite.Connection,
    code: str,
    *,
    stage: Stage,
    planned_year: int | None,
    planned_quarter: int | None,
    operator: str | None,
    technology: str | None,
    planned_technology: str | None,
    note: str | None,
) -> None:
    await conn.execute(
        "UPDATE villages SET stage = ?, planned_year = ?, planned_quarter = ?, operator = ?, technology = ?,"
        " planned_technology = ?, note = ? WHERE code = ?",
        (stage, planned_year, planned_quarter, operator, technology, planned_technology, note, code),
    )


async def update_details(
    conn: aiosqlite.Connection,
    code: str,
    *,
    latitude: float | None,
    longitude: float | None,
    population: int | None,
    hotline: str | None,
) -> None:
    """What a plan says of a village besides its rollout: where it is, how many live there, whom to call."""
    await conn.execute(
        "UPDATE villages SET latitude = ?, longitude = ?, population = ?, hotline = ? WHERE code = ?",
        (latitude, longitude, population, hotline, code),
    )


async def last_change(conn: aiosqlite.Connection, village_code: str) -> VillageChange | None:
    found = await recent_changes(conn, village_code, limit=1)
    return found[0] if found else None


async def recent_changes(
    conn: aiosqlite.Connection, village_code: str, limit: int = 5
) -> list[VillageChange]:
    """The newest changes of a village, newest first (one update may change several fields)."""
    async with conn.execute(
        "SELECT * FROM village_changes WHERE village_code = ? ORDER BY id DESC LIMIT ?", (village_code, limit)
    ) as cursor:
        rows = await cursor.fetchall()
    return [
        VillageChange(
            at=from_db(row["at"]),
            actor_id=row["actor_id"],
            field=row["field"],
            old=row["old"],
            new=row["new"],
            reason=row["reason"],
        )
        for row in rows
    ]


async def last_change_id(conn: aiosqlite.Connection) -> int:
    async with conn.execute("SELECT max(id) FROM village_changes") as cursor:
        row = await cursor.fetchone()
    return int(row[0] or 0) if row else 0


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


# --- followers ------------------------------------------------------------------------------------
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


async def home_village(conn: aiosqlite.Connection, user_id: int) -> str | None:
    """The person's own village, or else the first village they follow."""
    async with conn.execute(
        "SELECT coalesce(u.village_code, (SELECT s.village_code FROM subscriptions s WHERE s.user_id = u.id"
        " ORDER BY s.created_at LIMIT 1)) FROM users u WHERE u.id = ?",
        (user_id,),
    ) as cursor:
        row = await cursor.fetchone()
    return row[0] if row else None


# --- buildings ------------------------------------------------------------------------------------
async def objects_of(conn: aiosqlite.Connection, village_code: str) -> list[SocialObject]:
    """A village's buildings: schools, medical posts, akimats, libraries, others; by name within each."""
    async with conn.execute(
        "SELECT * FROM social_objects WHERE village_code = ? ORDER BY CASE kind WHEN 'school' THEN 0"
        " WHEN 'medical' THEN 1 WHEN 'akimat' THEN 2 WHEN 'library' THEN 3 ELSE 4 END, name",
        (village_code,),
    ) as cursor:
        return [_object(row) for row in await cursor.fetchall()]


async def get_object(conn: aiosqlite.Connection, object_id: int) -> SocialObject | None:
    async with conn.execute("SELECT * FROM social_objects WHERE id = ?", (object_id,)) as cursor:
        row = await cursor.fetchone()
    return _object(row) if row else None


async def add_object(
    conn: aiosqlite.Connection,
    village_code: str,
    kind: str,
    name: str,
    *,
    name_kk: str | None = None,
    name_ru: str | None = None,
) -> SocialObject:
    """A building of the village with this kind and name: the one already there, or a new one."""
    await conn.execute(
        "INSERT INTO social_objects (village_code, kind, name, name_kk, name_ru) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        (village_code, kind, name, name_kk, name_ru),
    )
    async with conn.execute(
        "SELECT * FROM social_objects WHERE village_code = ? AND kind = ? AND name = ?",
        (village_code, kind, name),
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None  # inserted just above, or already there
    return _object(row)


async def mark_online(
    conn: aiosqlite.Connection, object_id: int, *, technology: str, speed_mbps: float, now: datetime
) -> None:
    """A building is online; the first time it went online is kept."""
    await conn.execute(
        "UPDATE social_objects SET connected = 1, technology = ?, speed_mbps = ?,"
        " connected_at = coalesce(connected_at, ?) WHERE id = ?",
        (technology, speed_mbps, to_db(now), object_id),
    )


async def set_object_link(
    conn: aiosqlite.Connection, object_id: int, *, technology: str, speed_mbps: float
) -> None:
    await conn.execute(
        "UPDATE social_objects SET speed_mbps = ?, technology = ? WHERE id = ?",
        (speed_mbps, technology, object_id),
    )


ObjectKey = tuple[str, str, str]  # village, kind, name
ObjectState = tuple[
    int, str | None, float | None, str | None, str | None
]  # connected, technology, speed, kk, ru


async def object_states(conn: aiosqlite.Connection) -> dict[ObjectKey, ObjectState]:
    """Every building as the objects import compares them."""
    async with conn.execute(
        "SELECT village_code, kind, name, connected, technology, speed_mbps, name_kk, name_ru FROM social_objects"
    ) as cursor:
        return {
            (row[0], row[1], row[2]): (row[3], row[4], row[5], row[6], row[7])
            for row in await cursor.fetchall()
        }


async def save_objects(conn: aiosqlite.Connection, rows: Sequence[tuple[Any, ...]], now: datetime) -> None:
    """(village, kind, name, connected, technology, speed, name_kk, name_ru) rows, added or updated.

    A building switched on gets its connection time (the first one is kept); switched off, it loses it.
    """
    moment = to_db(now)
    await conn.executemany(
        "INSERT INTO social_objects (village_code, kind, name, connected, technology, speed_mbps, name_kk, name_ru,"
        " connected_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, CASE WHEN ? THEN ? END)"
        " ON CONFLICT (village_code, kind, name) DO UPDATE SET connected = excluded.connected,"
        " technology = excluded.technology, speed_mbps = excluded.speed_mbps, name_kk = excluded.name_kk,"
        " name_ru = excluded.name_ru, connected_at = CASE WHEN excluded.connected"
        " THEN coalesce(social_objects.connected_at, excluded.connected_at) END",
        [(*row, row[3], moment) for row in rows],
    )


# --- installations --------------------------------------------------------------------------------
async def add_installation(
    conn: aiosqlite.Connection,
    *,
    village_code: str,
    object_id: int,
    staff_id: int,
    technology: str,
    speed_mbps: float,
    photo_file_id: str | None,
    latitude: float | None,
    longitude: float | None,
    source_key: str,
    now: datetime,
) -> int:
    cursor = await conn.execute(
        "INSERT INTO installations (village_code, object_id, staff_id, technology, speed_mbps, photo_file_id,"
        " latitude, longitude, created_at, updated_at, source_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            village_code,
            object_id,
            staff_id,
            technology,
            speed_mbps,
            photo_file_id,
            latitude,
            longitude,
            to_db(now),
            to_db(now),
            source_key,
        ),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def update_installation(
    conn: aiosqlite.Connection, installation_id: int, *, speed_mbps: float, technology: str, now: datetime
) -> None:
    await conn.execute(
        "UPDATE installations SET speed_mbps = ?, technology = ?, updated_at = ? WHERE id = ?",
        (speed_mbps, technology, to_db(now), installation_id),
    )


async def installations_by(conn: aiosqlite.Connection, staff_id: int, limit: int = 20) -> list[Installation]:
    async with conn.execute(
        "SELECT * FROM installations WHERE staff_id = ? ORDER BY id DESC LIMIT ?", (staff_id, limit)
    ) as cursor:
        return [_installation(row) for row in await cursor.fetchall()]


async def installation_lines(
    conn: aiosqlite.Connection, staff_id: int, limit: int = 20
) -> list[InstallationLine]:
    """A staff member's newest installations with their village and building, in one query."""
    async with conn.execute(
        "SELECT i.*, v.name_kk AS village_kk, v.name_ru AS village_ru, o.id AS o_id, o.kind AS o_kind,"
        " o.name AS o_name, o.name_kk AS o_name_kk, o.name_ru AS o_name_ru, o.connected AS o_connected"
        " FROM installations i JOIN villages v ON v.code = i.village_code"
        " JOIN social_objects o ON o.id = i.object_id WHERE i.staff_id = ? ORDER BY i.id DESC LIMIT ?",
        (staff_id, limit),
    ) as cursor:
        rows = await cursor.fetchall()
    return [
        InstallationLine(
            installation=_installation(row),
            village={"kk": row["village_kk"], "ru": row["village_ru"]},
            building=SocialObject(
                id=row["o_id"],
                village_code=row["village_code"],
                kind=row["o_kind"],
                name=row["o_name"],
                name_kk=row["o_name_kk"],
                name_ru=row["o_name_ru"],
                connected=bool(row["o_connected"]),
            ),
        )
        for row in rows
    ]


async def get_installation(conn: aiosqlite.Connection, installation_id: int) -> Installation | None:
    async with conn.execute("SELECT * FROM installations WHERE id = ?", (installation_id,)) as cursor:
        row = await cursor.fetchone()
    return _installation(row) if row else None


async def installation_by_source(conn: aiosqlite.Connection, source_key: str) -> Installation | None:
    async with conn.execute("SELECT * FROM installations WHERE source_key = ?", (source_key,)) as cursor:
        row = await cursor.fetchone()
    return _installation(row) if row else None


# --- what the outages feature records, read for a village's card ---------------------------------
async def open_outages(conn: aiosqlite.Connection, village_code: str) -> list[OpenOutage]:
    """Outages of the village not resolved yet, oldest first, with how many people reported each."""
    async with conn.execute(
        "SELECT i.kind, i.state, coalesce(i.reopened_at, i.opened_at) AS since,"
        " (SELECT count(*) FROM reports r WHERE r.incident_id = i.id) AS reports"
        " FROM incidents i WHERE i.village_code = ? AND i.state != 'resolved' ORDER BY i.opened_at, i.id",
        (village_code,),
    ) as cursor:
        rows = await cursor.fetchall()
    return [
        OpenOutage(kind=row["kind"], state=row["state"], since=from_db(row["since"]), reports=row["reports"])
        for row in rows
    ]
