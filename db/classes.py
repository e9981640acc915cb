"""Classes and bookings."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import aiosqlite
from pydantic import BaseModel, ConfigDict

from db.timestamps import from_db, to_db

Topic = Literal["smartphone", "egov", "safety", "kundelik", "payments"]
TOPICS: tuple[Topic, ...] = ("smartphone", "egov", "safety", "kundelik", "payments")
AgeGroup = Literal["under30", "30to59", "60plus"]
AGE_GROUPS: tuple[AgeGroup, ...] = ("under30", "30to59", "60plus")
HOLDS_SEAT = ("booked", "offered")


class Lesson(BaseModel):
    """A scheduled class (``class`` is a keyword, hence the name)."""

    model_config = ConfigDict(frozen=True)

    id: int
    trainer_id: int
    village_code: str
    venue: str
    starts_at: datetime
    minutes: int
    topic: Topic
    language: Literal["kk", "ru"]
    capacity: int
    state: Literal["scheduled", "cancelled", "closed"]
    taken: int = 0  # seats booked or on offer
    waiting: int = 0


class Booking(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    class_id: int
    user_id: int | None
    attendee_name: str | None
    age_group: AgeGroup
    state: Literal["booked", "waiting", "offered", "cancelled", "declined"]
    offered_until: datetime | None = None
    attendance: Literal["present", "absent"] | None = None
    walk_in: bool = False
    created_at: datetime


_LESSON = (
    "SELECT c.*,"
    " (SELECT count(*) FROM bookings b WHERE b.class_id = c.id AND b.state IN ('booked', 'offered')) AS taken,"
    " (SELECT count(*) FROM bookings b WHERE b.class_id = c.id AND b.state = 'waiting') AS waiting"
    " FROM classes c"
)


def _lesson(row: aiosqlite.Row) -> Lesson:
    data = dict(row)
    data["starts_at"] = from_db(data["starts_at"])
    return Lesson.model_validate({k: v for k, v in data.items() if k in Lesson.model_fields})


def _booking(row: aiosqlite.Row) -> Booking:
    data = dict(row)
    data["created_at"] = from_db(data["created_at"])
    data["offered_until"] = from_db(data["offered_until"]) if data["offered_until"] else None
    data["walk_in"] = bool(data["walk_in"])
    return Booking.model_validate({k: v for k, v in data.items() if k in Booking.model_fields})


async def create_lesson(
    conn: aiosqlite.Connection,
    *,
    trainer_id: int,
    village_code: str,
    venue: str,
    starts_at: datetime,
    minutes: int,
    topic: str,
    language: str,
    capacity: int,
    now: datetime,
) -> int:
    cursor = await conn.execute(
        "INSERT INTO classes (trainer_id, village_code, venue, starts_at, minutes, topic, language, capacity,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (trainer_id, village_code, venue, to_db(starts_at), minutes, topic, language, capacity, to_db(now)),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def get_lesson(conn: aiosqlite.Connection, class_id: int) -> Lesson | None:
    async with conn.execute(f"{_LESSON} WHERE c.id = ?", (class_id,)) as cursor:
        row = await cursor.fetchone()
    return _lesson(row) if row else None


async def upcoming(conn: aiosqlite.Connection, now: datetime, *, village_prefix: str = "") -> list[Lesson]:
    async with conn.execute(
        f"{_LESSON} WHERE c.state = 'scheduled' AND c.starts_at > ? AND c.village_code LIKE ? ORDER BY c.starts_at",
        (to_db(now), village_prefix + "%"),
    ) as cursor:
        return [_lesson(row) for row in await cursor.fetchall()]


async def by_trainer(conn: aiosqlite.Connection, trainer_id: int) -> list[Lesson]:
    async with conn.execute(
        f"{_LESSON} WHERE c.trainer_id = ? AND c.state = 'scheduled' ORDER BY c.starts_at", (trainer_id,)
    ) as cursor:
        return [_lesson(row) for row in await cursor.fetchall()]


async def update_lesson(
    conn: aiosqlite.Connection, class_id: int, *, starts_at: datetime, venue: str, capacity: int
) -> None:
    await conn.execute(
        "UPDATE classes SET starts_at = ?, venue = ?, capacity = ? WHERE id = ?",
        (to_db(starts_at), venue, capacity, class_id),
    )


async def set_lesson_state(conn: aiosqlite.Connection, class_id: int, state: str) -> None:
    await conn.execute("UPDATE classes SET state = ? WHERE id = ?", (state, class_id))


async def bookings_of(conn: aiosqlite.Connection, class_id: int, states: tuple[str, ...]) -> list[Booking]:
    marks = ",".join("?" * len(states))
    async with conn.execute(
        f"SELECT * FROM bookings WHERE class_id = ? AND state IN ({marks}) ORDER BY id",
        (class_id, *states),
    ) as cursor:
        return [_booking(row) for row in await cursor.fetchall()]


async def get_booking(conn: aiosqlite.Connection, booking_id: int) -> Booking | None:
    async with conn.execute("SELECT * FROM bookings WHERE id = ?", (booking_id,)) as cursor:
        row = await cursor.fetchone()
    return _booking(row) if row else None


async def booking_by_source(conn: aiosqlite.Connection, source_key: str) -> Booking | None:
    async with conn.execute("SELECT * FROM bookings WHERE source_key = ?", (source_key,)) as cursor:
        row = await cursor.fetchone()
    return _booking(row) if row else None


async def my_bookings(conn: aiosqlite.Connection, user_id: int, class_id: int) -> list[Booking]:
    async with conn.execute(
        "SELECT * FROM bookings WHERE user_id = ? AND class_id = ? AND state IN ('booked', 'waiting', 'offered')"
        " ORDER BY id",
        (user_id, class_id),
    ) as cursor:
        return [_booking(row) for row in await cursor.fetchall()]


async def add_booking(
    conn: aiosqlite.Connection,
    *,
    class_id: int,
    user_id: int | None,
    attendee_name: str | None,
    age_group: str,
    state: str,
    now: datetime,
    source_key: str | None,
    walk_in: bool = False,
    attendance: str | None = None,
) -> Booking:
    cursor = await conn.execute(
        "INSERT INTO bookings (class_id, user_id, attendee_name, age_group, state, walk_in, attendance, created_at,"
        " source_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            class_id,
            user_id,
            attendee_name,
            age_group,
            state,
            int(walk_in),
            attendance,
            to_db(now),
            source_key,
        ),
    )
    found = await get_booking(conn, int(cursor.lastrowid or 0))
    assert found is not None
    return found


async def set_booking(conn: aiosqlite.Connection, booking_id: int, **changes: object) -> None:
    allowed = {"state", "offered_until", "attendance"}
    assert set(changes) <= allowed, changes
    values = [to_db(v) if isinstance(v, datetime) else v for v in changes.values()]
    assignments = ", ".join(f"{name} = ?" for name in changes)
    await conn.execute(f"UPDATE bookings SET {assignments} WHERE id = ?", (*values, booking_id))


async def expired_offers(conn: aiosqlite.Connection, now: datetime) -> list[Booking]:
    async with conn.execute(
        "SELECT * FROM bookings WHERE state = 'offered' AND offered_until <= ? ORDER BY id", (to_db(now),)
    ) as cursor:
        return [_booking(row) for row in await cursor.fetchall()]


async def attendance_rows(conn: aiosqlite.Connection, trainer_id: int | None) -> list[aiosqlite.Row]:
    """Closed classes' attendees with their village, district and region (for the numbers)."""
    async with conn.execute(
        "SELECT b.attendance, b.age_group, v.code AS village, v.district_code AS district,"
        " v.region_code AS region FROM bookings b JOIN classes c ON c.id = b.class_id"
        " JOIN villages v ON v.code = c.village_code"
        " WHERE c.state = 'closed' AND b.state = 'booked' AND (? IS NULL OR c.trainer_id = ?)",
        (trainer_id, trainer_id),
    ) as cursor:
        return list(await cursor.fetchall())


