"""Rules for classes (written out for people in docs/classes.md). No Telegram, no SQL.

Two layers: the rules themselves take a connection inside the caller's transaction (tests and other
rules compose them), and the functions the handlers call take the :class:`Database`, own the
transaction, and return what the screen shows. Every trainer or admin action takes the acting
:class:`Member` and checks (role, area) and ownership itself, whichever way it was reached.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiosqlite
from pydantic import BaseModel, ValidationError

from bot.classes.when import week_of
from bot.clock import to_db
from bot.config import Settings
from bot.roles import Member
from db import audit, classes, drafts, events, outbox, places, users
from db.classes import AGE_GROUPS, TOPICS, Booking, BookingState, Lesson, RosterEntry
from db.database import Database

REMINDERS = (24, 2)  # hours before the start
MIN_NAME, MAX_NAME = 2, 80
MIN_VENUE, MAX_VENUE = 2, 100
MIN_SEATS, MAX_SEATS = 1, 200
# Drafts of the multi-step flows, one per flow.
BOOKING_DRAFT, NEW_CLASS_DRAFT, CHANGE_DRAFT, WALK_IN_DRAFT = "booking", "newclass", "classchange", "walkin"


class ClassError(ValueError):
    """A request the rules refuse; ``code`` names it for a localized message, ``params`` fill it in."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class FairUse:
    """How many relatives one person may book: per class, and over the classes of one calendar week."""

    per_class: int = 3
    per_week: int = 5
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Almaty"))

    @classmethod
    def from_settings(cls, settings: Settings) -> FairUse:
        return cls(settings.relatives_per_class, settings.relatives_per_week, settings.zone)


@dataclass(frozen=True)
class NewLesson:
    village_code: str
    venue: str
    starts_at: datetime
    minutes: int
    topic: str
    language: str
    capacity: int


def lesson_params(lesson: Lesson) -> dict[str, object]:
    """What a notification about a class needs to word it in its reader's language when sent."""
    return {
        "class": lesson.id,
        "topic": lesson.topic,
        "starts_at": lesson.starts_at.isoformat(),
        "venue": lesson.venue,
        "village": {"kk": lesson.village_kk, "ru": lesson.village_ru},
        "minutes": lesson.minutes,
        "language": lesson.language,
    }


def person_key(name: str | None) -> str | None:
    """Who a booking is for, compared without case or extra spaces («мама  Нина» is «Мама Нина»)."""
    return " ".join(name.split()).casefold() if name is not None else None


def clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not MIN_NAME <= len(cleaned) <= MAX_NAME:
        raise ClassError("bad_name")
    return cleaned


async def _get_lesson(conn: aiosqlite.Connection, class_id: int) -> Lesson:
    lesson = await classes.get_lesson(conn, class_id)
    if lesson is None:
        raise ClassError("not_open")
    return lesson


# --- where: the classes a resident sees ---------------------------------------------------------------
def district_centres(district_code: str) -> list[str]:
    """The district centre's code by the classifier's custom: the first settlement of the district's
    town (``DDDD20100``) or of the rural okrug the centre heads (``DDDD30100``)."""
    return [district_code[:4] + "20100", district_code[:4] + "30100"]


def nearby(village: places.Village) -> tuple[list[str], list[str]]:
    """(villages, prefixes) a resident of ``village`` sees classes in: the village, its rural okrug,
    and the district centre."""
    prefixes = [village.okrug_code[:6]] if village.okrug_code else []
    return [village.code, *district_centres(village.district_code)], prefixes


def _closeness(lesson: Lesson, village: places.Village) -> int:
    if lesson.village_code == village.code:
        return 0
    if village.okrug_code and lesson.village_code.startswith(village.okrug_code[:6]):
        return 1
    return 2


async def classes_near(conn: aiosqlite.Connection, village_code: str | None, now: datetime) -> list[Lesson]:
    """Upcoming classes: in the resident's village, then their rural okrug, then the district centre,
    each soonest first (every upcoming class for someone who has not said where they live)."""
    village = await places.get_village(conn, village_code) if village_code else None
    if village is None:
        return await classes.upcoming(conn, now)
    codes, prefixes = nearby(village)
    found = await classes.upcoming(conn, now, villages=codes, prefixes=prefixes)
    return sorted(found, key=lambda lesson: (_closeness(lesson, village), lesson.starts_at, lesson.id))


