"""Rules for classes (written out for people in docs/classes.md)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from bot.clock import to_db
from bot.config import Settings
from db import audit, classes, events, outbox, places
from db.classes import Booking, Lesson
from db.database import Database

REMINDERS = (24, 2)  # hours before the start
MAX_NAME = 80


class ClassError(ValueError):
    """A request the rules refuse; ``code`` names it for a localized message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class NewLesson:
    village_code: str
    venue: str
    starts_at: datetime
    minutes: int
    topic: str
    language: str
    capacity: int


def lesson_params(lesson: Lesson, village: places.Village) -> dict[str, object]:
    return {
        "class": lesson.id,
        "topic": lesson.topic,
        "starts_at": lesson.starts_at.isoformat(),
        "venue": lesson.venue,
        "village": {"kk": village.name_kk, "ru": village.name_ru},
        "minutes": lesson.minutes,
    }


async def create_lesson(
    conn: aiosqlite.Connection,
    new: NewLesson,
    *,
    trainer_id: int,
    now: datetime,
    scopes: Sequence[str] = ("",),
) -> Lesson:
    """Schedule a class; ``scopes`` are the KATO prefixes the trainer covers ("" is everywhere)."""
    if not any(new.village_code.startswith(scope) for scope in scopes):
        raise ClassError("outside_area")
    if new.starts_at <= now:
        raise ClassError("in_the_past")
    if new.topic not in classes.TOPICS or new.language not in ("kk", "ru"):
        raise ClassError("bad_choice")
    if not 1 <= new.capacity <= 200:
        raise ClassError("bad_capacity")
    if not 15 <= new.minutes <= 480:
        raise ClassError("bad_choice")
    if not 2 <= len(new.venue.strip()) <= 100:
        raise ClassError("bad_venue")
    if await places.get_village(conn, new.village_code) is None:
        raise ClassError("unknown_village")
    class_id = await classes.create_lesson(
        conn,
        trainer_id=trainer_id,
        village_code=new.village_code,
        venue=new.venue.strip(),
        starts_at=new.starts_at,
        minutes=new.minutes,
        topic=new.topic,
        language=new.language,
        capacity=new.capacity,
        now=now,
    )
    await audit.record(
        conn,
        actor_id=trainer_id,
        subject=f"class:{class_id}",
        action="class.create",
        detail={"village": new.village_code, "starts_at": to_db(new.starts_at)},
        now=now,
    )
    lesson = await classes.get_lesson(conn, class_id)
    assert lesson is not None
    return lesson


async def classes_near(conn: aiosqlite.Connection, village_code: str | None, now: datetime) -> list[Lesson]:
    """Upcoming classes: the resident's village first, then the rest of their district (all, without one)."""
    if village_code is None:
        return await classes.upcoming(conn, now)
    village = await places.get_village(conn, village_code)
    if village is None:
        return await classes.upcoming(conn, now)
    here = await classes.upcoming(conn, now, village_prefix=village.code)
    district = await classes.upcoming(conn, now, village_prefix=_district_prefix(village.district_code))
    return here + [lesson for lesson in district if lesson.village_code != village.code]


def _district_prefix(district_code: str) -> str:
    """KATO AABBCCDDD: a district's villages share its first four digits."""
    return district_code[:4]


async def _open_lesson(
    conn: aiosqlite.Connection, class_id: int, now: datetime
) -> tuple[Lesson, places.Village]:
    lesson = await classes.get_lesson(conn, class_id)
    if lesson is None or lesson.state != "scheduled":
        raise ClassError("not_open")
    if lesson.starts_at <= now:
        raise ClassError("already_started")
    village = await places.get_village(conn, lesson.village_code)
    assert village is not None
    return lesson, village


