"""The rules of classes, on a real SQLite file: seats, the waiting list, offers, reminders, the register."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.classes import service
from bot.classes.service import ClassError, NewLesson
from bot.clock import Clock
from bot.i18n import Translator
from bot.notify import render
from db import classes
from db.database import Database

SHAKAT = "556069100"  # Pavlodar district, Pavlodar region
NABEREZHNOE = "556035100"  # the same district
ALGA = "153220100"  # Aktobe region
TRAINER, OTHER_TRAINER = 900, 901
OFFER_MINUTES = 120


async def _seed(path: Path) -> None:
    from bot.demo.seed import seed_demo

    db = await Database.open(path)
    await seed_demo(db)
    async with db.transaction() as tx:
        for user_id, language in [(TRAINER, "kk"), (OTHER_TRAINER, "ru")] + [
            (n, "kk" if n % 2 else "ru") for n in range(1, 301)
        ]:
            await tx.execute(
                "INSERT INTO users (id, first_name, language, first_seen, last_seen) VALUES (?, ?, ?, 'x', 'x')",
                (user_id, f"Person {user_id}", language),
            )
    await db.close()


@pytest.fixture(scope="module")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Demo villages and 300 people, seeded once and copied for each test."""
    path = tmp_path_factory.mktemp("classes") / "template.db"
    asyncio.run(_seed(path))
    return path


@pytest.fixture
async def db(seeded_template: Path, tmp_path: Path) -> AsyncIterator[Database]:
    path = tmp_path / "classes.db"
    shutil.copy(seeded_template, path)
    database = await Database.open(path)
    yield database
    await database.close()


async def schedule(
    db: Database,
    clock: Clock,
    *,
    capacity: int = 2,
    village: str = SHAKAT,
    in_days: float = 3,
    trainer: int = TRAINER,
    topic: str = "egov",
) -> classes.Lesson:
    async with db.transaction() as tx:
        return await service.create_lesson(
            tx,
            NewLesson(
                village,
                "Мектеп, 12-кабинет",
                clock.now() + timedelta(days=in_days),
                90,
                topic,
                "kk",
                capacity,
            ),
            trainer_id=trainer,
            now=clock.now(),
        )


async def book(
    db: Database,
    clock: Clock,
    lesson: classes.Lesson,
    user_id: int,
    *,
    name: str | None = None,
    age: str = "60plus",
    key: str | None = None,
) -> classes.Booking:
    async with db.transaction() as tx:
        return await service.book(
            tx,
            lesson.id,
            user_id=user_id,
            age_group=age,
            attendee_name=name,
            source_key=key or f"u{user_id}:{name}",
            now=clock.now(),
        )


async def outbox_rows(db: Database, chat_id: int) -> list[tuple[str, dict[str, object]]]:
    async with db.read() as conn:
        rows = await conn.execute_fetchall(
            "SELECT kind, params FROM outbox WHERE chat_id = ? AND state = 'pending' ORDER BY id", (chat_id,)
        )
    return [(row[0], json.loads(row[1])) for row in rows]


async def tick(db: Database, clock: Clock) -> service.TickResult:
    async with db.transaction() as tx:
        return await service.tick(tx, offer_minutes=OFFER_MINUTES, now=clock.now())


# --- scheduling --------------------------------------------------------------------------------------
async def test_a_class_cannot_be_scheduled_in_the_past_or_outside_the_trainers_area(db: Database) -> None:
    clock = Clock()
    past = NewLesson(SHAKAT, "Мектеп", clock.now() - timedelta(minutes=1), 60, "egov", "kk", 10)
    elsewhere = NewLesson(ALGA, "Мектеп", clock.now() + timedelta(days=1), 60, "egov", "kk", 10)
    unknown_topic = NewLesson(SHAKAT, "Мектеп", clock.now() + timedelta(days=1), 60, "cooking", "kk", 10)
    too_big = NewLesson(SHAKAT, "Мектеп", clock.now() + timedelta(days=1), 60, "egov", "kk", 500)
    async with db.transaction() as tx:
        for new, code in (
            (past, "in_the_past"),
            (elsewhere, "outside_area"),
            (unknown_topic, "bad_choice"),
            (too_big, "bad_capacity"),
        ):
            with pytest.raises(ClassError) as refused:
                await service.create_lesson(tx, new, trainer_id=TRAINER, now=clock.now(), scopes=["55"])
            assert refused.value.code == code
        lesson = await service.create_lesson(
            tx,
            NewLesson(SHAKAT, " Мектеп ", clock.now() + timedelta(days=1), 60, "egov", "ru", 10),
            trainer_id=TRAINER,
            now=clock.now(),
            scopes=["5560"],
        )
    assert (lesson.venue, lesson.capacity, lesson.taken, lesson.state) == ("Мектеп", 10, 0, "scheduled")