# --- scheduling ---------------------------------------------------------------------------------------
async def create_lesson(
    conn: aiosqlite.Connection,
    new: NewLesson,
    *,
    trainer_id: int,
    now: datetime,
    scopes: Sequence[str] = ("",),
) -> Lesson:
    """Put a class in the schedule; ``scopes`` are the KATO prefixes the trainer covers ("" everywhere).

    Nobody is told: :func:`schedule_class` is how a trainer schedules (and followers hear of it).
    """
    if not any(new.village_code.startswith(scope) for scope in scopes):
        raise ClassError("outside_area")
    if new.starts_at <= now:
        raise ClassError("in_the_past")
    if new.topic not in TOPICS or new.language not in ("kk", "ru"):
        raise ClassError("bad_choice")
    if not MIN_SEATS <= new.capacity <= MAX_SEATS:
        raise ClassError("bad_capacity")
    if not 15 <= new.minutes <= 480:
        raise ClassError("bad_choice")
    venue = " ".join(new.venue.split())
    if not MIN_VENUE <= len(venue) <= MAX_VENUE:
        raise ClassError("bad_venue")
    if await places.get_village(conn, new.village_code) is None:
        raise ClassError("unknown_village")
    class_id = await classes.create_lesson(
        conn,
        trainer_id=trainer_id,
        village_code=new.village_code,
        venue=venue,
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
    return await _get_lesson(conn, class_id)


@dataclass(frozen=True)
class Scheduled:
    lesson: Lesson
    followers_told: int


async def schedule_class(
    conn: aiosqlite.Connection, member: Member, new: NewLesson, now: datetime
) -> Scheduled:
    """A trainer schedules a class in their area; the village's followers hear of it."""
    if not member.holds("trainer"):
        raise ClassError("not_trainer")
    if not member.can("trainer", new.village_code):
        raise ClassError("village_outside_area")
    lesson = await create_lesson(conn, new, trainer_id=member.id, now=now)
    told = 0
    for user_id in await places.followers(conn, lesson.village_code):
        if user_id != member.id:
            told += await outbox.enqueue(
                conn,
                chat_id=user_id,
                kind="class.new",
                params={**lesson_params(lesson), "seats": lesson.capacity},
                now=now,
                dedup_key=f"class:{lesson.id}:new:{user_id}",
            )
    return Scheduled(lesson, told)


class NewClassDraft(BaseModel):
    """What a trainer has chosen so far for a new class."""

    village: str | None = None
    venue: str | None = None
    starts: datetime | None = None
    minutes: int | None = None
    topic: str | None = None
    language: str | None = None
    capacity: int | None = None
    village_kk: str = ""
    village_ru: str = ""

    def village_name(self, language: str) -> str:
        return self.village_kk if language == "kk" else self.village_ru

    def complete(self) -> NewLesson:
        if None in (
            self.village,
            self.venue,
            self.starts,
            self.minutes,
            self.topic,
            self.language,
            self.capacity,
        ):
            raise ClassError("bad_choice")
        assert self.village and self.venue and self.starts and self.minutes and self.topic and self.language
        assert self.capacity is not None
        return NewLesson(
            self.village, self.venue, self.starts, self.minutes, self.topic, self.language, self.capacity
        )


def _trainer(member: Member) -> None:
    if not member.holds("trainer"):
        raise ClassError("not_trainer")


async def _new_class(
    conn: aiosqlite.Connection, member: Member, now: datetime, **changes: Any
) -> NewClassDraft:
    data = await drafts.update_draft(
        conn,
        member.id,
        NEW_CLASS_DRAFT,
        {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in changes.items()},
        now,
    )
    try:
        return NewClassDraft.model_validate(data)
    except ValidationError as error:
        raise ClassError("bad_choice") from error


async def start_new_class(db: Database, member: Member, now: datetime) -> None:
    """/newclass: a fresh draft."""
    _trainer(member)
    async with db.transaction() as tx:
        await drafts.save_draft(tx, member.id, NEW_CLASS_DRAFT, {}, now)


async def choose_village(db: Database, member: Member, code: str, now: datetime) -> NewClassDraft:
    _trainer(member)
    if not member.can("trainer", code):
        raise ClassError("village_outside_area")
    async with db.transaction() as tx:
        village = await places.get_village(tx, code)
        if village is None:
            raise ClassError("unknown_village")
        return await _new_class(
            tx, member, now, village=code, village_kk=village.name_kk, village_ru=village.name_ru
        )


async def set_venue(db: Database, member: Member, venue: str, now: datetime) -> NewClassDraft:
    _trainer(member)
    cleaned = " ".join(venue.split())
    if not MIN_VENUE <= len(cleaned) <= MAX_VENUE:
        raise ClassError("bad_venue")
    async with db.transaction() as tx:
        return await _new_class(tx, member, now, venue=cleaned)


async def set_start(db: Database, member: Member, starts_at: datetime, now: datetime) -> NewClassDraft:
    _trainer(member)
    if starts_at <= now:
        raise ClassError("in_the_past")
    async with db.transaction() as tx:
        return await _new_class(tx, member, now, starts=starts_at)


async def set_choice(db: Database, member: Member, now: datetime, **choice: str | int) -> NewClassDraft:
    """A length, topic or language chosen by button (the button's type already checked the value)."""
    _trainer(member)
    async with db.transaction() as tx:
        return await _new_class(tx, member, now, **choice)


async def set_capacity(db: Database, member: Member, seats: int, now: datetime) -> NewClassDraft:
    """The last step: the seats; the draft comes back whole for the summary."""
    _trainer(member)
    if not MIN_SEATS <= seats <= MAX_SEATS:
        raise ClassError("bad_capacity")
    async with db.transaction() as tx:
        draft = await _new_class(tx, member, now, capacity=seats)
    draft.complete()
    return draft


async def save_new_class(db: Database, member: Member, now: datetime) -> Scheduled:
    """«✅ Save» on the summary: the class is scheduled and the draft forgotten."""
    _trainer(member)
    async with db.transaction() as tx:
        draft = await _new_class(tx, member, now)
        scheduled = await schedule_class(tx, member, draft.complete(), now)
        await drafts.clear_draft(tx, member.id, NEW_CLASS_DRAFT)
    return scheduled


# --- residents: the card, booking, cancelling ---------------------------------------------------------
@dataclass(frozen=True)
class ClassCard:
    """One class as a resident sees it, with their own bookings for it."""

    lesson: Lesson
    mine: list[Booking]

    @property
    def open(self) -> bool:
        return self.lesson.state == "scheduled"

    @property
    def booked_myself(self) -> bool:
        return any(booking.attendee_name is None for booking in self.mine)

    @property
    def has_seat(self) -> bool:
        return any(booking.state == "booked" for booking in self.mine)


async def class_card(conn: aiosqlite.Connection, user_id: int, class_id: int) -> ClassCard:
    lesson = await _get_lesson(conn, class_id)
    mine = await classes.my_bookings(conn, user_id, class_id)
    return ClassCard(
        lesson, sorted(mine, key=lambda b: (b.attendee_name is not None, b.id))
    )  # one's own first


async def list_classes(db: Database, member: Member, now: datetime) -> list[Lesson]:
    """/classes: the classes near the person, with their villages' names."""
    async with db.read() as conn:
        return await classes_near(conn, await places.my_village(conn, member.id), now)


@dataclass(frozen=True)
class NoClassesNear:
    """Where a person with no class to book stands: their village, and whether they follow it."""

    village: places.Village | None
    following: bool


async def no_classes_near(db: Database, member: Member) -> NoClassesNear:
    """Nothing to book: the person's village and whether its news (new classes among them) reach them."""
    async with db.read() as conn:
        code = await places.my_village(conn, member.id)
        village = await places.get_village(conn, code) if code else None
        following = village is not None and village.code in await places.followed_by(conn, member.id)
    return NoClassesNear(village, following)


async def open_card(db: Database, member: Member, class_id: int) -> ClassCard:
    async with db.read() as conn:
        return await class_card(conn, member.id, class_id)


async def _open_lesson(conn: aiosqlite.Connection, class_id: int, now: datetime) -> Lesson:
    """A class that can still be booked: scheduled and not started."""
    lesson = await classes.get_lesson(conn, class_id)
    if lesson is None or lesson.state != "scheduled":
        raise ClassError("not_open")
    if lesson.starts_at <= now:
        raise ClassError("already_started")
    return lesson


async def _check_fair_use(
    conn: aiosqlite.Connection, user_id: int, lesson: Lesson, mine: Sequence[Booking], fair_use: FairUse
) -> None:
    """One more relative for this class: refused past the per-class or per-week limit."""
    if sum(1 for booking in mine if booking.attendee_name is not None) >= fair_use.per_class:
        raise ClassError("relatives_per_class", n=fair_use.per_class)
    week_starts, week_ends = week_of(lesson.starts_at, fair_use.zone)
    if await classes.relatives_booked_between(conn, user_id, week_starts, week_ends) >= fair_use.per_week:
        raise ClassError("relatives_per_week", n=fair_use.per_week)


async def book(
    conn: aiosqlite.Connection,
    class_id: int,
    *,
    user_id: int,
    age_group: str,
    attendee_name: str | None,
    source_key: str,
    now: datetime,
    fair_use: FairUse | None = None,
) -> Booking:
    """A seat if one is free, otherwise a place on the waiting list, in arrival order.

    ``attendee_name`` is a relative's (None: the person booking). The same person booked again by the
    same booker (names compared without case or extra spaces) keeps the first booking; relatives are
    limited by ``fair_use``. A redelivered update (the same ``source_key``) changes nothing.
    """
    again = await classes.booking_by_source(conn, source_key)
    if again is not None:
        return again
    if age_group not in AGE_GROUPS:
        raise ClassError("bad_choice")
    name = clean_name(attendee_name) if attendee_name is not None else None
    lesson = await _open_lesson(conn, class_id, now)
    mine = await classes.my_bookings(conn, user_id, class_id)
    for existing in mine:
        if person_key(existing.attendee_name) == person_key(name):
            return existing
    if name is not None:
        await _check_fair_use(conn, user_id, lesson, mine, fair_use or FairUse())
    state: BookingState = "booked" if lesson.taken < lesson.capacity else "waiting"
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


@dataclass(frozen=True)
class Booked:
    booking: Booking
    card: ClassCard


async def book_myself(
    db: Database, member: Member, class_id: int, age_group: str, source_key: str, now: datetime
) -> Booked:
    """«🙋 Book for me» and an age group."""
    async with db.transaction() as tx:
        booking = await book(
            tx,
            class_id,
            user_id=member.id,
            age_group=age_group,
            attendee_name=None,
            source_key=source_key,
            now=now,
        )
        return Booked(booking, await class_card(tx, member.id, class_id))


async def start_relative_booking(
    db: Database, member: Member, class_id: int, fair_use: FairUse, now: datetime
) -> Lesson:
    """«👵 Book for a relative»: refused at once when the person cannot book another relative."""
    async with db.transaction() as tx:
        lesson = await _open_lesson(tx, class_id, now)
        await _check_fair_use(
            tx, member.id, lesson, await classes.my_bookings(tx, member.id, class_id), fair_use
        )
        await drafts.save_draft(tx, member.id, BOOKING_DRAFT, {"lesson": class_id}, now)
    return lesson


async def name_relative(
    db: Database, member: Member, name: str, fair_use: FairUse, now: datetime
) -> tuple[Lesson, str]:
    """The relative's name: refused when that person is already booked for the class."""
    cleaned = clean_name(name)
    async with db.transaction() as tx:
        draft = await drafts.get_draft(tx, member.id, BOOKING_DRAFT)
        if not isinstance(draft.get("lesson"), int):
            raise ClassError("bad_choice")
        lesson = await _open_lesson(tx, draft["lesson"], now)
        mine = await classes.my_bookings(tx, member.id, lesson.id)
        if any(person_key(booking.attendee_name) == person_key(cleaned) for booking in mine):
            raise ClassError("already_booked", name=cleaned)
        await _check_fair_use(tx, member.id, lesson, mine, fair_use)
        await drafts.save_draft(tx, member.id, BOOKING_DRAFT, {"lesson": lesson.id, "name": cleaned}, now)
    return lesson, cleaned


async def book_relative(
    db: Database,
    member: Member,
    class_id: int,
    age_group: str,
    source_key: str,
    fair_use: FairUse,
    now: datetime,
) -> Booked:
    """The relative's age group: the booking is made under the name typed before."""
    async with db.transaction() as tx:
        booking = await classes.booking_by_source(tx, source_key)
        if booking is None:
            draft = await drafts.get_draft(tx, member.id, BOOKING_DRAFT)
            if draft.get("lesson") != class_id or not isinstance(draft.get("name"), str):
                raise ClassError("bad_choice")
            booking = await book(
                tx,
                class_id,
                user_id=member.id,
                age_group=age_group,
                attendee_name=draft["name"],
                source_key=source_key,
                now=now,
                fair_use=fair_use,
            )
            await drafts.clear_draft(tx, member.id, BOOKING_DRAFT)
        return Booked(booking, await class_card(tx, member.id, class_id))


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


async def _cancellable(
    conn: aiosqlite.Connection, booking_id: int, user_id: int, expected: str | None, now: datetime
) -> tuple[Booking, Lesson]:
    """A booking its owner may still cancel, in the state the pressed button was drawn for."""
    booking = await classes.get_booking(conn, booking_id)
    if booking is None or booking.user_id != user_id:
        raise ClassError("not_your_booking")
    lesson = await _get_lesson(conn, booking.class_id)
    if lesson.state == "closed":
        raise ClassError("register_closed")
    if booking.state not in classes.ACTIVE or lesson.state != "scheduled":
        raise ClassError("not_your_booking")
    if lesson.starts_at <= now:
        raise ClassError("already_started")
    if expected is not None and booking.state != expected:
        raise ClassError("booking_changed")
    return booking, lesson


@dataclass(frozen=True)
class Cancelled:
    booking: Booking
    seat_passed_on: bool


async def cancel_booking(
    conn: aiosqlite.Connection,
    booking_id: int,
    *,
    user_id: int,
    offer_minutes: int,
    now: datetime,
    expected_state: str | None = None,
) -> Cancelled:
    """The person cancels one booking; a seat it held is offered to the first person waiting.

    With ``expected_state``, the booking must still be in the state the button was drawn for.
    """
    booking, _lesson = await _cancellable(conn, booking_id, user_id, expected_state, now)
    await classes.set_booking(conn, booking_id, state="cancelled")
    await classes.drop_reminders(conn, booking_id)
    offered = None
    if booking.state in classes.HOLDS_SEAT:
        offered = await offer_next_seat(conn, booking.class_id, offer_minutes, now)
    found = await classes.get_booking(conn, booking_id)
    assert found is not None
    return Cancelled(found, offered is not None)


@dataclass(frozen=True)
class CancelQuestion:
    booking: Booking
    lesson: Lesson


async def ask_to_cancel(
    db: Database, member: Member, booking_id: int, expected_state: str, now: datetime
) -> CancelQuestion:
    """The first press of a cancel button: what is about to be cancelled (nothing changes yet)."""
    async with db.read() as conn:
        booking, lesson = await _cancellable(conn, booking_id, member.id, expected_state, now)
    return CancelQuestion(booking, lesson)


@dataclass(frozen=True)
class CancelledCard:
    cancelled: Cancelled
    card: ClassCard


async def cancel_my_booking(
    db: Database, member: Member, booking_id: int, expected_state: str, offer_minutes: int, now: datetime
) -> CancelledCard:
    async with db.transaction() as tx:
        cancelled = await cancel_booking(
            tx,
            booking_id,
            user_id=member.id,
            offer_minutes=offer_minutes,
            now=now,
            expected_state=expected_state,
        )
        return CancelledCard(cancelled, await class_card(tx, member.id, cancelled.booking.class_id))


async def card_of_booking(db: Database, member: Member, booking_id: int) -> ClassCard:
    """The card of the class a booking of this person is for (after a refused, out-of-date button)."""
    async with db.read() as conn:
        booking = await classes.get_booking(conn, booking_id)
        if booking is None or booking.user_id != member.id:
            raise ClassError("not_your_booking")
        return await class_card(conn, member.id, booking.class_id)


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
    if chosen.user_id is not None:
        await outbox.enqueue(
            conn,
            chat_id=chosen.user_id,
            kind="class.offer",
            params={
                **lesson_params(lesson),
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
        lesson = await _open_lesson(conn, booking.class_id, now)
        await classes.set_booking(conn, booking_id, state="booked", offered_until=None)
        updated = await classes.get_booking(conn, booking_id)
        assert updated is not None
        await _schedule_reminders(conn, updated, lesson.starts_at, now)
        return updated
    await classes.set_booking(conn, booking_id, state="declined")
    await offer_next_seat(conn, booking.class_id, offer_minutes, now)
    updated = await classes.get_booking(conn, booking_id)
    assert updated is not None
    return updated


async def answer_my_offer(
    db: Database, member: Member, booking_id: int, accept: bool, offer_minutes: int, now: datetime
) -> Booked:
    async with db.transaction() as tx:
        booking = await answer_offer(
            tx, booking_id, user_id=member.id, accept=accept, offer_minutes=offer_minutes, now=now
        )
        return Booked(booking, await class_card(tx, member.id, booking.class_id))


# --- reminders and the periodic check -----------------------------------------------------------------
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
        hours_left = max(1, round((lesson.starts_at - now) / timedelta(hours=1)))
        await outbox.enqueue(
            conn,
            chat_id=booking.user_id,
            kind="class.reminder",
            params={
                **lesson_params(lesson),
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


# --- trainers: whose class, changes, cancelling -------------------------------------------------------
async def _trainers_lesson(conn: aiosqlite.Connection, class_id: int, member: Member) -> Lesson:
    """A class this member may act on as its trainer: their own class in their area, or any class
    in an area they administer."""
    if not member.holds("trainer"):
        raise ClassError("not_trainer")
    lesson = await _get_lesson(conn, class_id)
    if member.can("admin", lesson.village_code):
        return lesson
    if lesson.trainer_id != member.id:
        raise ClassError("outside_area" if member.is_admin else "not_your_class")
    if not member.can("trainer", lesson.village_code):
        raise ClassError("outside_area")
    return lesson


def _changeable(lesson: Lesson, now: datetime) -> None:
    if lesson.state == "closed":
        raise ClassError("register_closed")
    if lesson.state != "scheduled":
        raise ClassError("not_open")
    if lesson.starts_at <= now:
        raise ClassError("already_started")


async def cancel_lesson(conn: aiosqlite.Connection, class_id: int, member: Member, now: datetime) -> int:
    """The trainer cancels a class that has not started: everyone booked, offered or waiting is told
    once. Returns how many people."""
    lesson = await _trainers_lesson(conn, class_id, member)
    if lesson.state == "scheduled" and lesson.starts_at <= now:
        raise ClassError("cancel_started")
    _changeable(lesson, now)
    await classes.set_lesson_state(conn, class_id, "cancelled")
    await audit.record(conn, actor_id=member.id, subject=f"class:{class_id}", action="class.cancel", now=now)
    told = set()
    for booking in await classes.bookings_of(conn, class_id, classes.ACTIVE):
        await classes.set_booking(conn, booking.id, state="cancelled")
        await classes.drop_reminders(conn, booking.id)
        if booking.user_id is not None and booking.user_id not in told:
            told.add(booking.user_id)
            await outbox.enqueue(
                conn,
                chat_id=booking.user_id,
                kind="class.cancelled",
                params=lesson_params(lesson),
                now=now,
                dedup_key=f"class:{class_id}:cancelled:{booking.user_id}",
            )
    return len(told)


async def ask_to_cancel_class(db: Database, member: Member, class_id: int, now: datetime) -> Lesson:
    async with db.read() as conn:
        lesson = await _trainers_lesson(conn, class_id, member)
    if lesson.state == "scheduled" and lesson.starts_at <= now:
        raise ClassError("cancel_started")
    _changeable(lesson, now)
    return lesson


async def cancel_class(db: Database, member: Member, class_id: int, now: datetime) -> int:
    async with db.transaction() as tx:
        return await cancel_lesson(tx, class_id, member, now)


async def change_lesson(
    conn: aiosqlite.Connection,
    class_id: int,
    member: Member,
    now: datetime,
    *,
    starts_at: datetime | None = None,
    venue: str | None = None,
    capacity: int | None = None,
    offer_minutes: int = 120,
) -> int:
    """Move a class in time or place, or change its seats. Returns how many people were told.

    A new time or place is told to everyone booked, offered or waiting (with the way to cancel and a
    new calendar file), and reminders follow the time. More seats go to those waiting (as offers);
    fewer seats than are already taken is refused.
    """
    lesson = await _trainers_lesson(conn, class_id, member)
    _changeable(lesson, now)
    new_start = starts_at or lesson.starts_at
    new_venue = " ".join((venue if venue is not None else lesson.venue).split())
    new_capacity = capacity if capacity is not None else lesson.capacity
    if new_start <= now:
        raise ClassError("in_the_past")
    if not MIN_VENUE <= len(new_venue) <= MAX_VENUE:
        raise ClassError("bad_venue")
    if not MIN_SEATS <= new_capacity <= MAX_SEATS:
        raise ClassError("bad_capacity")
    if new_capacity < lesson.taken:
        raise ClassError("below_booked")
    await classes.update_lesson(conn, class_id, starts_at=new_start, venue=new_venue, capacity=new_capacity)
    await audit.record(
        conn,
        actor_id=member.id,
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
    changed = await _get_lesson(conn, class_id)
    everyone: dict[int, list[Booking]] = {}
    for booking in await classes.bookings_of(conn, class_id, classes.ACTIVE):
        if booking.state == "booked" and new_start != lesson.starts_at:
            await classes.drop_reminders(conn, booking.id)
            await _schedule_reminders(conn, booking, new_start, now)
        if (
            booking.state == "offered"
            and booking.offered_until is not None
            and booking.offered_until > new_start
        ):
            await classes.set_booking(conn, booking.id, offered_until=new_start)
        if booking.user_id is not None:
            everyone.setdefault(booking.user_id, []).append(booking)
    for user_id, theirs in everyone.items():
        await outbox.enqueue(
            conn,
            chat_id=user_id,
            kind="class.changed",
            params={
                **lesson_params(changed),
                "bookings": [{"id": b.id, "state": b.state, "attendee": b.attendee_name} for b in theirs],
            },
            now=now,
        )
    return len(everyone)


async def start_change(db: Database, member: Member, class_id: int, now: datetime) -> Lesson:
    """«🕐 New time», «📍 New place» or «🪑 Seats» on the register: the class is remembered for the
    typed answer."""
    async with db.transaction() as tx:
        lesson = await _trainers_lesson(tx, class_id, member)
        _changeable(lesson, now)
        await drafts.save_draft(tx, member.id, CHANGE_DRAFT, {"lesson": class_id}, now)
    return lesson


@dataclass(frozen=True)
class Roster:
    """The register of one class: everyone with a seat, named, and whether marks can be made now."""

    lesson: Lesson
    entries: list[RosterEntry]
    open: bool
    told: int | None = None  # after a change: how many people were told


async def change_class(
    db: Database,
    member: Member,
    class_id: int | None,
    now: datetime,
    *,
    offer_minutes: int,
    starts_at: datetime | None = None,
    venue: str | None = None,
    capacity: int | None = None,
) -> Roster:
    """Apply a change (``class_id`` None: the class remembered by :func:`start_change`); the register
    comes back with how many people were told."""
    async with db.transaction() as tx:
        if class_id is None:
            remembered = (await drafts.get_draft(tx, member.id, CHANGE_DRAFT)).get("lesson")
            if not isinstance(remembered, int):
                raise ClassError("bad_choice")
            class_id = remembered
        told = await change_lesson(
            tx,
            class_id,
            member,
            now,
            starts_at=starts_at,
            venue=venue,
            capacity=capacity,
            offer_minutes=offer_minutes,
        )
        await drafts.clear_draft(tx, member.id, CHANGE_DRAFT)
        roster = await _roster(tx, class_id, member, now)
    return Roster(roster.lesson, roster.entries, roster.open, told)


# --- the register ---------------------------------------------------------------------------------------
def register_open(lesson: Lesson, now: datetime) -> bool:
    """The register opens when the class starts and stays open until the trainer closes it."""
    return lesson.state == "scheduled" and now >= lesson.starts_at


def _require_open_register(lesson: Lesson, now: datetime) -> None:
    if lesson.state == "closed":
        raise ClassError("register_closed")
    if lesson.state != "scheduled":
        raise ClassError("not_open")
    if now < lesson.starts_at:
        raise ClassError("register_not_open", when=lesson.starts_at)


async def _roster(conn: aiosqlite.Connection, class_id: int, member: Member, now: datetime) -> Roster:
    lesson = await _trainers_lesson(conn, class_id, member)
    return Roster(lesson, await classes.roster(conn, class_id), register_open(lesson, now))


async def roster(db: Database, member: Member, class_id: int, now: datetime) -> Roster:
    async with db.read() as conn:
        return await _roster(conn, class_id, member, now)


async def toggle_attendance(
    conn: aiosqlite.Connection, booking_id: int, member: Member, now: datetime
) -> Booking:
    """Tapping an attendee: unmarked → present → absent → present …"""
    booking = await classes.get_booking(conn, booking_id)
    if booking is None or booking.state != "booked":
        raise ClassError("not_booked")
    lesson = await _trainers_lesson(conn, booking.class_id, member)
    _require_open_register(lesson, now)
    await classes.set_booking(
        conn, booking_id, attendance="absent" if booking.attendance == "present" else "present"
    )
    updated = await classes.get_booking(conn, booking_id)
    assert updated is not None
    return updated


async def mark(
    db: Database, member: Member, class_id: int, booking_id: int, update_id: int, now: datetime
) -> Roster:
    """A tap on a name in the register. A toggle applied twice would undo itself, so a redelivered
    tap (the same update) changes nothing."""
    async with db.transaction() as tx:
        booking = await classes.get_booking(tx, booking_id)
        if booking is None or booking.class_id != class_id:
            raise ClassError("not_booked")
        if await users.claim_update(tx, update_id, now):
            await toggle_attendance(tx, booking_id, member, now)
        return await _roster(tx, class_id, member, now)


async def add_walk_in(
    conn: aiosqlite.Connection,
    class_id: int,
    *,
    name: str,
    age_group: str,
    member: Member,
    now: datetime,
) -> Booking:
    """Someone without a booking came: on the register, present."""
    lesson = await _trainers_lesson(conn, class_id, member)
    _require_open_register(lesson, now)
    if age_group not in AGE_GROUPS:
        raise ClassError("bad_choice")
    return await classes.add_booking(
        conn,
        class_id=class_id,
        user_id=None,
        attendee_name=clean_name(name),
        age_group=age_group,
        state="booked",
        now=now,
        source_key=None,
        walk_in=True,
        attendance="present",
    )


async def start_walk_in(db: Database, member: Member, class_id: int, now: datetime) -> Lesson:
    """«➕ Walk-in»: only while the register is open."""
    async with db.transaction() as tx:
        lesson = await _trainers_lesson(tx, class_id, member)
        _require_open_register(lesson, now)
        await drafts.save_draft(tx, member.id, WALK_IN_DRAFT, {"lesson": class_id}, now)
    return lesson


async def name_walk_in(db: Database, member: Member, name: str, now: datetime) -> tuple[int, str]:
    """The walk-in's name; returns (class id, the name as kept)."""
    cleaned = clean_name(name)
    async with db.transaction() as tx:
        _trainer(member)
        draft = await drafts.get_draft(tx, member.id, WALK_IN_DRAFT)
        if not isinstance(draft.get("lesson"), int):
            raise ClassError("bad_choice")
        await drafts.save_draft(
            tx, member.id, WALK_IN_DRAFT, {"lesson": draft["lesson"], "name": cleaned}, now
        )
    return int(draft["lesson"]), cleaned


async def walk_in_aged(db: Database, member: Member, class_id: int, age_group: str, now: datetime) -> Roster:
    """The walk-in's age group: they are on the register, present."""
    async with db.transaction() as tx:
        draft = await drafts.get_draft(tx, member.id, WALK_IN_DRAFT)
        if draft.get("lesson") != class_id or not isinstance(draft.get("name"), str):
            raise ClassError("bad_choice")
        await add_walk_in(tx, class_id, name=draft["name"], age_group=age_group, member=member, now=now)
        await drafts.clear_draft(tx, member.id, WALK_IN_DRAFT)
        return await _roster(tx, class_id, member, now)


@dataclass(frozen=True)
class Summary:
    present: int
    no_shows: int
    seniors: int
    walk_ins: int


async def close_lesson(conn: aiosqlite.Connection, class_id: int, member: Member, now: datetime) -> Summary:
    """Close the register once the class has started: everyone not marked present is a no-show, the
    waiting list ends, and the class counts in the statistics."""
    lesson = await _trainers_lesson(conn, class_id, member)
    _require_open_register(lesson, now)
    await classes.mark_unmarked_absent(conn, class_id)
    for booking in await classes.bookings_of(conn, class_id, ("waiting", "offered")):
        await classes.set_booking(conn, booking.id, state="cancelled")
        await classes.drop_reminders(conn, booking.id)
    await classes.set_lesson_state(conn, class_id, "closed")
    await audit.record(conn, actor_id=member.id, subject=f"class:{class_id}", action="class.close", now=now)
    roster = await classes.bookings_of(conn, class_id, ("booked",))
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
        now,
    )
    return Summary(
        present=len(present),
        no_shows=len(roster) - len(present),
        seniors=sum(1 for b in present if b.age_group == "60plus"),
        walk_ins=sum(1 for b in present if b.walk_in),
    )


async def ask_to_close(db: Database, member: Member, class_id: int, now: datetime) -> Lesson:
    async with db.read() as conn:
        lesson = await _trainers_lesson(conn, class_id, member)
    _require_open_register(lesson, now)
    return lesson


async def close_register(db: Database, member: Member, class_id: int, now: datetime) -> Summary:
    async with db.transaction() as tx:
        return await close_lesson(tx, class_id, member, now)


@dataclass(frozen=True)
class MyClasses:
    """The classes a trainer keeps the register of: their own, or (an admin) all in their area."""

    lessons: list[Lesson]
    whole_area: bool


async def my_classes(db: Database, member: Member) -> MyClasses:
    _trainer(member)
    async with db.read() as conn:
        if member.is_admin:
            return MyClasses(await classes.not_closed(conn, areas=member.scopes("admin")), True)
        return MyClasses(await classes.not_closed(conn, trainer_id=member.id), False)


# --- statistics -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AreaNumbers:
    code: str
    trained: int  # present at a class whose register is closed
    seniors: int  # of them, aged 60+
    attendance_rate: float  # present ÷ on the register
    name_kk: str = ""
    name_ru: str = ""

    @property
    def senior_share(self) -> float:
        return self.seniors / self.trained if self.trained else 0.0

    def name(self, language: str) -> str:
        return self.name_kk if language == "kk" else self.name_ru


LEVELS = ("region", "district", "village")


async def numbers(conn: aiosqlite.Connection, member: Member) -> dict[str, list[AreaNumbers]]:
    """From the closed registers: people trained per region, district and village; share 60+;
    attendance rate. A trainer sees their own classes; an admin every class in their area."""
    _trainer(member)
    if member.is_admin:
        rows = await classes.attendance_rows(conn, areas=member.scopes("admin"))
    else:
        rows = await classes.attendance_rows(conn, trainer_id=member.id)
    result: dict[str, list[AreaNumbers]] = {}
    for level in LEVELS:
        present: Counter[str] = Counter()
        seniors: Counter[str] = Counter()
        total: Counter[str] = Counter()
        names: dict[str, tuple[str, str]] = {}
        for row in rows:
            code = getattr(row, level)
            names[code] = (getattr(row, f"{level}_kk"), getattr(row, f"{level}_ru"))
            total[code] += 1
            if row.attendance == "present":
                present[code] += 1
                seniors[code] += row.age_group == "60plus"
        result[level] = [
            AreaNumbers(code, present[code], seniors[code], present[code] / total[code], *names[code])
            for code in sorted(total, key=lambda c: (-present[c], c))
        ]
    return result


async def statistics(db: Database, member: Member) -> dict[str, list[AreaNumbers]]:
    async with db.read() as conn:
        return await numbers(conn, member)


async def calendar_lesson(db: Database, class_id: int) -> Lesson:
    async with db.read() as conn:
        return await _get_lesson(conn, class_id)
