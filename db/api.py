"""The open API's tables (clients, keys, reporter accounts, filed reports) and its public reads.

Public reads are written for other systems: one query per answer, names joined in, no personal
data selected (no reporter, no Telegram file, no location a resident shared; a description only
when the reporter agreed to publish it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import aiosqlite
from pydantic import BaseModel, ConfigDict

from db.timestamps import from_db, to_db

Scope = Literal["read", "write"]
# System accounts of API clients lie at or below -2^53: no Telegram chat id is that far out.
REPORTER_ID_CEILING = -(2**53)


class ApiKey(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    client_id: int
    client_name: str
    client_salt: str
    prefix: str
    scope: Scope
    area: str
    per_minute: int | None
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


_KEY = (
    "SELECT k.*, c.name AS client_name, c.salt AS client_salt FROM api_keys k"
    " JOIN api_clients c ON c.id = k.client_id"
)


def _moment(value: str | None) -> datetime | None:
    return from_db(value) if value else None


def _key(row: aiosqlite.Row) -> ApiKey:
    data = dict(row)
    for name in ("created_at", "revoked_at", "last_used_at"):
        data[name] = _moment(data[name])
    return ApiKey.model_validate(data)


async def ensure_client(conn: aiosqlite.Connection, name: str, salt: str, now: datetime) -> int:
    """The client's id, registering it on first use (``salt`` is kept only then)."""
    await conn.execute(
        "INSERT INTO api_clients (name, salt, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
        (name, salt, to_db(now)),
    )
    async with conn.execute("SELECT id FROM api_clients WHERE name = ?", (name,)) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


async def add_key(
    conn: aiosqlite.Connection,
    *,
    client_id: int,
    token_hash: str,
    prefix: str,
    scope: Scope,
    area: str,
    per_minute: int | None,
    now: datetime,
) -> ApiKey:
    cursor = await conn.execute(
        "INSERT INTO api_keys (client_id, token_hash, prefix, scope, area, per_minute, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (client_id, token_hash, prefix, scope, area, per_minute, to_db(now)),
    )
    found = await get_key(conn, int(cursor.lastrowid or 0))
    assert found is not None
    return found


async def get_key(conn: aiosqlite.Connection, key_id: int) -> ApiKey | None:
    async with conn.execute(f"{_KEY} WHERE k.id = ?", (key_id,)) as cursor:
        row = await cursor.fetchone()
    return _key(row) if row else None


async def key_by_hash(conn: aiosqlite.Connection, token_hash: str) -> ApiKey | None:
    async with conn.execute(f"{_KEY} WHERE k.token_hash = ?", (token_hash,)) as cursor:
        row = await cursor.fetchone()
    return _key(row) if row else None


async def all_keys(conn: aiosqlite.Connection) -> list[ApiKey]:
    async with conn.execute(f"{_KEY} ORDER BY c.name, k.id") as cursor:
        return [_key(row) for row in await cursor.fetchall()]


async def revoke_key(conn: aiosqlite.Connection, key_id: int, now: datetime) -> bool:
    cursor = await conn.execute(
        "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (to_db(now), key_id)
    )
    return cursor.rowcount == 1


async def key_used(conn: aiosqlite.Connection, key_id: int, now: datetime) -> None:
    await conn.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", (to_db(now), key_id))


async def reporter_account(
    conn: aiosqlite.Connection, *, client_id: int, client_name: str, reporter_key: str, now: datetime
) -> int:
    """The system account that files a client's reports for one of its residents (created once)."""
    async with conn.execute(
        "SELECT user_id FROM api_reporters WHERE client_id = ? AND reporter_key = ?",
        (client_id, reporter_key),
    ) as cursor:
        row = await cursor.fetchone()
    if row is not None:
        return int(row[0])
    async with conn.execute("SELECT min(user_id) FROM api_reporters") as cursor:
        lowest = await cursor.fetchone()
    user_id = REPORTER_ID_CEILING if lowest is None or lowest[0] is None else int(lowest[0]) - 1
    # Marked blocked: the bot never writes to a system account (reporters and followers skip them).
    await conn.execute(
        "INSERT INTO users (id, first_name, first_seen, last_seen, blocked) VALUES (?, ?, ?, ?, 1)",
        (user_id, client_name, to_db(now), to_db(now)),
    )
    await conn.execute(
        "INSERT INTO api_reporters (user_id, client_id, reporter_key, created_at) VALUES (?, ?, ?, ?)",
        (user_id, client_id, reporter_key, to_db(now)),
    )
    return user_id


async def record_api_report(
    conn: aiosqlite.Connection,
    *,
    report_id: int,
    client_id: int,
    key_id: int,
    publish_description: bool,
    token: str,
    now: datetime,
) -> str:
    """Note that a report came through the API; returns its token (the first one, if filed before)."""
    await conn.execute(
        "INSERT INTO api_reports (report_id, client_id, key_id, publish_description, token, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (report_id) DO NOTHING",
        (report_id, client_id, key_id, int(publish_description), token, to_db(now)),
    )
    async with conn.execute("SELECT token FROM api_reports WHERE report_id = ?", (report_id,)) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return str(row[0])


