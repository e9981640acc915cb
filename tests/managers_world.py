"""A world for the managers' tests: the demo's villages with outages, reports and classes on them.

The rows are written straight into SQLite with known times, so each test knows what the figures
must be; the bot then reads them like any others.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiosqlite

from bot.clock import Clock
from db import users
from db.database import Database
from db.timestamps import to_db

ZONE = ZoneInfo("Asia/Almaty")
# Баянауыл district (5536) of Pavlodar region (55); Павлодар district (5560); Aktobe region (15).
BAYANAUL = "553630100"
ZHANATILEK = "553641100"
SHAKAT = "556069100"
MARTUK = "154630100"


def fix_now(clock: Clock) -> datetime:
    """Move the clock to the 15th of this month, 12:00 in Almaty, so month boundaries are far."""
    now = clock.now()
    target = now.astimezone(ZONE).replace(day=15, hour=12, minute=0, second=0, microsecond=0)
    clock.advance(target - now)
    return clock.now()


def month_start(now: datetime, back: int = 0) -> datetime:
    start = now.astimezone(ZONE).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    for _ in range(back):
        start = (start - timedelta(days=1)).replace(day=1)
    return start


async def person(db: Database, user_id: int, name: str, language: str, now: datetime) -> None:
    async with db.transaction() as tx:
        await users.record_contact(
            tx,
            user_id=user_id,
            first_name=name,
            last_name=None,
            username=None,
            telegram_language=language,
            now=now,
        )
        await users.set_language(tx, user_id, language)


async def grant(db: Database, user_id: int, role: str, scope: str, now: datetime) -> None:
    async with db.transaction() as tx:
        await users.grant_role(tx, user_id=user_id, role=role, scope=scope, actor_id=None, now=now)  # type: ignore[arg-type]


async def incident(
    conn: aiosqlite.Connection,
    village: str,
    *,
    opened: datetime,
    kind: str = "village",
    taken: datetime | None = None,
    resolved: datetime | None = None,
    taken_by: int | None = None,
) -> int:
    state = "resolved" if resolved else ("taken" if taken else "open")
    cursor = await conn.execute(
        "INSERT INTO incidents (village_code, kind, state, opened_at, taken_at, taken_by, resolved_at,"
        " resolution) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            village,
            kind,
            state,
            to_db(opened),
            to_db(taken) if taken else None,
            taken_by,
            to_db(resolved) if resolved else None,
            "fixed" if resolved else None,
        ),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def report(
    conn: aiosqlite.Connection,
    incident_id: int,
    user_id: int,
    village: str,
    *,
    at: datetime,
    description: str | None = None,
    kind: str = "village",
) -> int:
    cursor = await conn.execute(
        "INSERT INTO reports (incident_id, user_id, village_code, kind, since, created_at)"
        " VALUES (?, ?, ?, ?, 'today', ?)",
        (incident_id, user_id, village, kind, to_db(at)),
    )
    report_id = cursor.lastrowid
    assert report_id is not None
    # What the resident showed with it: their words (if any) and a photo, one note each.
    if description is not None:
        await conn.execute(
            "INSERT INTO report_notes (report_id, at, text) VALUES (?, ?, ?)",
            (report_id, to_db(at), description),
        )
    await conn.execute(
        "INSERT INTO report_notes (report_id, at, photo_file_id) VALUES (?, ?, ?)",
        (report_id, to_db(at), f"photo-of-{user_id}"),
    )
    return report_id


async def lesson(
    conn: aiosqlite.Connection,
    trainer_id: int,
    village: str,
    *,
    starts: datetime,
    state: str = "closed",
    register: list[tuple[int | None, str | None, str, str | None]] = (),  # type: ignore[assignment]
) -> int:
    """A class; ``register`` holds (user id, attendee name, age group, attendance) per booking."""
    cursor = await conn.execute(
        "INSERT INTO classes (trainer_id, village_code, venue, starts_at, minutes, topic, language, capacity,"
        " state, created_at) VALUES (?, ?, '№1 мектеп', ?, 90, 'smartphone', 'kk', 20, ?, ?)",
        (trainer_id, village, to_db(starts), state, to_db(starts - timedelta(days=7))),
    )
    class_id = cursor.lastrowid
    assert class_id is not None
    for user_id, name, age, attendance in register:
        await conn.execute(
            "INSERT INTO bookings (class_id, user_id, attendee_name, age_group, state, attendance, created_at)"
            " VALUES (?, ?, ?, ?, 'booked', ?, ?)",
            (class_id, user_id, name, age, attendance, to_db(starts - timedelta(days=2))),
        )
    return class_id


async def scalar(db: Database, sql: str, *params: Any) -> Any:
    async with db.read() as conn, conn.execute(sql, params) as cursor:
        row = await cursor.fetchone()
    return row[0] if row else None