async def book(
    conn: aiosqlite.Connection,
    class_id: int,
    *,
    user_id: int,
    age_group: str,
    attendee_name: str | None,
    source_key: str,
    now: datetime,
) -> Booking:
    """A seat if one is free, otherwise a place on the waiting list, in arrival order."""
    again = await classes.booking_by_source(conn, source_key)
    if again is not None:
        return again
    if age_group not in classes.AGE_GROUPS:
        raise ClassError("bad_choice")
    name = attendee_name.strip()[:MAX_NAME] if attendee_name else None
    if attendee_name is not None and not name:
        raise ClassError("bad_name")
    lesson, _village = await _open_lesson(conn, class_id, now)
    for existing in await classes.my_bookings(conn, user_id, class_id):
        if (existing.attendee_name or None) == name:
            return existing  # booking the same person twice keeps the first booking
    state = "booked" if lesson.taken < lesson.capacity else "waiting"
    booking = await classes.add_booking(
        conn,
        class_id=class_id,
        user_id=user_id,
        attendee_name=name,
        age_group=age_group,
        state=state,
        now=now,
        source_key=source_key,
    )
    if state == "booked":
        await _schedule_reminders(conn, booking, lesson.starts_at, now)
    return booking


async def _schedule_reminders(
    conn: aiosqlite.Connection, booking: Booking, starts_at: datetime, now: datetime
) -> None:
    """Reminders wait in SQLite until due (see :func:`release_reminders`), so they survive restarts."""
    if booking.user_id is None:
        return
    for hours in REMINDERS:
        due = starts_at - timedelta(hours=hours)
        if due > now:
            await classes.schedule_reminder(conn, booking.id, hours, due)


async def release_reminders(conn: aiosqlite.Connection, now: datetime) -> int:
    """Queue the reminders whose time has come; returns how many were queued.

    A reminder for a booking or class that has ended is dropped. After downtime both reminders of
    a booking may be due at once: only the one nearest the class is sent, and it says the real time
    left, not the planned one.
    """
    due = await classes.due_reminders(conn, now)
    nearest: dict[int, int] = {}
    for reminder in due:
        nearest[reminder.booking_id] = min(nearest.get(reminder.booking_id, reminder.hours), reminder.hours)
    queued = 0
    for reminder in due:
        still_useful = (
            reminder.booking_state == "booked"
            and reminder.class_state == "scheduled"
            and reminder.starts_at > now
            and nearest[reminder.booking_id] == reminder.hours
        )
        if not still_useful:
            await classes.set_reminder_state(conn, reminder.booking_id, reminder.hours, "dropped")
            continue
        booking = await classes.get_booking(conn, reminder.booking_id)
        lesson = await classes.get_lesson(conn, reminder.class_id)
        assert booking is not None and booking.user_id is not None and lesson is not None
        village = await places.get_village(conn, lesson.village_code)
        assert village is not None
        hours_left = max(1, round((lesson.starts_at - now) / timedelta(hours=1)))
        await outbox.enqueue(
            conn,
            chat_id=booking.user_id,
            kind="class.reminder",
            params={
                **lesson_params(lesson, village),
                "hours": hours_left,
                "attendee": booking.attendee_name,
                "booking": booking.id,
            },
            now=now,
            dedup_key=f"booking:{booking.id}:reminder:{to_db(reminder.due_at)}",
        )
        await classes.set_reminder_state(conn, reminder.booking_id, reminder.hours, "sent")
        queued += 1
    return queued


async def cancel_booking(
    conn: aiosqlite.Connection, booking_id: int, *, user_id: int, offer_minutes: int, now: datetime
) -> Booking:
    booking = await classes.get_booking(conn, booking_id)
    if booking is None or booking.user_id != user_id or booking.state not in ("booked", "waiting", "offered"):
        raise ClassError("not_your_booking")
    held_seat = booking.state in classes.HOLDS_SEAT
    await classes.set_booking(conn, booking_id, state="cancelled")
    await classes.drop_reminders(conn, booking_id)
    if held_seat:
        await offer_next_seat(conn, booking.class_id, offer_minutes, now)
    found = await classes.get_booking(conn, booking_id)
    assert found is not None
    return found


