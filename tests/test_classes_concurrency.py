"""200 residents book a 10-seat class at the same moment: exactly 10 seats, 190 waiting in arrival order."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.classes import service
from bot.classes.callbacks import BookCb
from bot.classes.service import NewLesson
from bot.clock import Clock
from db import classes, users
from db.database import Database
from tests.conftest import BotFactory

SHAKAT = "556069100"
PEOPLE, SEATS = 200, 10
TRAINER_ID = 640001


async def test_200_bookings_at_once_on_the_domain_keep_10_seats_and_arrival_order(tmp_path: Path) -> None:
    from bot.demo.seed import seed_demo

    db = await Database.open(tmp_path / "classes.db")
    await seed_demo(db)
    clock = Clock()
    async with db.transaction() as tx:
        for user_id in range(1, PEOPLE + 1):
            await tx.execute(
                "INSERT INTO users (id, first_name, first_seen, last_seen) VALUES (?, 'x', 'x', 'x')",
                (user_id,),
            )
        lesson = await service.create_lesson(
            tx,
            NewLesson(SHAKAT, "Мектеп", clock.now() + timedelta(days=3), 60, "egov", "kk", SEATS),
            trainer_id=1,
            now=clock.now(),
        )
    arrival: list[int] = []
    rng = random.Random(5)

    async def book(user_id: int) -> None:
        await asyncio.sleep(rng.random() / 100)  # people do not arrive in id order
        async with db.transaction() as tx:
            await service.book(
                tx,
                lesson.id,
                user_id=user_id,
                age_group="60plus",
                attendee_name=None,
                source_key=f"u{user_id}",
                now=clock.now(),
            )
            arrival.append(user_id)  # inside the transaction: the order the lock let them in

    await asyncio.gather(*(book(user_id) for user_id in range(1, PEOPLE + 1)))
    async with db.read() as conn:
        booked = await classes.bookings_of(conn, lesson.id, ("booked",))
        waiting = await classes.bookings_of(conn, lesson.id, ("waiting",))
        current = await classes.get_lesson(conn, lesson.id)
    await db.close()
    assert arrival != sorted(arrival)  # the test really mixed the order up
    assert len(booked) == SEATS and len(waiting) == PEOPLE - SEATS
    assert [b.user_id for b in booked] == arrival[:SEATS]
    assert [b.user_id for b in waiting] == arrival[SEATS:]  # the waiting list keeps arrival order
    assert sorted(b.user_id or 0 for b in booked + waiting) == list(range(1, PEOPLE + 1))  # nobody lost
    assert current is not None and (current.taken, current.waiting) == (SEATS, PEOPLE - SEATS)


async def test_200_residents_press_book_at_once_through_telegram(
    client: Any, bot_factory: BotFactory, clock: Clock
) -> None:
    # Telegram's flood limits are not what is under test here; without them the presses really overlap.
    await client.limits(enabled=False)
    people = [await client.user(f"Тұрғын {n}", language_code="kk") for n in range(PEOPLE)]
    async with bot_factory(seed=True, rate_global_per_second=10_000) as app:
        async with app.bot_data.db.transaction() as tx:
            await users.ensure_account(tx, TRAINER_ID, clock.now())
            await service.create_lesson(
                tx,
                NewLesson(SHAKAT, "Мектеп", clock.now() + timedelta(days=3), 60, "egov", "kk", SEATS),
                trainer_id=TRAINER_ID,
                now=clock.now(),
            )

        async def open_list(person: Any) -> int:
            await person.send("/classes")
            listing = await person.wait_for(lambda m: "Тегін сабақтар" in m.text, timeout=60)
            return int(listing.message_id)

        listings = await asyncio.gather(*(open_list(person) for person in people))
        book_me = BookCb(lesson=1, who="me", age="60plus").pack()  # the button every card shows
        answers = await asyncio.gather(
            *(
                person.press_data(message_id, book_me, wait=60)
                for person, message_id in zip(people, listings, strict=True)
            )
        )
        async with app.bot_data.db.read() as conn:
            booked = await classes.bookings_of(conn, 1, ("booked",))
            waiting = await classes.bookings_of(conn, 1, ("waiting",))
    assert sorted(answers, key=str).count("Жазылдыңыз.") == SEATS
    assert answers.count("Күту тізіміне қосылдыңыз.") == PEOPLE - SEATS
    assert len(booked) == SEATS and len(waiting) == PEOPLE - SEATS
    assert len({b.user_id for b in booked + waiting}) == PEOPLE
    told_booked = {
        person.id for person, answer in zip(people, answers, strict=True) if answer == "Жазылдыңыз."
    }
    assert told_booked == {b.user_id for b in booked}  # what each person was told is what the database holds
    assert [b.id for b in waiting] == sorted(b.id for b in waiting)