class DueReminder(BaseModel):
    """A reminder whose time has come, with what decides whether it still makes sense."""

    model_config = ConfigDict(frozen=True)

    booking_id: int
    hours: int
    due_at: datetime
    booking_state: str
    class_id: int
    class_state: str
    starts_at: datetime


async def schedule_reminder(
    conn: aiosqlite.Connection, booking_id: int, hours: int, due_at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO class_reminders (booking_id, hours, due_at) VALUES (?, ?, ?)"
        " ON CONFLICT (booking_id, hours) DO UPDATE SET due_at = excluded.due_at, state = 'pending'",
        (booking_id, hours, to_db(due_at)),
    )


async def drop_reminders(conn: aiosqlite.Connection, booking_id: int) -> None:
    await conn.execute(
        "UPDATE class_reminders SET state = 'dropped' WHERE booking_id = ? AND state = 'pending'",
        (booking_id,),
    )


async def set_reminder_state(conn: aiosqlite.Connection, booking_id: int, hours: int, state: str) -> None:
    await conn.execute(
        "UPDATE class_reminders SET state = ? WHERE booking_id = ? AND hours = ?", (state, booking_id, hours)
    )


async def due_reminders(conn: aiosqlite.Connection, now: datetime) -> list[DueReminder]:
    """Pending reminders due by ``now``, the nearest to the class first within each booking."""
    async with conn.execute(
        "SELECT r.booking_id, r.hours, r.due_at, b.state AS booking_state, c.id AS class_id,"
        " c.state AS class_state, c.starts_at FROM class_reminders r"
        " JOIN bookings b ON b.id = r.booking_id JOIN classes c ON c.id = b.class_id"
        " WHERE r.state = 'pending' AND r.due_at <= ? ORDER BY r.due_at, r.booking_id, r.hours",
        (to_db(now),),
    ) as cursor:
        rows = await cursor.fetchall()
    return [
        DueReminder(
            booking_id=row["booking_id"],
            hours=row["hours"],
            due_at=from_db(row["due_at"]),
            booking_state=row["booking_state"],
            class_id=row["class_id"],
            class_state=row["class_state"],
            starts_at=from_db(row["starts_at"]),
        )
        for row in rows
    ]


async def pending_reminders(conn: aiosqlite.Connection, booking_id: int) -> list[tuple[int, datetime]]:
    """(hours, due_at) of a booking's reminders still to send."""
    async with conn.execute(
        "SELECT hours, due_at FROM class_reminders WHERE booking_id = ? AND state = 'pending' ORDER BY due_at",
        (booking_id,),
    ) as cursor:
        return [(row["hours"], from_db(row["due_at"])) for row in await cursor.fetchall()]