async def report_for_token(conn: aiosqlite.Connection, token: str) -> int | None:
    async with conn.execute("SELECT report_id FROM api_reports WHERE token = ?", (token,)) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else None


# --- Open311 service requests ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PublicRequest:
    """A report as the public sees it: where, what, when and how far it got, nobody's name.

    A plain dataclass, not a pydantic model: a page holds up to 1,000 of them and the columns are
    already typed by the schema, so validating each again would be most of the answer's cost.
    """

    id: int
    kind: str
    created_at: datetime
    village_code: str
    village_kk: str
    village_ru: str
    district_kk: str | None
    district_ru: str | None
    region_kk: str | None
    region_ru: str | None
    latitude: float | None
    longitude: float | None
    operator: str | None
    state: str
    resolution: str | None
    taken_at: datetime | None
    resolved_at: datetime | None
    reopened_at: datetime | None
    opened_at: datetime
    description: str | None  # only when the reporter agreed to publish it


_REQUESTS = (
    "SELECT r.id, r.kind, r.created_at, r.village_code,"
    " v.name_kk AS village_kk, v.name_ru AS village_ru, d.name_kk AS district_kk, d.name_ru AS district_ru,"
    " g.name_kk AS region_kk, g.name_ru AS region_ru, v.latitude, v.longitude, v.operator,"
    " i.state, i.resolution, i.taken_at, i.resolved_at, i.reopened_at, i.opened_at,"
    " CASE WHEN a.publish_description = 1 THEN (SELECT n.text FROM report_notes n"
    "   WHERE n.report_id = r.id AND n.text IS NOT NULL AND n.added_later = 0 ORDER BY n.id LIMIT 1)"
    " END AS description"
    " FROM reports r"
    " JOIN incidents i ON i.id = r.incident_id"
    " JOIN villages v ON v.code = r.village_code"
    " LEFT JOIN areas d ON d.code = v.district_code"
    " LEFT JOIN areas g ON g.code = v.region_code"
    " LEFT JOIN api_reports a ON a.report_id = r.id"
)


def _request(row: aiosqlite.Row) -> PublicRequest:
    (id_, kind, created, village, v_kk, v_ru, d_kk, d_ru, g_kk, g_ru, lat, lon, operator, state, resolution,
     taken, resolved, reopened, opened, description) = row  # fmt: skip
    return PublicRequest(
        id_, kind, from_db(created), village, v_kk, v_ru, d_kk, d_ru, g_kk, g_ru, lat, lon, operator, state,
        resolution, _moment(taken), _moment(resolved), _moment(reopened), from_db(opened), description,
    )  # fmt: skip


async def requests_by_id(conn: aiosqlite.Connection, report_ids: Sequence[int]) -> list[PublicRequest]:
    if not report_ids:
        return []
    marks = ",".join("?" * len(report_ids))
    rows = await conn.execute_fetchall(
        f"{_REQUESTS} WHERE r.id IN ({marks}) ORDER BY r.id", tuple(report_ids)
    )
    return [_request(row) for row in rows]


async def find_requests(
    conn: aiosqlite.Connection,
    *,
    start: datetime,
    end: datetime,
    kinds: Sequence[str] = (),
    closed: bool | None = None,
    limit: int,
    offset: int = 0,
) -> list[PublicRequest]:
    """Reports filed in [start, end), newest first; ``closed`` None for both states."""
    where = ["r.created_at >= ?", "r.created_at < ?"]
    params: list[object] = [to_db(start), to_db(end)]
    if kinds:
        where.append(f"r.kind IN ({','.join('?' * len(kinds))})")
        params += kinds
    if closed is not None:
        where.append("i.state = 'resolved'" if closed else "i.state != 'resolved'")
    sql = f"{_REQUESTS} WHERE {' AND '.join(where)} ORDER BY r.created_at DESC, r.id DESC LIMIT ? OFFSET ?"
    # One trip to the database thread for the whole page.
    rows = await conn.execute_fetchall(sql, (*params, limit, offset))
    return [_request(row) for row in rows]


# --- villages -------------------------------------------------------------------------------------