async def offer_next_seat(
    conn: aiosqlite.Connection, class_id: int, offer_minutes: int, now: datetime
) -> Booking | None:
    """A seat came free: the first person waiting gets it offered for a limited time."""
    lesson = await classes.get_lesson(conn, class_id)
    if (
        lesson is None
        or lesson.state != "scheduled"
        or lesson.taken >= lesson.capacity
        or lesson.starts_at <= now
    ):
        return None
    waiting = await classes.bookings_of(conn, class_id, ("waiting",))
    if not waiting:
        return None
    chosen = waiting[0]
    until = min(now + timedelta(minutes=offer_minutes), lesson.starts_at)
    await classes.set_booking(conn, chosen.id, state="offered", offered_until=until)
    village = await places.get_village(conn, lesson.village_code)
    assert village is not None
    if chosen.user_id is not None:
        await outbox.enqueue(
            conn,
            chat_id=chosen.user_id,
            kind="class.offer",
            params={
                **lesson_params(lesson, village),
                "booking": chosen.id,
                "until": until.isoformat(),
                "attendee": chosen.attendee_name,
            },
            now=now,
            dedup_key=f"booking:{chosen.id}:offer:{to_db(now)}",
        )
    return chosen


async def answer_offer(
    conn: aiosqlite.Connection,
    booking_id: int,
    *,
    user_id: int,
    accept: bool,
    offer_minutes: int,
    now: datetime,
) -> Booking:
    booking = await classes.get_booking(conn, booking_id)
    if booking is None or booking.user_id != user_id:
        raise ClassError("not_your_booking")
    if booking.state != "offered" or (booking.offered_until is not None and booking.offered_until <= now):
        raise ClassError("offer_expired")
    if accept:
        await classes.set_booking(conn, booking_id, state="booked", offered_until=None)
        lesson, _village = await _open_lesson(conn, booking.class_id, now)
        updated = await classes.get_booking(conn, booking_id)
        assert updated is not None
        await _schedule_reminders(conn, updated, lesson.starts_at, now)
        return updated
    await classes.set_booking(conn, booking_id, state="declined")
    await offer_next_seat(conn, booking.class_id, offer_minutes, now)
    updated = await classes.get_booking(conn, booking_id)
    assert updated is not None
    return updated


async def expire_offers(conn: aiosqlite.Connection, offer_minutes: int, now: datetime) -> int:
    """Offers not confirmed in time pass to the next person waiting."""
    expired = await classes.expired_offers(conn, now)
    for booking in expired:
        await classes.set_booking(conn, booking.id, state="declined")
        await offer_next_seat(conn, booking.class_id, offer_minutes, now)
    return len(expired)


@dataclass(frozen=True)
class TickResult:
    offers_passed_on: int
    reminders: int

    @property
    def queued_anything(self) -> bool:
        return bool(self.offers_passed_on or self.reminders)


async def tick(conn: aiosqlite.Connection, *, offer_minutes: int, now: datetime) -> TickResult:
    """The periodic check: expired offers pass on, due reminders go to the outbox."""
    passed_on = await expire_offers(conn, offer_minutes, now)
    return TickResult(offers_passed_on=passed_on, reminders=await release_reminders(conn, now))


async def run_checks(db: Database, settings: Settings, now: datetime) -> TickResult:
    """What the periodic job runs (tests call it directly): offers that expired, reminders now due."""
    async with db.transaction() as tx:
        return await tick(tx, offer_minutes=settings.seat_offer_minutes, now=now)


async def cancel_lesson(
    conn: aiosqlite.Connection, class_id: int, *, trainer_id: int, is_admin: bool, now: datetime
) -> int:
    """The trainer cancels: everyone booked, offered or waiting is told. Returns how many."""
    lesson = await classes.get_lesson(conn, class_id)
    if lesson is None or lesson.state != "scheduled":
        raise ClassError("not_open")
    if lesson.trainer_id != trainer_id and not is_admin:
        raise ClassError("not_your_class")
    village = await places.get_village(conn, lesson.village_code)
    assert village is not None
    await classes.set_lesson_state(conn, class_id, "cancelled")
    await audit.record(conn, actor_id=trainer_id, subject=f"class:{class_id}", action="class.cancel", now=now)
    told = set()
    for booking in await classes.bookings_of(conn, class_id, ("booked", "waiting", "offered")):
        await classes.set_booking(conn, booking.id, state="cancelled")
        await classes.drop_reminders(conn, booking.id)
        if booking.user_id is not None and booking.user_id not in told:
            told.add(booking.user_id)
            await outbox.enqueue(
                conn,
                chat_id=booking.user_id,
                kind="class.cancelled",
                params=lesson_params(lesson, village),
                now=now,
                dedup_key=f"class:{class_id}:cancelled:{booking.user_id}",
            )
    return len(told)


