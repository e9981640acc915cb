"""A seat freed from a reminder goes down the waiting list; an offer nobody confirms in time passes on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.classes import service
from bot.classes.service import NewLesson, run_checks
from bot.clock import Clock
from db import classes, users
from tests.conftest import BotFactory
from tests.test_classes_e2e import SHAKAT, greet, open_class

TRAINER_ID = 650001


async def test_i_cannot_come_then_an_unanswered_offer_passes_to_the_next(
    client: Any, bot_factory: BotFactory, clock: Clock
) -> None:
    aigul = await client.user("Айгүл", language_code="kk")
    boris = await client.user("Борис", language_code="ru")
    dana = await client.user("Дана", language_code="kk")
    async with bot_factory(seed=True) as app:
        async with app.bot_data.db.transaction() as tx:
            await users.ensure_account(tx, TRAINER_ID, clock.now())
            lesson = await service.create_lesson(
                tx,
                NewLesson(SHAKAT, "Кітапхана", clock.now() + timedelta(days=2), 60, "safety", "kk", 1),
                trainer_id=TRAINER_ID,
                now=clock.now(),
            )
        for person, language, list_word, me, age, done in (
            (aigul, "Қазақша", "Тегін сабақтар", "🙋 Өзімді жазу", "60 жастан бастап", "Жазылдыңыз."),
            (
                boris,
                "Русский",
                "Бесплатные занятия",
                "🙋 В список ожидания",
                "60 лет и старше",
                "Вы в списке ожидания.",
            ),
            (
                dana,
                "Қазақша",
                "Тегін сабақтар",
                "🙋 Күту тізіміне жазылу",
                "30–59 жас",
                "Күту тізіміне қосылдыңыз.",
            ),
        ):
            await greet(person, language)
            await open_class(person, list_word)
            card = await person.wait_for(lambda m, me=me: me in m.labels)
            await person.press_on(card, me, wait=0)
            await person.wait_for(lambda m: "?" in m.text and len(m.labels) == 4)  # three ages and «back»
            assert await person.press(age) == done

        # The day before, Айгүл is reminded and answers she cannot come: Борис is offered the seat.
        clock.advance(lesson.starts_at - clock.now() - timedelta(hours=24))
        await run_checks(app.bot_data.db, app.bot_data.config, app.bot_data.clock.now())
        reminder = await aigul.wait_for(lambda m: m.text.startswith("⏰ 24 сағаттан кейін сабақ"))
        assert "Қауіпсіздік және алаяқтық" in reminder.text
        # The cancellation is asked once, then confirmed.
        await aigul.press_on(reminder, "✖️ Келе алмаймын", wait=0)
        question = await aigul.wait_for(lambda m: m.text.startswith("Жазылудан бас тартасыз ба?"))
        assert await aigul.press_on(question, "✖️ Иә, бас тартамын") == (
            "Жазылудан бас тарттыңыз. Хабарлағаныңызға рақмет: орын күтіп тұрған адамға беріледі."
        )
        offer = await boris.wait_for(lambda m: m.text.startswith("🎟 Освободилось место"))

        # Борис does not answer in time: the seat passes to Дана, and his late «yes» is refused.
        clock.advance(timedelta(minutes=app.bot_data.config.seat_offer_minutes + 1))
        await run_checks(app.bot_data.db, app.bot_data.config, app.bot_data.clock.now())
        dana_offer = await dana.wait_for(lambda m: m.text.startswith("🎟 Сабақта орын босады"))
        assert await boris.press_on(offer, "✅ Да, приду") == "Извините, время подтвердить это место истекло."
        await dana.press_on(dana_offer, "✅ Иә, барамын", wait=0)
        await dana.wait_for(lambda m: m.text.startswith("✅ Орын сіздікі. Сабақта кездескенше!"))

        async with app.bot_data.db.read() as conn:
            everyone = await classes.bookings_of(
                conn, lesson.id, ("booked", "waiting", "offered", "declined", "cancelled")
            )
        assert {b.user_id: b.state for b in everyone} == {
            aigul.id: "cancelled",
            boris.id: "declined",
            dana.id: "booked",
        }

        # Дана booked a day ahead: only her two-hour reminder is still to come, and it does.
        clock.advance(lesson.starts_at - clock.now() - timedelta(hours=2))
        await run_checks(app.bot_data.db, app.bot_data.config, app.bot_data.clock.now())
        await dana.wait_for(lambda m: m.text.startswith("⏰ 2 сағаттан кейін сабақ"))
