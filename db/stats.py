"""Progress figures for an area, and the area tree the managers' views walk.

An area is a KATO prefix: ``""`` the whole country, two digits a region, four a district, six a
rural okrug, nine a village. Every query here takes the prefix and counts what lies inside it.

The figures are read through :func:`snapshot`, a read-only connection of its own: the counts over a
whole country take a moment, and the application's one connection (and its lock) stays free for
everyone else meanwhile. All queries of one snapshot see the same committed state.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Literal

import aiosqlite
from pydantic import BaseModel, ConfigDict

from db.timestamps import to_db

Level = Literal["country", "region", "district", "okrug", "village"]
LEVEL_OF_LENGTH: dict[int, Level] = {0: "country", 2: "region", 4: "district", 6: "okrug", 9: "village"}
STAGES = ("none", "planned", "design", "construction", "connected")
OBJECT_KINDS = ("school", "medical", "akimat", "library", "other")
UNRESOLVED = ("open", "taken", "in_progress")


class Place(BaseModel):
    """An area or a village, named in both languages."""

    model_config = ConfigDict(frozen=True)

    code: str  # the KATO prefix
    level: Level
    name_kk: str
    name_ru: str

    def name(self, language: str) -> str:
        return self.name_kk if language == "kk" else self.name_ru


class StageCounts(BaseModel):
    model_config = ConfigDict(frozen=True)

    by_stage: dict[str, int]
    due: int  # in the programme with a planned quarter that has come
    due_connected: int


class ObjectCounts(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str
    online: int
    total: int


class OutageCounts(BaseModel):
    model_config = ConfigDict(frozen=True)

    open: int
    overdue: int


class ClassCounts(BaseModel):
    model_config = ConfigDict(frozen=True)

    held: int  # closed classes
    registered: int  # everyone on their registers, walk-ins included
    trained: int  # marked present
    seniors: int  # present and aged 60+


def _inside(column: str) -> str:
    return f"substr({column}, 1, ?) = ?"


def _area(prefix: str) -> tuple[int, str]:
    return len(prefix), prefix


def read_only_uri(path: str | Path) -> str:
    return f"{Path(path).absolute().as_uri()}?mode=ro"


@asynccontextmanager
async def snapshot(path: str | Path) -> AsyncIterator[aiosqlite.Connection]:
    """A read-only connection of its own, in one read transaction (a consistent picture)."""
    connection = await aiosqlite.connect(read_only_uri(path), uri=True)
    try:
        connection.row_factory = aiosqlite.Row
        await connection.execute("PRAGMA busy_timeout=5000")
        await connection.execute("BEGIN")
        yield connection
    finally:
        await connection.close()


async def place(conn: aiosqlite.Connection, prefix: str) -> Place | None:
    """The region, district, okrug or village a prefix stands for; None when there is none."""
    level = LEVEL_OF_LENGTH.get(len(prefix))
    if level is None or (prefix and not prefix.isdigit()):
        return None
    if level == "country":
        return Place(code="", level="country", name_kk="Қазақстан", name_ru="Казахстан")
    if level == "village":
        sql = "SELECT name_kk, name_ru FROM villages WHERE code = ?"
        params: tuple[str, ...] = (prefix,)
    else:
        sql = "SELECT name_kk, name_ru FROM areas WHERE code = ? AND level = ?"
        params = (prefix.ljust(9, "0"), level)
    async with conn.execute(sql, params) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    return Place(code=prefix, level=level, name_kk=row["name_kk"], name_ru=row["name_ru"])


async def children(conn: aiosqlite.Connection, prefix: str) -> list[Place]:
    """The parts of an area one level down that have villages (a district: its okrugs, then the
    villages that sit directly under it)."""
    level = LEVEL_OF_LENGTH.get(len(prefix))
    if level == "country":
        sql = (
            "SELECT code, name_kk, name_ru, 'region' AS level FROM areas WHERE level = 'region'"
            " AND code IN (SELECT DISTINCT region_code FROM villages)"
        )
        params: tuple[str, ...] = ()
    elif level == "region":
        sql = (
            "SELECT code, name_kk, name_ru, 'district' AS level FROM areas WHERE level = 'district'"
            " AND parent = ? AND code IN (SELECT DISTINCT district_code FROM villages WHERE region_code = ?)"
        )
        params = (prefix.ljust(9, "0"), prefix.ljust(9, "0"))
    elif level == "district":
        sql = (
            "SELECT code, name_kk, name_ru, 'okrug' AS level FROM areas WHERE level = 'okrug' AND parent = ?"
            " AND code IN (SELECT DISTINCT okrug_code FROM villages WHERE district_code = ?)"
            " UNION ALL SELECT code, name_kk, name_ru, 'village' AS level FROM villages"
            " WHERE district_code = ? AND okrug_code IS NULL"
        )
        district = prefix.ljust(9, "0")
        params = (district, district, district)
    elif level == "okrug":
        sql = "SELECT code, name_kk, name_ru, 'village' AS level FROM villages WHERE okrug_code = ?"
        params = (prefix.ljust(9, "0"),)
    else:
        return []
    async with conn.execute(sql, params) as cursor:
        rows = await cursor.fetchall()
    found = []
    for row in rows:
        child_level: Level = row["level"]
        length = {"region": 2, "district": 4, "okrug": 6, "village": 9}[child_level]
        found.append(
            Place(
                code=row["code"][:length], level=child_level, name_kk=row["name_kk"], name_ru=row["name_ru"]
            )
        )
    return found


async def stages(conn: aiosqlite.Connection, prefix: str, quarter: int) -> StageCounts:
    """Villages by stage; ``quarter`` is year × 4 + quarter of today: plans up to it are due."""
    by_stage = dict.fromkeys(STAGES, 0)
    due = due_connected = 0
    async with conn.execute(
        "SELECT stage, count(*) AS villages, sum(CASE WHEN stage <> 'none' AND planned_year IS NOT NULL"
        "   AND planned_year * 4 + coalesce(planned_quarter, 4) <= ? THEN 1 ELSE 0 END) AS due"
        f" FROM villages WHERE {_inside('code')} GROUP BY stage",
        (quarter, *_area(prefix)),
    ) as cursor:
        for row in await cursor.fetchall():
            by_stage[row["stage"]] = row["villages"]
            due += row["due"]
            if row["stage"] == "connected":
                due_connected = row["due"]
    return StageCounts(by_stage=by_stage, due=due, due_connected=due_connected)


async def objects(conn: aiosqlite.Connection, prefix: str) -> list[ObjectCounts]:
    """Social objects by kind: how many are online of all there are."""
    counts = {kind: ObjectCounts(kind=kind, online=0, total=0) for kind in OBJECT_KINDS}
    async with conn.execute(
        "SELECT kind, count(*) AS total, sum(connected) AS online FROM social_objects"
        f" WHERE {_inside('village_code')} GROUP BY kind",
        _area(prefix),
    ) as cursor:
        for row in await cursor.fetchall():
            counts[row["kind"]] = ObjectCounts(kind=row["kind"], online=row["online"], total=row["total"])
    return list(counts.values())


async def outages(
    conn: aiosqlite.Connection, prefix: str, *, take_by: datetime, resolve_by: datetime
) -> OutageCounts:
    """Unresolved incidents, and those overdue: still untaken since before ``take_by``, or
    unresolved since before ``resolve_by`` (both run from the opening or the last reopening)."""
    async with conn.execute(
        "SELECT count(*) AS open, coalesce(sum(CASE WHEN (state = 'open' AND coalesce(reopened_at, opened_at) < ?)"
        "   OR coalesce(reopened_at, opened_at) < ? THEN 1 ELSE 0 END), 0) AS overdue"
        f" FROM incidents WHERE state IN {UNRESOLVED} AND {_inside('village_code')}",
        (to_db(take_by), to_db(resolve_by), *_area(prefix)),
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return OutageCounts(open=row["open"], overdue=row["overdue"])


async def durations(
    conn: aiosqlite.Connection,
    prefix: str,
    moment: Literal["taken_at", "resolved_at"],
    start: datetime,
    middle: datetime,
    end: datetime,
) -> tuple[list[float], list[float]]:
    """Seconds from opening (or the last reopening) to being taken or resolved, for incidents taken
    or resolved in [start, middle) and in [middle, end): last month's and this month's, in one pass."""
    before: list[float] = []
    after: list[float] = []
    async with conn.execute(
        f"SELECT {moment} >= ?, (julianday({moment}) - julianday(coalesce(reopened_at, opened_at))) * 86400.0"
        f" FROM incidents WHERE {moment} >= ? AND {moment} < ? AND {_inside('village_code')}",
        (to_db(middle), to_db(start), to_db(end), *_area(prefix)),
    ) as cursor:
        for later, seconds in await cursor.fetchall():
            (after if later else before).append(max(0.0, float(seconds)))
    return before, after


async def classes(conn: aiosqlite.Connection, prefix: str) -> ClassCounts:
    """Closed classes and their registers: who was there, and how many of them were 60 or older."""
    async with conn.execute(
        f"SELECT count(*) FROM classes WHERE state = 'closed' AND {_inside('village_code')}", _area(prefix)
    ) as cursor:
        held_row = await cursor.fetchone()
    async with conn.execute(
        "SELECT count(*) AS registered,"
        " coalesce(sum(b.attendance = 'present'), 0) AS trained,"
        " coalesce(sum(b.attendance = 'present' AND b.age_group = '60plus'), 0) AS seniors"
        " FROM bookings b JOIN classes c ON c.id = b.class_id"
        f" WHERE c.state = 'closed' AND b.state = 'booked' AND {_inside('c.village_code')}",
        _area(prefix),
    ) as cursor:
        row = await cursor.fetchone()
    assert held_row is not None and row is not None
    return ClassCounts(
        held=held_row[0], registered=row["registered"], trained=row["trained"], seniors=row["seniors"]
    )
