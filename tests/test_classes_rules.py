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
from bot.classes.calendar import calendar_file
from bot.classes.service import ClassError, NewLesson
from bot.clock import Clock
from bot.i18n import Translator
from bot.notify import render
from bot.roles import Member
from db import classes
from db.database import Database
from db.models import Account, Role, RoleGrant

SHAKAT = "556069100"  # Pavlodar district, Pavlodar region; Шақат rural okrug
ZAOZERNOE = "556069200"  # the same rural okrug
NABEREZHNOE = "556035100"  # the same district, another okrug
AKSAN, KARAZHAR = "553633100", "553633380"  # Баянауыл district, Ақсан rural okrug
BAYANAUL, SHONAY = "553630100", "553630400"  # the district centre; another village of its okrug
ALGA = "153220100"  # Aktobe region
TRAINER, OTHER_TRAINER = 900, 901
OFFER_MINUTES = 120


def person(user_id: int, *grants: tuple[Role, str]) -> Member:
    """Who acts: a resident (no grants), or someone holding roles for areas ("" everywhere)."""
    now = datetime(2026, 11, 1, tzinfo=UTC)
    account = Account(id=user_id, first_name=f"Person {user_id}", first_seen=now, last_seen=now)
    return Member(
        account,
        tuple(RoleGrant(user_id=user_id, role=role, scope=scope, granted_at=now) for role, scope in grants),
    )


def trainer(user_id: int = TRAINER, scope: str = "") -> Member:
    return person(user_id, ("trainer", scope))


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


async def test_residents_see_their_village_then_their_okrug_then_the_district_centre(db: Database) -> None:
    # Earlier the rest of the district was listed; now it is the village, its rural okrug and the
    # district centre, each soonest first (a district can be a hundred kilometres across).
    clock = Clock()
    centre = await schedule(db, clock, village=BAYANAUL, in_days=1)
    okrug = await schedule(db, clock, village=KARAZHAR, in_days=2)
    here_later = await schedule(db, clock, village=AKSAN, in_days=5)
    here_sooner = await schedule(db, clock, village=AKSAN, in_days=3)
    await schedule(db, clock, village=SHONAY, in_days=1)  # the centre's okrug, not the resident's
    await schedule(db, clock, village=SHAKAT, in_days=1)  # another district
    async with db.read() as conn:
        found = await service.classes_near(conn, AKSAN, clock.now())
        in_shakat = await service.classes_near(conn, ZAOZERNOE, clock.now())
        anywhere = await service.classes_near(conn, None, clock.now())
    assert [lesson.id for lesson in found] == [here_sooner.id, here_later.id, okrug.id, centre.id]
    assert [lesson.village_code for lesson in in_shakat] == [SHAKAT]  # Pavlodar district's centre is a city
    assert len(anywhere) == 6
    assert found[0].village("kk") == "Ақсан" and found[0].village("ru") == "Аксан"


