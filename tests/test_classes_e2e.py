"""Digital-literacy classes, as the people involved live them."""

from __future__ import annotations

from datetime import timedelta

from bot.classes.service import run_checks
from bot.clock import Clock
from db import classes, places, users
from tests.conftest import BotFactory

TRAINER_ID = 620001
SHAKAT = "556069100"


async def greet(person, label: str) -> None:  # type: ignore[no-untyped-def]
    await person.send("/start")
    await person.next_message()
    await person.press(label, wait=0)
    await person.wait_for(lambda m: bool(m.buttons) and "?" in m.text)


async def open_class(person, list_word: str) -> None:  # type: ignore[no-untyped-def]
    await person.send("/classes")
    listing = await person.wait_for(lambda m: list_word in m.text)
    await person.press_on(listing, listing.labels[0], wait=0)


async def test_a_class_from_scheduling_to_the_register(client, bot_factory: BotFactory, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    trainer = await client.user("Гүлнар", id=TRAINER_ID, language_code="kk")
    aigul = await client.user("Айгүл", language_code="kk")
    olga = await client.user("Ольга", language_code="ru")
    dana = await client.user("Дана", language_code="kk")
    async with bot_factory(seed=True) as app:
        async with app.bot_data.db.transaction() as tx:
            await users.grant_role(
                tx, user_id=TRAINER_ID, role="trainer", scope="55", actor_id=None, now=clock.now()
            )
        await greet(trainer, "Қазақша")
        for person, label in ((aigul, "Қазақша"), (olga, "Русский"), (dana, "Қазақша")):
            await greet(person, label)
            async with app.bot_data.db.transaction() as tx:
                await places.set_my_village(tx, person.id, SHAKAT)

        # A resident cannot schedule.
        await aigul.send("/newclass")
        assert (await aigul.wait_for(lambda m: "рөліне" in m.text)).text == (
            "Кешіріңіз, бұл тек «оқытушы» рөліне арналған."
        )

        # The trainer schedules a class for two people, the day after tomorrow at 10:00.
        await trainer.send("/newclass")
        await trainer.wait_for(lambda m: "Жаңа сабақ" in m.text)
        await trainer.send("Шақат")
        await trainer.press((await trainer.wait_for(lambda m: m.text == "Қай ауыл?")).labels[0], wait=0)
        await trainer.wait_for(lambda m: "Нақты қай жерде" in m.text)
        await trainer.send("№1 мектеп, 12-кабинет")
        days = await trainer.wait_for(lambda m: "Қай күні?" in m.text)
        await trainer.press_on(days, days.labels[1], wait=0)
        await trainer.wait_for(lambda m: m.text == "Сағат нешеде?")
        await trainer.press("10:00", wait=0)
        await trainer.wait_for(lambda m: m.text == "Қанша уақыт?")
        await trainer.press("90 мин", wait=0)
        await trainer.wait_for(lambda m: m.text == "Тақырыбы?")
        await trainer.press("Смартфон негіздері", wait=0)
        await trainer.wait_for(lambda m: m.text == "Қай тілде?")
        await trainer.press("Қазақша", wait=0)
        await trainer.wait_for(lambda m: "Қанша орын?" in m.text)
        await trainer.send("2")
        summary = await trainer.wait_for(lambda m: "Тексеріп" in m.text)
        assert "Қайда: №1 мектеп, 12-кабинет, Шақат" in summary.text and "2 орын" in summary.text
        await trainer.press("✅ Сақтау", wait=0)
        await trainer.wait_for(lambda m: m.text.startswith("✅ №1 сабақ жоспарланды."))

        # Айгүл books for herself; Ольга books for her mother; the class is full.
        await open_class(aigul, "Тегін сабақтар")
        card = await aigul.wait_for(lambda m: "Смартфон негіздері" in m.text and "Қашан:" in m.text)
        assert "2 орын бос" in card.text
        await aigul.press("🙋 Өзімді жазу", wait=0)
        await aigul.wait_for(lambda m: m.text == "Жасыңыз нешеде?")
        assert await aigul.press("60 жастан бастап") == "Жазылдыңыз."

        await open_class(olga, "Бесплатные занятия")
        await olga.wait_for(lambda m: "Основы смартфона" in m.text)
        await olga.press("👵 Записать родственника", wait=0)
        await olga.wait_for(lambda m: m.text == "Напишите имя родственника:")
        await olga.send("Мама Нина")
        await olga.wait_for(lambda m: m.text == "Мама Нина: сколько лет?")
        assert await olga.press("60 лет и старше") == "Записано: Мама Нина."
        full = await olga.wait_for(lambda m: "Мест нет" in m.text or "✅ Записаны: Мама Нина" in m.text)
        assert "✅ Записаны: Мама Нина" in full.text

        # Дана joins the waiting list; Ольга cancels her mother's seat; Дана is offered it.
        await open_class(dana, "Тегін сабақтар")
        await dana.wait_for(lambda m: "Орын жоқ; 0 адам күтуде." in m.text)
        await dana.press("🙋 Күту тізіміне жазылу", wait=0)
        await dana.wait_for(lambda m: m.text == "Жасыңыз нешеде?")
        assert await dana.press("30–59 жас") == "Күту тізіміне қосылдыңыз."
        await olga.press("✖️ Отмена записи: Мама Нина", wait=0)
        question = await olga.wait_for(lambda m: m.text.startswith("Отменить запись?"))
        assert "Запись на имя: Мама Нина." in question.text
        await olga.press_on(question, "✖️ Да, отменить запись", wait=0)
        offer = await dana.wait_for(lambda m: m.text.startswith("🎟 Сабақта орын босады"))
        await dana.press_on(offer, "✅ Иә, барамын", wait=0)
        await dana.wait_for(lambda m: m.text.startswith("✅ Орын сіздікі. Сабақта кездескенше!"))

        async with app.bot_data.db.read() as conn:
            lesson = await classes.get_lesson(conn, 1)
        assert lesson is not None and lesson.taken == 2 and lesson.waiting == 0

        # The day before: the reminder arrives.
        clock.advance(lesson.starts_at - timedelta(hours=24) - clock.now() + timedelta(minutes=1))
        await run_checks(
            app.bot_data.db, app.bot_data.config, app.bot_data.clock.now()
        )  # what the periodic job does (it may get there first)
        reminder = await aigul.wait_for(lambda m: m.text.startswith("⏰ 24 сағаттан кейін сабақ"))
        assert "«Смартфон негіздері»" in reminder.text and "№1 мектеп, 12-кабинет (Шақат)" in reminder.text

    # The bot restarts; the two-hours reminder still comes.
    async with bot_factory(seed=True) as app:
        clock.advance(timedelta(hours=22))  # the periodic job's first run after the start finds it due
        await dana.wait_for(lambda m: m.text.startswith("⏰ 2 сағаттан кейін сабақ"), timeout=20)
        # The register opens when the class starts (it used to be kept before the start too).
        clock.advance(lesson.starts_at - clock.now() + timedelta(minutes=5))

        # The register: a forged mark from a resident is refused; the trainer marks, adds a walk-in, closes.
        menu = await aigul.last_message()
        assert menu is not None
        assert await aigul.press_data(menu.message_id, "ct:mark:1:1:0") == (
            "Кешіріңіз, бұл тек «оқытушы» рөліне арналған."
        )
        await trainer.send("/myclasses")
        mine = await trainer.wait_for(lambda m: "Менің сабақтарым" in m.text)
        await trainer.press_on(mine, mine.labels[0], wait=0)
        roster = await trainer.wait_for(lambda m: "келді/келмеді" in m.text)
        assert roster.labels[:2] == ["⬜ Айгүл (60+)", "⬜ Дана (30–59)"]
        await trainer.press_on(roster, "⬜ Айгүл (60+)", wait=0)
        await trainer.wait_for(lambda m: "✅ Айгүл (60+)" in m.labels)
        await trainer.press("➕ Жазылмай келген", wait=0)
        await trainer.wait_for(lambda m: m.text == "Келген адамның атын жазыңыз:")
        await trainer.send("Бақыт ата")
        await trainer.wait_for(lambda m: m.text == "Бақыт ата неше жаста?")
        await trainer.press("60 жастан бастап", wait=0)
        await trainer.wait_for(lambda m: "✅ Бақыт ата (60+)" in m.labels)
        await trainer.press("🏁 Сабақты аяқтау", wait=0)
        await trainer.wait_for(lambda m: m.text.startswith("Журналды жабу"))
        await trainer.press("🏁 Иә, жабу", wait=0)
        closed = await trainer.wait_for(lambda m: m.text.startswith("🏁 Сабақ аяқталды."))
        assert closed.text.splitlines()[1:] == [
            "Келгендер: 2",
            "Келмегендер: 1",
            "60+ жастағылар: 2",
            "Жазылмай келгендер: 1",
        ]

        await trainer.send("/classstats")
        numbers = await trainer.wait_for(lambda m: "Менің сабақтарым" in m.text and "қатысу" in m.text)
        assert (
            "Павлодар облысы: 2 адам оқытылды, оның ішінде 60+ жастағылар — 2 (100%), қатысу — 67%"
            in numbers.text
        )
