"""Classes, bookings, the register and reminders: all the SQL of the classes feature."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

import aiosqlite
from pydantic import BaseModel, ConfigDict

from db.timestamps import from_db, to_db

Topic = Literal["smartphone", "egov", "safety", "kundelik", "payments"]
TOPICS: tuple[Topic, ...] = ("smartphone", "egov", "safety", "kundelik", "payments")
AgeGroup = Literal["under30", "30to59", "60plus"]
AGE_GROUPS: tuple[AgeGroup, ...] = ("under30", "30to59", "60plus")
LessonState = Literal["scheduled", "cancelled", "closed"]
BookingState = Literal["booked", "waiting", "offered", "cancelled", "declined"]
ACTIVE: tuple[BookingState, ...] = ("booked", "waiting", "offered")
HOLDS_SEAT: tuple[BookingState, ...] = ("booked", "offered")


class Lesson(BaseModel):
    """A scheduled class (``class`` is a keyword, hence the name), with its village's names."""

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
    state: LessonState
    taken: int = 0  # seats booked or on offer
    waiting: int = 0
    village_kk: str = ""
    village_ru: str = ""

    def village(self, language: str) -> str:
        return self.village_kk if language == "kk" else self.village_ru


class Booking(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    class_id: int
    user_id: int | None
    attendee_name: str | None
    age_group: AgeGroup
    state: BookingState
    offered_until: datetime | None = None
    attendance: Literal["present", "absent"] | None = None
    walk_in: bool = False
    created_at: datetime


class RosterEntry(BaseModel):
    """A booked seat on the register, with the name to show (the relative's, or the booker's)."""

    model_config = ConfigDict(frozen=True)

    booking: Booking
    name: str


class AttendanceRow(BaseModel):
    """One person on a closed register, with the names of their class's village, district and region."""

    model_config = ConfigDict(frozen=True)

    attendance: Literal["present", "absent"] | None
    age_group: AgeGroup
    village: str
    village_kk: str
    village_ru: str
    district: str
    district_kk: str
    district_ru: str
    region: str
    region_kk: str
    region_ru: str


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


_LESSON = (
    "SELECT c.*, v.name_kk AS village_kk, v.name_ru AS village_ru,"
    " (SELECT count(*) FROM bookings b WHERE b.class_id = c.id AND b.state IN ('booked', 'offered')) AS taken,"
    " (SELECT count(*) FROM bookings b WHERE b.class_id = c.id AND b.state = 'waiting') AS waiting"
    " FROM classes c JOIN villages v ON v.code = c.village_code"
)


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


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


# --- classes -----------------------------------------------------------------------------------------
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


async def upcoming(
    conn: aiosqlite.Connection,
    now: datetime,
    *,
    villages: Sequence[str] = (),
    prefixes: Sequence[str] = (),
    limit: int = 50,
) -> list[Lesson]:
    """Scheduled classes not started yet, soonest first: in ``villages`` or under ``prefixes``.

    With neither, every upcoming class.
    """
    where = ["c.state = 'scheduled'", "c.starts_at > ?"]
    params: list[object] = [to_db(now)]
    places = []
    if villages:
        places.append(f"c.village_code IN ({_marks(villages)})")
        params += villages
    for prefix in prefixes:
        places.append("c.village_code LIKE ?")
        params.append(prefix + "%")
    if places:
        where.append("(" + " OR ".join(places) + ")")
    async with conn.execute(
        f"{_LESSON} WHERE {' AND '.join(where)} ORDER BY c.starts_at, c.id LIMIT ?", (*params, limit)
    ) as cursor:
        return [_lesson(row) for row in await cursor.fetchall()]


async def not_closed(
    conn: aiosqlite.Connection, *, trainer_id: int | None = None, areas: Sequence[str] = (), limit: int = 30
) -> list[Lesson]:
    """Classes whose register is still open or to come: a trainer's own, or every one in ``areas``."""
    where = ["c.state = 'scheduled'"]
    params: list[object] = []
    if trainer_id is not None:
        where.append("c.trainer_id = ?")
        params.append(trainer_id)
    if areas:
        where.append("(" + " OR ".join("c.village_code LIKE ?" for _ in areas) + ")")
        params += [area + "%" for area in areas]
    async with conn.execute(
        f"{_LESSON} WHERE {' AND '.join(where)} ORDER BY c.starts_at, c.id LIMIT ?", (*params, limit)
    ) as cursor:
        return [_lesson(row) for row in await cursor.fetchall()]


async def update_lesson(
    conn: aiosqlite.Connection, class_id: int, *, starts_at: datetime, venue: str, capacity: int
) -> None:
    await conn.execute(
        "UPDATE classes SET starts_at = ?, venue = ?, capacity = ? WHERE id = ?",
        (to_db(starts_at), venue, capacity, class_id),
    )


async def set_lesson_state(conn: aiosqlite.Connection, class_id: int, state: LessonState) -> None:
    await conn.execute("UPDATE classes SET state = ? WHERE id = ?", (state, class_id))


# --- bookings ----------------------------------------------------------------------------------------
async def bookings_of(
    conn: aiosqlite.Connection, class_id: int, states: Sequence[BookingState]
) -> list[Booking]:
    async with conn.execute(
        f"SELECT * FROM bookings WHERE class_id = ? AND state IN ({_marks(states)}) ORDER BY id",
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
    """A person's bookings still standing for one class: their own and their relatives'."""
    async with conn.execute(
        "SELECT * FROM bookings WHERE user_id = ? AND class_id = ? AND state IN ('booked', 'waiting', 'offered')"
        " ORDER BY id",
        (user_id, class_id),
    ) as cursor:
        return [_booking(row) for row in await cursor.fetchall()]


async def relatives_booked_between(
    conn: aiosqlite.Connection, user_id: int, starts_from: datetime, starts_before: datetime
) -> int:
    """Relatives a person holds a booking for (seat, offer or waiting) in classes starting in that span."""
    async with conn.execute(
        "SELECT count(*) FROM bookings b JOIN classes c ON c.id = b.class_id"
        " WHERE b.user_id = ? AND b.attendee_name IS NOT NULL AND b.walk_in = 0"
        " AND b.state IN ('booked', 'waiting', 'offered') AND c.state = 'scheduled'"
        " AND c.starts_at >= ? AND c.starts_at < ?",
        (user_id, to_db(starts_from), to_db(starts_before)),
    ) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def add_booking(
    conn: aiosqlite.Connection,
    *,
    class_id: int,
    user_id: int | None,
    attendee_name: str | None,
    age_group: str,
    state: BookingState,
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


async def mark_unmarked_absent(conn: aiosqlite.Connection, class_id: int) -> None:
    await conn.execute(
        "UPDATE bookings SET attendance = 'absent'"
        " WHERE class_id = ? AND state = 'booked' AND attendance IS NOT 'present'",
        (class_id,),
    )


async def expired_offers(conn: aiosqlite.Connection, now: datetime) -> list[Booking]:
    async with conn.execute(
        "SELECT * FROM bookings WHERE state = 'offered' AND offered_until <= ? ORDER BY id", (to_db(now),)
    ) as cursor:
        return [_booking(row) for row in await cursor.fetchall()]


async def roster(conn: aiosqlite.Connection, class_id: int) -> list[RosterEntry]:
    """Everyone with a seat, in booking order, named in one query (a relative's name, else the booker's)."""
    async with conn.execute(
        "SELECT b.*, coalesce(b.attendee_name, trim(u.first_name || ' ' || coalesce(u.last_name, '')), '—')"
        " AS shown_name FROM bookings b LEFT JOIN users u ON u.id = b.user_id"
        " WHERE b.class_id = ? AND b.state = 'booked' ORDER BY b.id",
        (class_id,),
    ) as cursor:
        rows = await cursor.fetchall()
    return [RosterEntry(booking=_booking(row), name=row["shown_name"]) for row in rows]


# --- numbers -----------------------------------------------------------------------------------------
async def attendance_rows(
    conn: aiosqlite.Connection, *, trainer_id: int | None = None, areas: Sequence[str] = ()
) -> list[AttendanceRow]:
    """Everyone on the closed registers (a trainer's own classes, or those in ``areas``), with place names."""
    where = ["c.state = 'closed'", "b.state = 'booked'"]
    params: list[object] = []
    if trainer_id is not None:
        where.append("c.trainer_id = ?")
        params.append(trainer_id)
    if areas:
        where.append("(" + " OR ".join("c.village_code LIKE ?" for _ in areas) + ")")
        params += [area + "%" for area in areas]
    async with conn.execute(
        "SELECT b.attendance, b.age_group, v.code AS village, v.name_kk AS village_kk, v.name_ru AS village_ru,"
        " v.district_code AS district, coalesce(d.name_kk, v.district_code) AS district_kk,"
        " coalesce(d.name_ru, v.district_code) AS district_ru, v.region_code AS region,"
        " coalesce(r.name_kk, v.region_code) AS region_kk, coalesce(r.name_ru, v.region_code) AS region_ru"
        " FROM bookings b JOIN classes c ON c.id = b.class_id JOIN villages v ON v.code = c.village_code"
        " LEFT JOIN areas d ON d.code = v.district_code LEFT JOIN areas r ON r.code = v.region_code"
        f" WHERE {' AND '.join(where)}",
        params,
    ) as cursor:
        return [AttendanceRow.model_validate(dict(row)) for row in await cursor.fetchall()]


# --- reminders ---------------------------------------------------------------------------------------
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