def test_the_district_centre_follows_the_classifiers_numbering() -> None:
    assert service.district_centres("553600000") == ["553620100", "553630100"]


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
    assert text.startswith("🎟 Освободилось место на занятии: «Услуги eGov»")

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
            await service.change_lesson(tx, lesson.id, trainer(OTHER_TRAINER), clock.now(), starts_at=later)
        assert refused.value.code == "not_your_class"
        with pytest.raises(ClassError) as past:
            await service.change_lesson(
                tx, lesson.id, trainer(), clock.now(), starts_at=clock.now() - timedelta(hours=1)
            )
        assert past.value.code == "in_the_past"
        told = await service.change_lesson(
            tx, lesson.id, trainer(), clock.now(), starts_at=later, venue="Клуб"
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
        await service.change_lesson(tx, lesson.id, trainer(), clock.now(), capacity=3)
        with pytest.raises(ClassError) as refused:
            await service.change_lesson(tx, lesson.id, trainer(), clock.now(), capacity=1)
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
            await service.cancel_lesson(tx, lesson.id, trainer(OTHER_TRAINER), clock.now())
        assert await service.cancel_lesson(tx, lesson.id, trainer(), clock.now()) == 2
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
    clock.advance(lesson.starts_at - clock.now() + timedelta(minutes=5))  # the register opens at the start
    async with db.transaction() as tx:
        with pytest.raises(ClassError) as refused:
            await service.toggle_attendance(tx, aigul.id, trainer(OTHER_TRAINER), clock.now())
        assert refused.value.code == "not_your_class"
        marks = [
            (await service.toggle_attendance(tx, aigul.id, trainer(), clock.now())).attendance
            for _ in range(3)
        ]
        assert marks == ["present", "absent", "present"]
        walk_in = await service.add_walk_in(
            tx, lesson.id, name="Бақыт ата", age_group="60plus", member=trainer(), now=clock.now()
        )
        assert (walk_in.walk_in, walk_in.attendance, walk_in.user_id) == (True, "present", None)
        summary = await service.close_lesson(tx, lesson.id, trainer(), clock.now())
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
    clock.advance(timedelta(days=3, minutes=5))  # both classes have started
    async with db.transaction() as tx:
        for booking in bookings[:3]:
            await service.toggle_attendance(tx, booking.id, trainer(), clock.now())
        await service.toggle_attendance(tx, other.id, trainer(OTHER_TRAINER), clock.now())
        await service.close_lesson(tx, here.id, trainer(), clock.now())
        await service.close_lesson(tx, there.id, trainer(OTHER_TRAINER), clock.now())
    async with db.read() as conn:
        mine = await service.numbers(conn, trainer())
        everyone = await service.numbers(conn, person(1, ("admin", "")))
        pavlodar_admin = await service.numbers(conn, person(2, ("admin", "55")))
    [region] = mine["region"]
    assert (region.code, region.trained, region.seniors) == ("550000000", 3, 2)
    assert region.attendance_rate == pytest.approx(0.75) and region.senior_share == pytest.approx(2 / 3)
    assert [(a.code, a.trained) for a in mine["district"]] == [("556000000", 3)]
    assert [(a.code, a.trained) for a in mine["village"]] == [(SHAKAT, 3)]
    assert {a.code: a.trained for a in everyone["region"]} == {"550000000": 3, "150000000": 1}
    assert {a.code: a.trained for a in pavlodar_admin["region"]} == {"550000000": 3}  # their area only
    assert (region.name("kk"), region.name("ru")) == ("Павлодар облысы", "Павлодарская область")


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
    raw = calendar_file(lesson, "Шақат", summary, datetime(2026, 11, 23, 8, 30, tzinfo=UTC))
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


# --- fair use: relatives -----------------------------------------------------------------------------
async def test_relatives_are_limited_per_class_and_per_week_and_nobody_is_booked_twice(db: Database) -> None:
    clock = Clock()
    fair = service.FairUse(per_class=3, per_week=5)
    monday = await schedule(db, clock, capacity=20, in_days=7 - clock.now().weekday() + 0.5)  # next week
    tuesday = await schedule(db, clock, capacity=20, in_days=7 - clock.now().weekday() + 1.5)
    week_after = await schedule(db, clock, capacity=20, in_days=14 - clock.now().weekday() + 1.5)

    async def relative(lesson: classes.Lesson, name: str) -> classes.Booking:
        async with db.transaction() as tx:
            return await service.book(
                tx, lesson.id, user_id=1, age_group="60plus", attendee_name=name,
                source_key=f"{lesson.id}:{name}", now=clock.now(), fair_use=fair,
            )  # fmt: skip

    async def refused(lesson: classes.Lesson, name: str) -> ClassError:
        with pytest.raises(ClassError) as error:
            await relative(lesson, name)
        return error.value

    await book(db, clock, monday, 1)  # one's own seat is not a relative
    first = [await relative(monday, name) for name in ("Мама Нина", "Папа Иван", "Бабушка Зоя")]
    # The same person, typed with other capitals and spaces, keeps the booking they have.
    assert (await relative(monday, "  мама   НИНА ")).id == first[0].id
    fourth = await refused(monday, "Тётя Валя")
    assert (fourth.code, fourth.params) == ("relatives_per_class", {"n": 3})
    await relative(tuesday, "Тётя Валя")
    await relative(tuesday, "Дядя Петя")
    sixth = await refused(tuesday, "Соседка Аня")  # the sixth relative of one week
    assert (sixth.code, sixth.params) == ("relatives_per_week", {"n": 5})
    await relative(week_after, "Соседка Аня")  # another week
    async with db.read() as conn:
        held = await conn.execute_fetchall(
            "SELECT count(*) FROM bookings WHERE user_id = 1 AND attendee_name IS NOT NULL"
        )
    assert next(iter(held))[0] == 6
    assert (
        Translator("ru").n_(
            "You can book at most {n} relative for the classes of one week.",
            "You can book at most {n} relatives for the classes of one week.",
            5,
        )
        == "На занятия одной недели можно записать не больше 5 родственников."
    )


async def test_a_cancelled_relative_frees_a_place_under_the_limit(db: Database) -> None:
    clock = Clock()
    fair = service.FairUse(per_class=1, per_week=5)
    lesson = await schedule(db, clock, capacity=5)
    mother = await book(db, clock, lesson, 1, name="Мама Нина")
    async with db.transaction() as tx:
        await service.cancel_booking(tx, mother.id, user_id=1, offer_minutes=OFFER_MINUTES, now=clock.now())
        again = await service.book(
            tx, lesson.id, user_id=1, age_group="60plus", attendee_name="Папа Иван", source_key="k",
            now=clock.now(), fair_use=fair,
        )  # fmt: skip
    assert again.state == "booked"


# --- the register opens at the start and closes after it ----------------------------------------------
async def test_the_register_opens_at_the_start_and_a_closed_register_is_final(db: Database) -> None:
    clock = Clock()
    lesson = await schedule(db, clock, capacity=2, in_days=3)
    aigul = await book(db, clock, lesson, 1)
    dana = await book(db, clock, lesson, 2)
    await book(db, clock, lesson, 3)  # waiting
    async with db.transaction() as tx:
        for attempt in (
            service.close_lesson(tx, lesson.id, trainer(), clock.now()),
            service.toggle_attendance(tx, aigul.id, trainer(), clock.now()),
            service.add_walk_in(
                tx, lesson.id, name="Бақыт", age_group="60plus", member=trainer(), now=clock.now()
            ),
        ):
            with pytest.raises(ClassError) as early:
                await attempt
            assert (early.value.code, early.value.params) == ("register_not_open", {"when": lesson.starts_at})
    clock.advance(lesson.starts_at - clock.now() + timedelta(minutes=1))
    async with db.transaction() as tx:
        with pytest.raises(
            ClassError
        ) as started:  # a class under way is not cancelled: its register is closed
            await service.cancel_lesson(tx, lesson.id, trainer(), clock.now())
        assert started.value.code == "cancel_started"
        with pytest.raises(ClassError) as late:
            await service.cancel_booking(tx, dana.id, user_id=2, offer_minutes=OFFER_MINUTES, now=clock.now())
        assert late.value.code == "already_started"
        await service.toggle_attendance(tx, aigul.id, trainer(), clock.now())
        await service.close_lesson(tx, lesson.id, trainer(), clock.now())
    async with db.read() as conn:
        before = await service.numbers(conn, trainer())
    clock.advance(timedelta(hours=3))
    async with db.transaction() as tx:
        with pytest.raises(ClassError) as closed:
            await service.cancel_booking(tx, dana.id, user_id=2, offer_minutes=OFFER_MINUTES, now=clock.now())
        assert closed.value.code == "register_closed"
        for attempt in (
            service.toggle_attendance(tx, dana.id, trainer(), clock.now()),
            service.close_lesson(tx, lesson.id, trainer(), clock.now()),
            service.change_lesson(tx, lesson.id, trainer(), clock.now(), capacity=5),
        ):
            with pytest.raises(ClassError) as again:
                await attempt
            assert again.value.code == "register_closed"
    async with db.read() as conn:
        after = await service.numbers(conn, trainer())
        states = [b.state for b in await classes.bookings_of(conn, lesson.id, (*classes.ACTIVE, "cancelled"))]
    assert after == before and before["village"][0].attendance_rate == pytest.approx(0.5)
    assert states == ["booked", "booked", "cancelled"]  # the waiting list ended with the register


# --- who may act on a class ----------------------------------------------------------------------------
async def test_an_area_admin_acts_on_classes_of_their_area_only(db: Database) -> None:
    clock = Clock()
    lesson = await schedule(db, clock, capacity=5, village=SHAKAT)
    attempts = {
        "another trainer": trainer(OTHER_TRAINER, "55"),
        "admin of Aktobe region": person(77, ("admin", "15")),
        "trainer whose area shrank": trainer(TRAINER, "15"),
        "resident": person(3),
    }
    async with db.transaction() as tx:
        codes = {}
        for who, member in attempts.items():
            with pytest.raises(ClassError) as refused:
                await service.change_lesson(tx, lesson.id, member, clock.now(), venue="Клуб")
            codes[who] = refused.value.code
        assert codes == {
            "another trainer": "not_your_class",
            "admin of Aktobe region": "outside_area",
            "trainer whose area shrank": "outside_area",
            "resident": "not_trainer",
        }
        assert (
            await service.change_lesson(tx, lesson.id, person(78, ("admin", "55")), clock.now(), venue="Клуб")
            == 0
        )
        with pytest.raises(ClassError) as elsewhere:
            await service.schedule_class(
                tx,
                trainer(scope="15"),
                NewLesson(SHAKAT, "Мектеп", lesson.starts_at, 60, "egov", "kk", 5),
                clock.now(),
            )
        assert elsewhere.value.code == "village_outside_area"
    async with db.read() as conn:
        current = await classes.get_lesson(conn, lesson.id)
    assert current is not None and current.venue == "Клуб"


# --- followers, a moved class, an old cancel button -----------------------------------------------------
async def test_followers_of_the_village_hear_of_a_new_class(db: Database) -> None:
    from db import places

    clock = Clock()
    async with db.transaction() as tx:
        for user_id in (1, 2, TRAINER):
            await places.follow(tx, user_id, SHAKAT, clock.now())
        await places.follow(tx, 3, NABEREZHNOE, clock.now())
        scheduled = await service.schedule_class(
            tx,
            trainer(scope="55"),
            NewLesson(SHAKAT, "Мектеп", clock.now() + timedelta(days=2), 60, "safety", "ru", 12),
            clock.now(),
        )
    assert scheduled.followers_told == 2  # not the trainer who scheduled it, not another village's follower
    [(kind, params)] = await outbox_rows(db, 1)
    assert await outbox_rows(db, 3) == [] and await outbox_rows(db, TRAINER) == []
    rendered = render(kind, Translator("kk"), params)
    assert rendered.text.startswith("🎓 Сіз жазылған ауылда жаңа тегін сабақ: «Қауіпсіздік және алаяқтық»")
    assert "Тіл: орысша" in rendered.text and "12 орын" in rendered.text
    assert rendered.keyboard is not None
    assert rendered.keyboard.inline_keyboard[0][0].callback_data == f"cl:show:{scheduled.lesson.id}"


async def test_a_moved_class_comes_with_a_cancel_button_and_a_new_calendar_file(db: Database) -> None:
    clock = Clock()
    lesson = await schedule(db, clock, capacity=5)
    mine = await book(db, clock, lesson, 1)
    await book(db, clock, lesson, 2)
    await book(db, clock, lesson, 2, name="Мама Нина")
    async with db.transaction() as tx:
        await service.change_lesson(tx, lesson.id, trainer(), clock.now(), venue="Клуб")
    [(kind, params)] = await outbox_rows(db, 1)
    single = render(kind, Translator("ru"), params)
    assert single.keyboard is not None
    assert [[b.text for b in row] for row in single.keyboard.inline_keyboard] == [
        ["📅 Новый файл для календаря"],
        ["✖️ Отменить мою запись"],
    ]
    assert single.keyboard.inline_keyboard[1][0].callback_data == f"cx:{mine.id}:booked:0"
    [(kind, params)] = await outbox_rows(db, 2)
    several = render(kind, Translator("kk"), params)  # a booking of one's own and a relative's: the card
    assert several.keyboard is not None
    assert [[b.text for b in row] for row in several.keyboard.inline_keyboard][1] == ["🎓 Сабақты ашу"]


async def test_an_old_waiting_list_button_does_not_cancel_the_seat_accepted_since(db: Database) -> None:
    clock = Clock()
    lesson = await schedule(db, clock, capacity=1)
    first = await book(db, clock, lesson, 1)
    waiting = await book(db, clock, lesson, 2)
    async with db.transaction() as tx:
        await service.cancel_booking(tx, first.id, user_id=1, offer_minutes=OFFER_MINUTES, now=clock.now())
        await service.answer_offer(
            tx, waiting.id, user_id=2, accept=True, offer_minutes=OFFER_MINUTES, now=clock.now()
        )
        with pytest.raises(ClassError) as changed:
            await service.cancel_booking(
                tx,
                waiting.id,
                user_id=2,
                offer_minutes=OFFER_MINUTES,
                now=clock.now(),
                expected_state="waiting",
            )
        assert changed.value.code == "booking_changed"
    async with db.read() as conn:
        kept = await classes.get_booking(conn, waiting.id)
    assert kept is not None and kept.state == "booked"


def test_the_calendar_file_has_a_description_and_a_reminder_two_hours_before() -> None:
    lesson = classes.Lesson(
        id=3, trainer_id=1, village_code=SHAKAT, venue="Мектеп", starts_at=datetime(2026, 12, 1, 5, 0, tzinfo=UTC),
        minutes=60, topic="egov", language="ru", capacity=10, state="scheduled",
    )  # fmt: skip
    text = calendar_file(
        lesson, "Шакат", "Занятие AuylNet", datetime(2026, 11, 23, tzinfo=UTC),
        description="Язык: русский\nОтменить: /classes", alarm="Через два часа",
    ).decode()  # fmt: skip
    unfolded = text.replace("\r\n ", "").split("\r\n")
    start, end = unfolded.index("BEGIN:VALARM"), unfolded.index("END:VALARM")
    assert unfolded.index("BEGIN:VEVENT") < start < end < unfolded.index("END:VEVENT")
    assert {"ACTION:DISPLAY", "TRIGGER:-PT2H", "DESCRIPTION:Через два часа"} == set(unfolded[start + 1 : end])
    assert "DESCRIPTION:Язык: русский\\nОтменить: /classes" in unfolded