class PublicVillage(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    name_kk: str
    name_ru: str
    region_code: str
    region_kk: str | None
    region_ru: str | None
    district_code: str
    district_kk: str | None
    district_ru: str | None
    latitude: float | None
    longitude: float | None
    population: int | None
    stage: str
    planned_year: int | None
    planned_quarter: int | None
    operator: str | None
    technology: str | None
    planned_technology: str | None
    changed_at: datetime | None
    change_reason: str | None
    buildings: int
    buildings_online: int


class PublicBuilding(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    kind: str
    name: str
    connected: bool
    technology: str | None
    speed_mbps: float | None
    connected_at: datetime | None


_VILLAGES = (
    "SELECT v.code, v.name_kk, v.name_ru, v.region_code, g.name_kk AS region_kk, g.name_ru AS region_ru,"
    " v.district_code, d.name_kk AS district_kk, d.name_ru AS district_ru, v.latitude, v.longitude,"
    " v.population, v.stage, v.planned_year, v.planned_quarter, v.operator, v.technology,"
    " v.planned_technology, v.changed_at, v.change_reason,"
    " (SELECT count(*) FROM social_objects o WHERE o.village_code = v.code) AS buildings,"
    " (SELECT count(*) FROM social_objects o WHERE o.village_code = v.code AND o.connected = 1)"
    " AS buildings_online"
    " FROM villages v"
    " LEFT JOIN areas g ON g.code = v.region_code"
    " LEFT JOIN areas d ON d.code = v.district_code"
)


def _village(row: aiosqlite.Row) -> PublicVillage:
    data = dict(row)
    data["changed_at"] = _moment(data["changed_at"])
    return PublicVillage.model_validate(data)


def _village_filter(
    region: str | None, district: str | None, stages: Sequence[str], located: bool
) -> tuple[str, list[object]]:
    where: list[str] = []
    params: list[object] = []
    if region:
        where.append("v.region_code = ?")
        params.append(region)
    if district:
        where.append("v.district_code = ?")
        params.append(district)
    if stages:
        where.append(f"v.stage IN ({','.join('?' * len(stages))})")
        params += stages
    if located:
        where.append("v.latitude IS NOT NULL AND v.longitude IS NOT NULL")
    return (f" WHERE {' AND '.join(where)}" if where else ""), params


async def village_page(
    conn: aiosqlite.Connection,
    *,
    region: str | None = None,
    district: str | None = None,
    stages: Sequence[str] = (),
    limit: int,
    offset: int,
) -> tuple[int, list[PublicVillage]]:
    """(how many match, one page of them in KATO order)."""
    where, params = _village_filter(region, district, stages, located=False)
    async with conn.execute(f"SELECT count(*) FROM villages v{where}", params) as cursor:
        row = await cursor.fetchone()
    total = int(row[0]) if row else 0
    async with conn.execute(
        f"{_VILLAGES}{where} ORDER BY v.code LIMIT ? OFFSET ?", (*params, limit, offset)
    ) as cursor:
        return total, [_village(found) for found in await cursor.fetchall()]


async def located_villages(
    conn: aiosqlite.Connection,
    *,
    region: str | None = None,
    district: str | None = None,
    stages: Sequence[str] = (),
) -> list[PublicVillage]:
    """Every matching village that has coordinates, in KATO order (for GeoJSON)."""
    where, params = _village_filter(region, district, stages, located=True)
    async with conn.execute(f"{_VILLAGES}{where} ORDER BY v.code", params) as cursor:
        return [_village(found) for found in await cursor.fetchall()]


async def public_village(conn: aiosqlite.Connection, code: str) -> PublicVillage | None:
    async with conn.execute(f"{_VILLAGES} WHERE v.code = ?", (code,)) as cursor:
        row = await cursor.fetchone()
    return _village(row) if row else None


async def public_buildings(conn: aiosqlite.Connection, code: str) -> list[PublicBuilding]:
    async with conn.execute(
        "SELECT id, kind, name, connected, technology, speed_mbps, connected_at FROM social_objects"
        " WHERE village_code = ? ORDER BY kind, name",
        (code,),
    ) as cursor:
        rows = await cursor.fetchall()
    found = []
    for row in rows:
        data = dict(row)
        data["connected"] = bool(data["connected"])
        data["connected_at"] = _moment(data["connected_at"])
        found.append(PublicBuilding.model_validate(data))
    return found


async def open_outages(conn: aiosqlite.Connection, code: str) -> list[tuple[str, str, datetime, int]]:
    """(kind, state, opened at, reports) of the village's unresolved incidents."""
    async with conn.execute(
        "SELECT i.kind, i.state, i.opened_at, (SELECT count(*) FROM reports r WHERE r.incident_id = i.id)"
        " FROM incidents i WHERE i.village_code = ? AND i.state != 'resolved' ORDER BY i.opened_at",
        (code,),
    ) as cursor:
        return [(row[0], row[1], from_db(row[2]), int(row[3])) for row in await cursor.fetchall()]


async def nearest_village(
    conn: aiosqlite.Connection, latitude: float, longitude: float, within_km: float
) -> str | None:
    """The village whose coordinates are nearest to a point, if one lies within ``within_km``."""
    dlat = within_km / 111.0
    dlon = within_km / max(1.0, 111.0 * math.cos(math.radians(latitude)))
    async with conn.execute(
        "SELECT code, latitude, longitude FROM villages WHERE latitude BETWEEN ? AND ?"
        " AND longitude BETWEEN ? AND ?",
        (latitude - dlat, latitude + dlat, longitude - dlon, longitude + dlon),
    ) as cursor:
        rows = await cursor.fetchall()
    best: tuple[float, str] | None = None
    for row in rows:
        distance = _km(latitude, longitude, row[1], row[2])
        if distance <= within_km and (best is None or distance < best[0]):
            best = (distance, row[0])
    return best[1] if best else None


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(a))