async def test_residents_see_their_village_first_then_their_district(db: Database) -> None:
    clock = Clock()
    nearby_sooner = await schedule(db, clock, village=NABEREZHNOE, in_days=1)
    here_later = await schedule(db, clock, village=SHAKAT, in_days=5)
    await schedule(db, clock, village=ALGA, in_days=1)
    async with db.read() as conn:
        found = await service.classes_near(conn, SHAKAT, clock.now())
    assert [lesson.id for lesson in found] == [here_later.id, nearby_sooner.id]


# --- seats and the waiting list ----------------------------------------------------------------------
async def test_a_full_class_puts_people_on_the_waiting_list_and_a_relative_counts_as_a_seat(
    db: Database,
) -> None:
    clock = Clock()
    lesson = await schedule(db, clock, capacity=2)
    mine = await book(db, clock, lesson, 1, age="30to59")
    mother = await book(db, clock, lesson, 1, name="Мама Нина")
    third = await book(db, clock, lesson, 2)
    assert (mine.state, mother.state, third.state) == ("booked", "booked", "waiting")
    assert mother.attendee_name == "Мама Нина" and mother.user_id == 1
    # The same person booked twice (or the same update redelivered) keeps one booking.
    assert (await book(db, clock, lesson, 1, name="Мама Нина", key="other")).id == mother.id
    assert (await book(db, clock, lesson, 2, key="u2:None")).id == third.id
    async with db.read() as conn:
        current = await classes.get_lesson(conn, lesson.id)
    assert current is not None and (current.taken, current.waiting) == (2, 1)


async def test_a_cancelled_seat_is_offered_to_the_first_waiting_who_has_limited_time(db: Database) -> None:
    clock = Clock()
    lesson = await schedule(db, clock, capacity=1)
    first = await book(db, clock, lesson, 1)
    second = await book(db, clock, lesson, 2)
    third = await book(db, clock, lesson, 3)
    async with db.transaction() as tx:
        with pytest.raises(ClassError) as refused:
            await service.cancel_booking(
                tx, first.id, user_id=2, offer_minutes=OFFER_MINUTES, now=clock.now()
            )
        assert refused.value.code == "not_your_booking"
        await service.cancel_booking(tx, first.id, user_id=1, offer_minutes=OFFER_MINUTES, now=clock.now())
    [(kind, params)] = await outbox_rows(db, 2)
    assert kind == "class.offer" and params["booking"] == second.id
    assert await outbox_rows(db, 3) == []
    text = render(kind, Translator("ru"), params).text
    assert text.startswith("🎟 Освободилось место: занятие «Услуги eGov»")

    # Nobody answers in time: the seat passes on.
    clock.advance(timedelta(minutes=OFFER_MINUTES + 1))
    assert (await tick(db, clock)).offers_passed_on == 1
    [(kind, params)] = await outbox_rows(db, 3)
    assert kind == "class.offer" and params["booking"] == third.id
    async with db.transaction() as tx:
        with pytest.raises(ClassError) as late:
            await service.answer_offer(
                tx, second.id, user_id=2, accept=True, offer_minutes=OFFER_MINUTES, now=clock.now()
            )
        assert late.value.code == "offer_expired"
        taken = await service.answer_offer(
            tx, third.id, user_id=3, accept=True, offer_minutes=OFFER_MINUTES, now=clock.now()
        )
    assert taken.state == "booked"
    async with db.read() as conn:
        states = {
            b.user_id: b.state
            for b in await classes.bookings_of(
                conn, lesson.id, ("booked", "waiting", "offered", "declined", "cancelled")
            )
        }
    assert states == {1: "cancelled", 2: "declined", 3: "booked"}


