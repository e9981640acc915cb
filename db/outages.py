"""Incidents and the reports (tickets) grouped into them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import aiosqlite
from pydantic import BaseModel, ConfigDict

from db.timestamps import from_db, to_db

Kind = Literal["home", "school", "medical", "akimat", "village", "mobile"]
KINDS: tuple[Kind, ...] = ("home", "school", "medical", "akimat", "village", "mobile")
Since = Literal["now", "today", "yesterday", "days"]
SINCE: tuple[Since, ...] = ("now", "today", "yesterday", "days")
State = Literal["open", "taken", "in_progress", "resolved"]
Resolution = Literal["fixed", "power", "not_ours", "duplicate", "other"]
RESOLUTIONS: tuple[Resolution, ...] = ("fixed", "power", "not_ours", "duplicate", "other")


class Incident(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    village_code: str
    kind: Kind
    state: State
    opened_at: datetime
    taken_at: datetime | None = None
    taken_by: int | None = None
    resolved_at: datetime | None = None
    resolved_by: int | None = None
    resolution: Resolution | None = None
    reopened: int = 0
    escalated_at: datetime | None = None
    reopened_at: datetime | None = None
    mass: bool = False
    version: int = 0
    reports: int = 0
    first_since: Since = "now"

    @property
    def clock_start(self) -> datetime:
        """Where the times to take and to resolve run from: the opening, or the last reopening."""
        return self.reopened_at or self.opened_at


class Report(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    incident_id: int
    user_id: int
    village_code: str
    kind: Kind
    since: Since
    description: str | None = None
    photo_file_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    created_at: datetime

    @property
    def number(self) -> str:
        """The receipt number a resident quotes: short, unique, readable."""
        return f"AN-{self.id:06d}"


_INCIDENT = (
    "SELECT i.*, (SELECT count(*) FROM reports r WHERE r.incident_id = i.id) AS reports,"
    " (SELECT r.since FROM reports r WHERE r.incident_id = i.id ORDER BY r.id LIMIT 1) AS first_since"
    " FROM incidents i"
)


def _moment(value: str | None) -> datetime | None:
    return from_db(value) if value else None


def _incident(row: aiosqlite.Row) -> Incident:
    data = dict(row)
    for key in ("opened_at", "taken_at", "resolved_at", "escalated_at", "reopened_at"):
        data[key] = _moment(data[key])
    data["mass"] = bool(data["mass"])
    data["first_since"] = data.get("first_since") or "now"
    return Incident.model_validate(data)


def _report(row: aiosqlite.Row) -> Report:
    data = dict(row)
    data["created_at"] = from_db(data["created_at"])
    return Report.model_validate({k: v for k, v in data.items() if k in Report.model_fields})


async def get_incident(conn: aiosqlite.Connection, incident_id: int) -> Incident | None:
    async with conn.execute(f"{_INCIDENT} WHERE i.id = ?", (incident_id,)) as cursor:
        row = await cursor.fetchone()
    return _incident(row) if row else None


async def open_incident_for(conn: aiosqlite.Connection, village_code: str, kind: str) -> Incident | None:
    async with conn.execute(
        f"{_INCIDENT} WHERE i.village_code = ? AND i.kind = ? AND i.state != 'resolved'", (village_code, kind)
    ) as cursor:
        row = await cursor.fetchone()
    return _incident(row) if row else None


async def create_incident(conn: aiosqlite.Connection, village_code: str, kind: str, now: datetime) -> int:
    cursor = await conn.execute(
        "INSERT INTO incidents (village_code, kind, opened_at) VALUES (?, ?, ?)",
        (village_code, kind, to_db(now)),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def unresolved(conn: aiosqlite.Connection, scopes: list[str] | None = None) -> list[Incident]:
    """Open incidents, oldest first; ``scopes`` are KATO prefixes ('' for everywhere)."""
    async with conn.execute(f"{_INCIDENT} WHERE i.state != 'resolved' ORDER BY i.opened_at, i.id") as cursor:
        found = [_incident(row) for row in await cursor.fetchall()]
    if scopes is None or "" in scopes:
        return found
    return [i for i in found if any(i.village_code.startswith(scope) for scope in scopes)]


async def get_report(conn: aiosqlite.Connection, report_id: int) -> Report | None:
    async with conn.execute("SELECT * FROM reports WHERE id = ?", (report_id,)) as cursor:
        row = await cursor.fetchone()
    return _report(row) if row else None


async def report_by_source(conn: aiosqlite.Connection, source_key: str) -> Report | None:
    async with conn.execute("SELECT * FROM reports WHERE source_key = ?", (source_key,)) as cursor:
        row = await cursor.fetchone()
    return _report(row) if row else None


async def report_of(conn: aiosqlite.Connection, incident_id: int, user_id: int) -> Report | None:
    async with conn.execute(
        "SELECT * FROM reports WHERE incident_id = ? AND user_id = ?", (incident_id, user_id)
    ) as cursor:
        row = await cursor.fetchone()
    return _report(row) if row else None


async def add_report(
    conn: aiosqlite.Connection,
    *,
    incident_id: int,
    user_id: int,
    village_code: str,
    kind: str,
    since: str,
    description: str | None,
    photo_file_id: str | None,
    latitude: float | None,
    longitude: float | None,
    source_key: str,
    now: datetime,
) -> Report:
    cursor = await conn.execute(
        "INSERT INTO reports (incident_id, user_id, village_code, kind, since, description, photo_file_id,"
        " latitude, longitude, created_at, source_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            incident_id,
            user_id,
            village_code,
            kind,
            since,
            description,
            photo_file_id,
            latitude,
            longitude,
            to_db(now),
            source_key,
        ),
    )
    async with conn.execute("SELECT * FROM reports WHERE id = ?", (cursor.lastrowid,)) as found:
        row = await found.fetchone()
    assert row is not None
    return _report(row)


async def reports_by_user(
    conn: aiosqlite.Connection, user_id: int, limit: int = 10
) -> list[tuple[Report, Incident]]:
    async with conn.execute(
        "SELECT * FROM reports WHERE user_id = ? ORDER BY id DESC LIMIT ?", (user_id, limit)
    ) as cursor:
        reports = [_report(row) for row in await cursor.fetchall()]
    result = []
    for report in reports:
        incident = await get_incident(conn, report.incident_id)
        assert incident is not None
        result.append((report, incident))
    return result


async def reporters(conn: aiosqlite.Connection, incident_id: int) -> list[tuple[int, int]]:
    """(user id, report id) of everyone who reported the incident and has not blocked the bot."""
    async with conn.execute(
        "SELECT r.user_id, r.id FROM reports r JOIN users u ON u.id = r.user_id"
        " WHERE r.incident_id = ? AND u.blocked = 0 ORDER BY r.id",
        (incident_id,),
    ) as cursor:
        return [(row[0], row[1]) for row in await cursor.fetchall()]


async def reports_since(conn: aiosqlite.Connection, user_id: int, since: datetime) -> list[datetime]:
    async with conn.execute(
        "SELECT created_at FROM reports WHERE user_id = ? AND created_at >= ? ORDER BY created_at",
        (user_id, to_db(since)),
    ) as cursor:
        return [from_db(row[0]) for row in await cursor.fetchall()]


async def count_recent_reports(conn: aiosqlite.Connection, incident_id: int, since: datetime) -> int:
    async with conn.execute(
        "SELECT count(*) FROM reports WHERE incident_id = ? AND created_at >= ?", (incident_id, to_db(since))
    ) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def district_incidents(conn: aiosqlite.Connection, district_code: str, since: datetime) -> list[int]:
    """Unresolved incidents opened recently in villages of one district."""
    async with conn.execute(
        "SELECT i.id FROM incidents i JOIN villages v ON v.code = i.village_code"
        " WHERE v.district_code = ? AND i.state != 'resolved' AND i.opened_at >= ?",
        (district_code, to_db(since)),
    ) as cursor:
        return [row[0] for row in await cursor.fetchall()]


async def update_incident(conn: aiosqlite.Connection, incident_id: int, **changes: object) -> None:
    allowed = {
        "state",
        "taken_at",
        "taken_by",
        "resolved_at",
        "resolved_by",
        "resolution",
        "reopened",
        "escalated_at",
        "reopened_at",
        "mass",
    }
    assert set(changes) <= allowed, changes
    values = [to_db(v) if isinstance(v, datetime) else v for v in changes.values()]
    assignments = "".join(f"{name} = ?, " for name in changes)
    await conn.execute(
        f"UPDATE incidents SET {assignments}version = version + 1 WHERE id = ?",
        (*values, incident_id),
    )


async def overdue_for_taking(conn: aiosqlite.Connection, opened_before: datetime) -> list[int]:
    async with conn.execute(
        "SELECT id FROM incidents WHERE state = 'open' AND escalated_at IS NULL"
        " AND coalesce(reopened_at, opened_at) < ?",
        (to_db(opened_before),),
    ) as cursor:
        return [row[0] for row in await cursor.fetchall()]