async def change_lesson(
    conn: aiosqlite.Connection,
    class_id: int,
    *,
    trainer_id: int,
    is_admin: bool,
    now: datetime,
    starts_at: datetime | None = None,
    venue: str | None = None,
    capacity: int | None = None,
    offer_minutes: int = 120,
) -> int:
    """Move a class in time or place, or change its seats. Returns how many people were told.

    A new time or place is told to everyone booked, offered or waiting, and reminders follow the
    time. More seats go to those waiting (as offers); fewer seats than are already taken is refused.
    """
    lesson = await _trainers_lesson(conn, class_id, trainer_id, is_admin)
    if lesson.state != "scheduled" or lesson.starts_at <= now:
        raise ClassError("not_open")
    new_start = starts_at or lesson.starts_at
    new_venue = (venue if venue is not None else lesson.venue).strip()
    new_capacity = capacity if capacity is not None else lesson.capacity
    if new_start <= now:
        raise ClassError("in_the_past")
    if not 2 <= len(new_venue) <= 100:
        raise ClassError("bad_venue")
    if not 1 <= new_capacity <= 200:
        raise ClassError("bad_capacity")
    if new_capacity < lesson.taken:
        raise ClassError("below_booked")
    await classes.update_lesson(conn, class_id, starts_at=new_start, venue=new_venue, capacity=new_capacity)
    await audit.record(
        conn,
        actor_id=trainer_id,
        subject=f"class:{class_id}",
        action="class.change",
        detail={"starts_at": to_db(new_start), "venue": new_venue, "capacity": new_capacity},
        now=now,
    )
    for _seat in range(new_capacity - lesson.taken):
        if await offer_next_seat(conn, class_id, offer_minutes, now) is None:
            break
    if new_start == lesson.starts_at and new_venue == lesson.venue:
        return 0
    changed = await classes.get_lesson(conn, class_id)
    village = await places.get_village(conn, lesson.village_code)
    assert changed is not None and village is not None
    told = set()
    for booking in await classes.bookings_of(conn, class_id, ("booked", "waiting", "offered")):
        if booking.state == "booked" and new_start != lesson.starts_at:
            await classes.drop_reminders(conn, booking.id)
            await _schedule_reminders(conn, booking, new_start, now)
        if (
            booking.state == "offered"
            and booking.offered_until is not None
            and booking.offered_until > new_start
        ):
            await classes.set_booking(conn, booking.id, offered_until=new_start)
        if booking.user_id is not None and booking.user_id not in told:
            told.add(booking.user_id)
            await outbox.enqueue(
                conn,
                chat_id=booking.user_id,
                kind="class.changed",
                params=lesson_params(changed, village),
                now=now,
            )
    return len(told)


async def _trainers_lesson(
    conn: aiosqlite.Connection, class_id: int, trainer_id: int, is_admin: bool
) -> Lesson:
    lesson = await classes.get_lesson(conn, class_id)
    if lesson is None:
        raise ClassError("not_open")
    if lesson.trainer_id != trainer_id and not is_admin:
        raise ClassError("not_your_class")
    return lesson


async def toggle_attendance(
    conn: aiosqlite.Connection, booking_id: int, *, trainer_id: int, is_admin: bool
) -> Booking:
    """Tapping an attendee: unmarked → present → absent → present …"""
    booking = await classes.get_booking(conn, booking_id)
    if booking is None or booking.state != "booked":
        raise ClassError("not_booked")
    lesson = await _trainers_lesson(conn, booking.class_id, trainer_id, is_admin)
    if lesson.state == "cancelled":
        raise ClassError("not_open")
    await classes.set_booking(
        conn, booking_id, attendance="absent" if booking.attendance == "present" else "present"
    )
    updated = await classes.get_booking(conn, booking_id)
    assert updated is not None
    return updated


async def add_walk_in(
    conn: aiosqlite.Connection,
    class_id: int,
    *,
    name: str,
    age_group: str,
    trainer_id: int,
    is_admin: bool,
    now: datetime,
) -> Booking:
    """Someone without Telegram came: on the roster, present."""
    lesson = await _trainers_lesson(conn, class_id, trainer_id, is_admin)
    if lesson.state == "cancelled":
        raise ClassError("not_open")
    cleaned = name.strip()[:MAX_NAME]
    if len(cleaned) < 2 or age_group not in classes.AGE_GROUPS:
        raise ClassError("bad_name")
    return await classes.add_booking(
        conn,
        class_id=class_id,
        user_id=None,
        attendee_name=cleaned,
        age_group=age_group,
        state="booked",
        now=now,
        source_key=None,
        walk_in=True,
        attendance="present",
    )