async def test_declining_an_offer_passes_it_straight_on(db: Database) -> None:
    clock = Clock()
    lesson = await schedule(db, clock, capacity=1)
    first = await book(db, clock, lesson, 1)
    second = await book(db, clock, lesson, 2)
    await book(db, clock, lesson, 3)
    async with db.transaction() as tx:
        await service.cancel_booking(tx, first.id, user_id=1, offer_minutes=OFFER_MINUTES, now=clock.now())
        await service.answer_offer(
            tx, second.id, user_id=2, accept=False, offer_minutes=OFFER_MINUTES, now=clock.now()
        )
    [(kind, _)] = await outbox_rows(db, 3)
    assert kind == "class.offer"


async def test_an_offer_never_outlasts_the_start(db: Database) -> None:
    clock = Clock()
    lesson = await schedule(db, clock, capacity=1, in_days=1 / 24)  # in one hour
    first = await book(db, clock, lesson, 1)
    second = await book(db, clock, lesson, 2)
    async with db.transaction() as tx:
        await service.cancel_booking(tx, first.id, user_id=1, offer_minutes=OFFER_MINUTES, now=clock.now())
    async with db.read() as conn:
        offered = await classes.get_booking(conn, second.id)
    assert offered is not None and offered.offered_until == lesson.starts_at


# --- reminders ---------------------------------------------------------------------------------------
async def test_reminders_come_a_day_and_two_hours_before_and_wait_in_sqlite_until_then(db: Database) -> None:
    clock = Clock()
    lesson = await schedule(db, clock, capacity=5, in_days=3)
    await book(db, clock, lesson, 1, name="Мама Нина")
    await book(db, clock, lesson, 2)
    # Nothing reaches the outbox early: a pending row there would hold back the person's other news.
    assert await outbox_rows(db, 1) == [] and (await tick(db, clock)).reminders == 0

    clock.advance(lesson.starts_at - clock.now() - timedelta(hours=24))
    assert (await tick(db, clock)).reminders == 2
    [(kind, params)] = await outbox_rows(db, 1)
    assert kind == "class.reminder" and params["hours"] == 24
    text = render(kind, Translator("kk"), params).text
    assert text.startswith("⏰ 24 сағаттан кейін сабақ: «eGov қызметтері»") and "Мама Нина" in text
    assert (await tick(db, clock)).reminders == 0  # sent once

    clock.advance(timedelta(hours=22))
    assert (await tick(db, clock)).reminders == 2
    assert [params["hours"] for _, params in await outbox_rows(db, 2)] == [24, 2]


async def test_after_downtime_only_the_nearest_reminder_goes_and_it_tells_the_real_time_left(
    db: Database,
) -> None:
    clock = Clock()
    lesson = await schedule(db, clock, capacity=5, in_days=3)
    await book(db, clock, lesson, 1)
    clock.advance(lesson.starts_at - clock.now() - timedelta(hours=1))  # the bot was down for days
    assert (await tick(db, clock)).reminders == 1
    [(_, params)] = await outbox_rows(db, 1)
    assert params["hours"] == 1


async def test_no_reminder_after_a_cancellation_and_a_late_booking_gets_only_the_near_one(
    db: Database,
) -> None:
    clock = Clock()
    lesson = await schedule(db, clock, capacity=5, in_days=3)
    booking = await book(db, clock, lesson, 1)
    async with db.transaction() as tx:
        await service.cancel_booking(tx, booking.id, user_id=1, offer_minutes=OFFER_MINUTES, now=clock.now())
    clock.advance(lesson.starts_at - clock.now() - timedelta(hours=5))
    await book(db, clock, lesson, 2)  # five hours before: the day-before reminder is already past
    clock.advance(timedelta(hours=3))
    assert (await tick(db, clock)).reminders == 1
    assert await outbox_rows(db, 1) == []
    assert [params["hours"] for _, params in await outbox_rows(db, 2)] == [2]


# --- the trainer changes or cancels ------------------------------------------------------------------
async def test_moving_a_class_tells_everyone_and_moves_the_reminders(db: Database) -> None:
    clock = Clock()
    lesson = await schedule(db, clock, capacity=1, in_days=3)
    await book(db, clock, lesson, 1)
    await book(db, clock, lesson, 2)
    later = lesson.starts_at + timedelta(days=2)
    async with db.transaction() as tx:
        with pytest.raises(ClassError) as refused:
            await service.change_lesson(
                tx, lesson.id, trainer_id=OTHER_TRAINER, is_admin=False, now=clock.now(), starts_at=later
            )
        assert refused.value.code == "not_your_class"
        with pytest.raises(ClassError) as past:
            await service.change_lesson(
                tx,
                lesson.id,
                trainer_id=TRAINER,
                is_admin=False,
                now=clock.now(),
                starts_at=clock.now() - timedelta(hours=1),
            )
        assert past.value.code == "in_the_past"
        told = await service.change_lesson(
            tx, lesson.id, trainer_id=TRAINER, is_admin=False, now=clock.now(), starts_at=later, venue="Клуб"
        )
    assert told == 2
    [(kind, params)] = await outbox_rows(db, 2)
    assert kind == "class.changed"
    assert "Клуб (Шақат)" in render(kind, Translator("kk"), params).text

    clock.advance(lesson.starts_at - clock.now() - timedelta(hours=24))  # the old reminder time
    assert (await tick(db, clock)).reminders == 0
    clock.advance(timedelta(days=2))
    assert (await tick(db, clock)).reminders == 1


async def test_more_seats_go_to_those_waiting_and_fewer_than_booked_is_refused(db: Database) -> None:
    clock = Clock()
    lesson = await schedule(db, clock, capacity=1)
    for user_id in (1, 2, 3):
        await book(db, clock, lesson, user_id)
    async with db.transaction() as tx:
        await service.change_lesson(
            tx, lesson.id, trainer_id=TRAINER, is_admin=False, now=clock.now(), capacity=3
        )
        with pytest.raises(ClassError) as refused:
            await service.change_lesson(
                tx, lesson.id, trainer_id=TRAINER, is_admin=False, now=clock.now(), capacity=1
            )
        assert refused.value.code == "below_booked"
    assert [kind for kind, _ in await outbox_rows(db, 2)] == ["class.offer"]
    assert [kind for kind, _ in await outbox_rows(db, 3)] == ["class.offer"]


async def test_cancelling_a_class_tells_each_person_once_and_stops_their_reminders(db: Database) -> None:
    clock = Clock()
    lesson = await schedule(db, clock, capacity=2)
    await book(db, clock, lesson, 1)
    await book(db, clock, lesson, 1, name="Мама Нина")
    await book(db, clock, lesson, 2)
    async with db.transaction() as tx:
        with pytest.raises(ClassError):
            await service.cancel_lesson(
                tx, lesson.id, trainer_id=OTHER_TRAINER, is_admin=False, now=clock.now()
            )
        assert (
            await service.cancel_lesson(tx, lesson.id, trainer_id=TRAINER, is_admin=False, now=clock.now())
            == 2
        )
    assert [kind for kind, _ in await outbox_rows(db, 1)] == ["class.cancelled"]
    assert [kind for kind, _ in await outbox_rows(db, 2)] == ["class.cancelled"]
    clock.advance(timedelta(days=3))
    assert (await tick(db, clock)).reminders == 0