@dataclass(frozen=True)
class Summary:
    present: int
    no_shows: int
    seniors: int
    walk_ins: int


async def close_lesson(
    conn: aiosqlite.Connection, class_id: int, *, trainer_id: int, is_admin: bool
) -> Summary:
    """Close the register: everyone not marked present is a no-show."""
    lesson = await _trainers_lesson(conn, class_id, trainer_id, is_admin)
    if lesson.state == "cancelled":
        raise ClassError("not_open")
    roster = await classes.bookings_of(conn, class_id, ("booked",))
    for booking in roster:
        if booking.attendance != "present":
            await classes.set_booking(conn, booking.id, attendance="absent")
    for booking in await classes.bookings_of(conn, class_id, ("waiting", "offered")):
        await classes.set_booking(conn, booking.id, state="cancelled")
        await classes.drop_reminders(conn, booking.id)
    await classes.set_lesson_state(conn, class_id, "closed")
    present = [b for b in roster if b.attendance == "present"]
    await events.emit(
        conn,
        "class_held",
        f"class:{class_id}",
        {
            "class": class_id,
            "village": lesson.village_code,
            "topic": lesson.topic,
            "language": lesson.language,
            "present": len(present),
            "no_shows": len(roster) - len(present),
            "seniors": sum(1 for b in present if b.age_group == "60plus"),
        },
        None,
    )
    return Summary(
        present=len(present),
        no_shows=len(roster) - len(present),
        seniors=sum(1 for b in present if b.age_group == "60plus"),
        walk_ins=sum(1 for b in present if b.walk_in),
    )


@dataclass(frozen=True)
class AreaNumbers:
    code: str
    trained: int  # present at a closed class
    seniors: int  # of them, aged 60+
    attendance_rate: float  # present ÷ on the register

    @property
    def senior_share(self) -> float:
        return self.seniors / self.trained if self.trained else 0.0


async def numbers(conn: aiosqlite.Connection, trainer_id: int | None) -> dict[str, list[AreaNumbers]]:
    """People trained per village, district and region; share 60+; attendance rate."""
    rows = await classes.attendance_rows(conn, trainer_id)
    result: dict[str, list[AreaNumbers]] = {}
    for level in ("region", "district", "village"):
        present: Counter[str] = Counter()
        seniors: Counter[str] = Counter()
        total: Counter[str] = Counter()
        for row in rows:
            code = row[level]
            total[code] += 1
            if row["attendance"] == "present":
                present[code] += 1
                seniors[code] += row["age_group"] == "60plus"
        result[level] = [
            AreaNumbers(code, present[code], seniors[code], present[code] / total[code])
            for code in sorted(total, key=lambda c: -present[c])
        ]
    return result


def calendar_file(lesson: Lesson, village_name: str, summary: str, now: datetime) -> bytes:
    """An iCalendar (RFC 5545) event: UTC times, escaped text, lines folded at 75 octets."""

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")

    def stamp(moment: datetime) -> str:
        return moment.strftime("%Y%m%dT%H%M%SZ")

    ends = lesson.starts_at + timedelta(minutes=lesson.minutes)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//AuylNet//Classes//KK",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:class-{lesson.id}@auylnet",
        f"DTSTAMP:{stamp(now)}",
        f"DTSTART:{stamp(lesson.starts_at)}",
        f"DTEND:{stamp(ends)}",
        f"SUMMARY:{escape(summary)}",
        f"LOCATION:{escape(lesson.venue + ', ' + village_name)}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode("utf-8")


def _fold(line: str) -> str:
    """Fold a content line into chunks of at most 75 octets, never splitting a character."""
    out: list[str] = []
    current = ""
    for char in line:
        limit = 75 if not out else 74  # continuation lines start with a space
        if len((current + char).encode("utf-8")) > limit:
            out.append(current)
            current = char
        else:
            current += char
    out.append(current)
    return "\r\n ".join(out)