# --- the register and the numbers --------------------------------------------------------------------
async def test_the_register_toggles_adds_walk_ins_and_closes_with_a_summary(db: Database) -> None:
    clock = Clock()
    lesson = await schedule(db, clock, capacity=4)
    aigul = await book(db, clock, lesson, 1, age="60plus")
    await book(db, clock, lesson, 2, age="30to59")
    await book(db, clock, lesson, 3, age="under30")
    await book(db, clock, lesson, 2, name="Нина", age="60plus")
    async with db.transaction() as tx:
        with pytest.raises(ClassError) as refused:
            await service.toggle_attendance(tx, aigul.id, trainer_id=OTHER_TRAINER, is_admin=False)
        assert refused.value.code == "not_your_class"
        marks = [
            (await service.toggle_attendance(tx, aigul.id, trainer_id=TRAINER, is_admin=False)).attendance
            for _ in range(3)
        ]
        assert marks == ["present", "absent", "present"]
        walk_in = await service.add_walk_in(
            tx,
            lesson.id,
            name="Бақыт ата",
            age_group="60plus",
            trainer_id=TRAINER,
            is_admin=False,
            now=clock.now(),
        )
        assert (walk_in.walk_in, walk_in.attendance, walk_in.user_id) == (True, "present", None)
        summary = await service.close_lesson(tx, lesson.id, trainer_id=TRAINER, is_admin=False)
    assert summary == service.Summary(present=2, no_shows=3, seniors=2, walk_ins=1)
    async with db.read() as conn:
        closed = await classes.get_lesson(conn, lesson.id)
        roster = await classes.bookings_of(conn, lesson.id, ("booked",))
    assert closed is not None and closed.state == "closed"
    assert sorted(b.attendance or "" for b in roster) == ["absent", "absent", "absent", "present", "present"]


async def test_numbers_count_people_trained_per_village_district_and_region(db: Database) -> None:
    clock = Clock()
    here = await schedule(db, clock, capacity=4, village=SHAKAT)
    there = await schedule(db, clock, capacity=4, village=ALGA, trainer=OTHER_TRAINER)
    bookings = [
        await book(db, clock, here, user_id, age=age)
        for user_id, age in ((1, "60plus"), (2, "60plus"), (3, "30to59"), (4, "under30"))
    ]
    other = await book(db, clock, there, 5, age="60plus")
    async with db.transaction() as tx:
        for booking in bookings[:3]:
            await service.toggle_attendance(tx, booking.id, trainer_id=TRAINER, is_admin=False)
        await service.toggle_attendance(tx, other.id, trainer_id=OTHER_TRAINER, is_admin=False)
        await service.close_lesson(tx, here.id, trainer_id=TRAINER, is_admin=False)
        await service.close_lesson(tx, there.id, trainer_id=OTHER_TRAINER, is_admin=False)
    async with db.read() as conn:
        mine = await service.numbers(conn, TRAINER)
        everyone = await service.numbers(conn, None)
    [region] = mine["region"]
    assert (region.code, region.trained, region.seniors) == ("550000000", 3, 2)
    assert region.attendance_rate == pytest.approx(0.75) and region.senior_share == pytest.approx(2 / 3)
    assert [(a.code, a.trained) for a in mine["district"]] == [("556000000", 3)]
    assert [(a.code, a.trained) for a in mine["village"]] == [(SHAKAT, 3)]
    assert {a.code: a.trained for a in everyone["region"]} == {"550000000": 3, "150000000": 1}


# --- the calendar file -------------------------------------------------------------------------------
def test_the_calendar_file_is_rfc_5545() -> None:
    lesson = classes.Lesson(
        id=7,
        trainer_id=1,
        village_code=SHAKAT,
        venue="Мектеп, 12-кабинет; 2-қабат\\А",
        starts_at=datetime(2026, 12, 1, 5, 0, tzinfo=UTC),
        minutes=90,
        topic="egov",
        language="kk",
        capacity=10,
        state="scheduled",
    )
    summary = "AuylNet сабағы: " + "Интернеттегі қауіпсіздік және алаяқтық " * 3
    raw = service.calendar_file(lesson, "Шақат", summary, datetime(2026, 11, 23, 8, 30, tzinfo=UTC))
    text = raw.decode("utf-8")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")[:-1]
    assert all(len(line.encode("utf-8")) <= 75 for line in lines)
    unfolded = text.replace("\r\n ", "").split("\r\n")[:-1]
    assert unfolded[0] == "BEGIN:VCALENDAR" and unfolded[-1] == "END:VCALENDAR"
    assert "BEGIN:VEVENT" in unfolded and "END:VEVENT" in unfolded
    assert {
        "UID:class-7@auylnet",
        "DTSTAMP:20261123T083000Z",
        "DTSTART:20261201T050000Z",
        "DTEND:20261201T063000Z",
    } <= set(unfolded)
    assert "LOCATION:Мектеп\\, 12-кабинет\\; 2-қабат\\\\А\\, Шақат" in unfolded
    assert f"SUMMARY:{summary}" in unfolded  # folding never split a Kazakh letter
