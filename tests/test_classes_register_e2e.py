"""The register opens when the class starts and a closed register is final; a moved class brings the
way to cancel and a new calendar file; a trainer whose role is taken away mid-change is stopped."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from bot.classes import service
from bot.classes.callbacks import TrainerCb
from bot.classes.service import NewLesson
from bot.clock import Clock
from db import classes, places, users
from tests.conftest import BotFactory
from tests.test_classes_e2e import SHAKAT, greet, open_class

TRAINER_ID, OTHER_ID = 660001, 660002


async def a_class(app: Any, clock: Clock, *, in_days: float = 3, language: str = "kk") -> classes.Lesson:
    async with app.bot_data.db.transaction() as tx:
        await users.grant_role(
            tx, user_id=TRAINER_ID, role="trainer", scope="55", actor_id=None, now=clock.now()
        )
        return await service.create_lesson(
            tx,
            NewLesson(SHAKAT, "Кітапхана", clock.now() + timedelta(days=in_days), 90, "egov", language, 10),
            trainer_id=TRAINER_ID,
            now=clock.now(),
        )


async def book_myself(person: Any, list_word: str, book: str, age: str) -> Any:
    await open_class(person, list_word)
    card = await person.wait_for(lambda m: book in m.labels)
    await person.press_on(card, book, wait=0)
    ages = await person.wait_for(lambda m: age in m.labels)
    await person.press_on(ages, age)
    return await person.wait_for(lambda m: "✅" in m.text)


async def test_the_register_opens_at_the_start_and_a_cancellation_after_closing_is_refused(
    client: Any, bot_factory: BotFactory, clock: Clock
) -> None:
    trainer = await client.user("Гүлнар", id=TRAINER_ID, language_code="kk")
    olga = await client.user("Ольга", language_code="ru")
    aigul = await client.user("Айгүл", language_code="kk")
    async with bot_factory(seed=True) as app:
        lesson = await a_class(app, clock)
        await greet(trainer, "Қазақша")
        for person, language in ((olga, "Русский"), (aigul, "Қазақша")):
            await greet(person, language)
            async with app.bot_data.db.transaction() as tx:
                await places.set_my_village(tx, person.id, SHAKAT)
        olga_card = await book_myself(olga, "Бесплатные занятия", "🙋 Записаться", "60 лет и старше")
        await book_myself(aigul, "Тегін сабақтар", "🙋 Өзімді жазу", "30–59 жас")

        # Three days before: the register is not open; closing it (even with a forged button) is refused.
        await trainer.send("/menu")
        menu = await trainer.wait_for(lambda m: "🧑‍🏫 Менің сабақтарым (оқытушы)" in m.labels)
        await trainer.press_on(menu, "🧑‍🏫 Менің сабақтарым (оқытушы)", wait=0)
        home = await trainer.wait_for(lambda m: m.text == "🧑‍🏫 Сіз жүргізетін сабақтар")
        assert home.labels == ["➕ Жаңа сабақ", "📋 Менің сабақтарым", "📊 Статистика", "⬅️ Мәзір"]
        await trainer.press_on(home, "📋 Менің сабақтарым", wait=0)
        mine = await trainer.wait_for(lambda m: m.text.startswith("📋 Менің сабақтарым"))
        await trainer.press_on(mine, mine.labels[0], wait=0)
        roster = await trainer.wait_for(lambda m: "Журнал сабақ басталғанда ашылады." in m.text)
        assert "🏁 Сабақты аяқтау" not in roster.labels and "➕ Жазылмай келген" not in roster.labels
        starts = lesson.starts_at.astimezone(app.bot_data.config.zone)
        not_yet = await trainer.press_data(
            roster.message_id, TrainerCb(action="close", lesson=lesson.id, confirmed=True).pack()
        )
        assert not_yet is not None and not_yet.startswith("Журнал сабақ басталғанда ашылады. Басталу уақыты:")
        assert starts.strftime("%H:%M") in not_yet
        first = roster.buttons[0][0][1]
        assert await trainer.press_data(roster.message_id, first) == not_yet  # no marks before the start
        async with app.bot_data.db.read() as conn:
            unchanged = await classes.get_lesson(conn, lesson.id)
            marks = [b.attendance for b in await classes.bookings_of(conn, lesson.id, ("booked",))]
        assert unchanged is not None and unchanged.state == "scheduled" and marks == [None, None]

        # The class starts: the register opens; Ольга is marked present, the register is closed.
        clock.advance(lesson.starts_at - clock.now() + timedelta(minutes=10))
        await trainer.press_on(roster, "⬅️ Менің сабақтарым", wait=0)
        mine = await trainer.wait_for(lambda m: m.text.startswith("📋 Менің сабақтарым"))
        await trainer.press_on(mine, mine.labels[0], wait=0)
        roster = await trainer.wait_for(lambda m: "келді/келмеді" in m.text)
        # A half-scheduled class does not swallow the name typed for a walk-in: the walk-in flow takes over.
        await trainer.send("/newclass")
        await trainer.wait_for(lambda m: m.text.startswith("➕ Жаңа сабақ"))
        await trainer.press_on(roster, "➕ Жазылмай келген", wait=0)
        await trainer.wait_for(lambda m: m.text == "Келген адамның атын жазыңыз:")
        await trainer.send("Бақыт ата")
        await trainer.press_on(
            await trainer.wait_for(lambda m: m.text == "Бақыт ата неше жаста?"), "60 жастан бастап", wait=0
        )
        roster = await trainer.wait_for(lambda m: "✅ Бақыт ата (60+)" in m.labels)
        await trainer.press_on(roster, "⬜ Ольга (60+)", wait=0)
        await trainer.wait_for(lambda m: "✅ Ольга (60+)" in m.labels)
        await trainer.press("🏁 Сабақты аяқтау", wait=0)
        await trainer.wait_for(lambda m: m.text.startswith("Журналды жабу керек пе?"))
        await trainer.press("🏁 Иә, жабу", wait=0)
        closed = await trainer.wait_for(lambda m: m.text.startswith("🏁 Сабақ аяқталды."))
        assert "Келгендер: 2" in closed.text and "Келмегендер: 1" in closed.text
        await trainer.send("/classstats")
        numbers = await trainer.wait_for(lambda m: "қатысу" in m.text)
        assert "Шақат: 2 адам оқытылды, оның ішінде 60+ жастағылар — 2 (100%), қатысу — 67%" in numbers.text

        # Ольга's old card still shows «Cancel»: the register is closed, so nothing changes.
        answer = await olga.press_on(olga_card, "✖️ Отменить мою запись")
        assert answer == "Это занятие уже прошло, его журнал закрыт."
        await trainer.send("/classstats")
        again = await trainer.wait_for(lambda m: "қатысу" in m.text)
        assert again.text == numbers.text
        async with app.bot_data.db.read() as conn:
            kept = await classes.bookings_of(conn, lesson.id, ("booked",))
        assert [(b.user_id, b.attendance) for b in kept] == [
            (olga.id, "present"),
            (aigul.id, "absent"),
            (None, "present"),
        ]


async def test_a_moved_class_brings_a_new_calendar_file_and_a_cancel_button(
    client: Any, sandbox: Any, bot_factory: BotFactory, clock: Clock
) -> None:
    trainer = await client.user("Марат", id=TRAINER_ID, language_code="ru")
    aigul = await client.user("Айгүл", language_code="kk")
    boris = await client.user("Борис", language_code="ru")
    async with bot_factory(seed=True) as app:
        lesson = await a_class(app, clock, language="ru")
        await greet(trainer, "Русский")
        for person, language in ((aigul, "Қазақша"), (boris, "Русский")):
            await greet(person, language)
            async with app.bot_data.db.transaction() as tx:
                await places.set_my_village(tx, person.id, SHAKAT)
        await book_myself(aigul, "Тегін сабақтар", "🙋 Өзімді жазу", "60 жастан бастап")
        await book_myself(boris, "Бесплатные занятия", "🙋 Записаться", "30–59 лет")

        await trainer.send("/myclasses")
        mine = await trainer.wait_for(lambda m: m.text.startswith("📋 Мои занятия"))
        await trainer.press_on(mine, mine.labels[0], wait=0)
        await trainer.wait_for(lambda m: "🕐 Новое время" in m.labels)
        await trainer.press("🕐 Новое время", wait=0)
        await trainer.wait_for(lambda m: m.text.startswith("Какой день?"))
        new_start = (lesson.starts_at + timedelta(days=1)).astimezone(app.bot_data.config.zone)
        await trainer.send(new_start.strftime("%d.%m") + " 18:00")
        await trainer.wait_for(lambda m: m.text.startswith("Сохранено; сообщим 2 людям."))

        moved = await aigul.wait_for(lambda m: m.text.startswith("📢 Сабақ ауыстырылды"))
        assert ", 18:00, Кітапхана (Шақат)" in moved.text
        assert moved.labels == ["📅 Жаңа күнтізбе файлы", "✖️ Жазылудан бас тарту"]
        await aigul.press_on(moved, "📅 Жаңа күнтізбе файлы", wait=0)
        sent = await aigul.wait_for(lambda m: m.document is not None)
        async with httpx.AsyncClient(base_url=sandbox.url) as http:
            ics = (await http.get(sent.raw["file_url"])).text.replace("\r\n ", "")
        assert f"DTSTART:{new_start.strftime('%Y%m%d')}T130000Z" in ics  # 18:00 in Almaty
        assert "BEGIN:VALARM" in ics and "TRIGGER:-PT2H" in ics
        assert "DESCRIPTION:Тегін цифрлық сауаттылық сабағы: «eGov қызметтері»." in ics
        assert "Тіл: орысша" in ics  # the class's language, in the reader's

        # Борис cannot come after all: asked once, then the booking is cancelled.
        moved_ru = await boris.wait_for(lambda m: m.text.startswith("📢 Занятие перенесено"))
        await boris.press_on(moved_ru, "✖️ Отменить мою запись", wait=0)
        question = await boris.wait_for(lambda m: m.text.startswith("Отменить запись?"))
        async with app.bot_data.db.read() as conn:
            still = await classes.my_bookings(conn, boris.id, lesson.id)
        assert [b.state for b in still] == ["booked"]  # the question changed nothing
        assert await boris.press_on(question, "✖️ Да, отменить запись") == "Запись отменена."
        async with app.bot_data.db.read() as conn:
            assert await classes.my_bookings(conn, boris.id, lesson.id) == []


async def test_a_trainer_whose_role_is_taken_away_mid_change_is_stopped(
    client: Any, bot_factory: BotFactory, clock: Clock
) -> None:
    marat = await client.user("Марат", id=TRAINER_ID, language_code="ru")
    gulnar = await client.user("Гүлнар", id=OTHER_ID, language_code="kk")
    olga = await client.user("Ольга", language_code="ru")
    async with bot_factory(seed=True) as app:
        lesson = await a_class(app, clock)
        second = None
        async with app.bot_data.db.transaction() as tx:
            await users.grant_role(
                tx, user_id=OTHER_ID, role="trainer", scope="55", actor_id=None, now=clock.now()
            )
            second = await service.create_lesson(
                tx,
                NewLesson(SHAKAT, "Мектеп", clock.now() + timedelta(days=2), 60, "safety", "kk", 5),
                trainer_id=OTHER_ID,
                now=clock.now(),
            )
        for person, language in ((marat, "Русский"), (gulnar, "Қазақша"), (olga, "Русский")):
            await greet(person, language)
        async with app.bot_data.db.transaction() as tx:
            await places.set_my_village(tx, olga.id, SHAKAT)
        await book_myself(olga, "Бесплатные занятия", "🙋 Записаться", "30–59 лет")

        for trainer, list_word, new_place, prompt in (
            (marat, "📋 Мои занятия", "📍 Новое место", "Напишите новое место:"),
            (gulnar, "📋 Менің сабақтарым", "📍 Жаңа орын", "Сабақ өтетін жаңа орынды жазыңыз:"),
        ):
            await trainer.send("/myclasses")
            mine = await trainer.wait_for(lambda m, w=list_word: m.text.startswith(w))
            await trainer.press_on(mine, mine.labels[0], wait=0)
            await trainer.wait_for(lambda m, p=new_place: p in m.labels)
            await trainer.press(new_place, wait=0)
            await trainer.wait_for(lambda m, p=prompt: m.text == p)
            async with app.bot_data.db.transaction() as tx:
                for held in await users.roles_of(tx, trainer.id):
                    await users.revoke_grant(
                        tx,
                        user_id=trainer.id,
                        role="trainer",
                        scope=held.scope,
                        actor_id=None,
                        now=clock.now(),
                    )
            await trainer.send("Дом культуры")
        await marat.wait_for(
            lambda m: m.text == "У вас больше нет роли «тренер», поэтому действие остановлено."
        )
        await gulnar.wait_for(
            lambda m: m.text == "Сізде енді «оқытушы» рөлі жоқ, сондықтан әрекет тоқтатылды."
        )
        async with app.bot_data.db.read() as conn:
            venues = [(await classes.get_lesson(conn, c.id)) for c in (lesson, second)]
            told = await conn.execute_fetchall("SELECT count(*) FROM outbox WHERE kind = 'class.changed'")
        assert [v.venue for v in venues if v is not None] == ["Кітапхана", "Мектеп"]
        assert next(iter(told))[0] == 0  # nobody was told of a change that did not happen


def rows_that_do_not_fit(message: Any) -> list[list[str]]:
    """Rows a phone cuts: three or more buttons, or two where a label is longer than half a row."""
    return [
        [label for label, _ in row]
        for row in message.buttons
        if len(row) > 2 or (len(row) == 2 and max(len(label) for label, _ in row) > 15)
    ]


async def test_the_trainers_class_card_and_register_buttons_fit_a_phone_in_both_languages(
    client: Any, bot_factory: BotFactory, clock: Clock
) -> None:
    trainer = await client.user("Гүлнар", id=TRAINER_ID, language_code="kk")
    async with bot_factory(seed=True) as app:
        lesson = await a_class(app, clock, in_days=1)
        for language, choose, mine_word, new_time, walk_in, age in (
            ("ru", "Русский", "📋 Мои занятия", "🕐 Новое время", "➕ Без записи", "60 лет и старше"),
            (
                "kk",
                "Қазақша",
                "📋 Менің сабақтарым",
                "🕐 Жаңа уақыт",
                "➕ Жазылмай келген",
                "60 жастан бастап",
            ),
        ):
            await trainer.send("/language")
            prompt = await trainer.wait_for(lambda m, word=choose: word in m.labels)
            await trainer.press_on(prompt, choose, wait=0)
            await trainer.wait_for(lambda m, mine=mine_word: any(mine[2:] in label for label in m.labels))
            await trainer.send("/myclasses")
            mine = await trainer.wait_for(lambda m, word=mine_word: m.text.startswith(word))
            await trainer.press_on(mine, mine.labels[0], wait=0)
            card = await trainer.wait_for(lambda m, word=new_time: word in m.labels)
            assert rows_that_do_not_fit(card) == [], language
            # The three changes share rows two at most, in order, none cut.
            changes = [row for row in card.buttons if any(label == new_time for label, _ in row)]
            assert changes[0][0][0] == new_time and len(changes[0]) <= 2
            if language == "kk":
                # The register opens at the start: walk-in and close, then the walk-in's age.
                clock.advance(lesson.starts_at - clock.now() + timedelta(minutes=5))
                await trainer.press_on(card, "⬅️ Менің сабақтарым", wait=0)
                mine = await trainer.wait_for(lambda m: m.text.startswith("📋 Менің сабақтарым"))
                await trainer.press_on(mine, mine.labels[0], wait=0)
                register = await trainer.wait_for(lambda m, word=walk_in: word in m.labels)
                assert rows_that_do_not_fit(register) == []
                await trainer.press_on(register, walk_in, wait=0)
                await trainer.wait_for(lambda m: m.text == "Келген адамның атын жазыңыз:")
                await trainer.send("Бақыт ата")
                ages = await trainer.wait_for(lambda m, word=age: word in m.labels)
                assert rows_that_do_not_fit(ages) == []
                await trainer.press_on(ages, age, wait=0)
                await trainer.wait_for(lambda m: "✅ Бақыт ата (60+)" in m.labels)


async def test_register_names_stay_readable_with_the_age_group_in_figures(
    client: Any, bot_factory: BotFactory, clock: Clock
) -> None:
    trainer = await client.user("Марат", id=TRAINER_ID, language_code="ru")
    async with bot_factory(seed=True) as app:
        lesson = await a_class(app, clock, in_days=1, language="ru")
        await greet(trainer, "Русский")
        clock.advance(lesson.starts_at - clock.now() + timedelta(minutes=5))
        for name, age, label in (
            ("Ольга Петрова", "60 лет и старше", "✅ Ольга Петрова (60+)"),
            ("Дана", "до 30 лет", "✅ Дана (<30)"),
            ("Бақытжан Серікбайұлы Әбдірахманов", "30–59 лет", "✅ Бақытжан… (30–59)"),
        ):
            await trainer.send("/myclasses")
            mine = await trainer.wait_for(lambda m: m.text.startswith("📋 Мои занятия"))
            await trainer.press_on(mine, mine.labels[0], wait=0)
            register = await trainer.wait_for(lambda m: "➕ Без записи" in m.labels)
            await trainer.press_on(register, "➕ Без записи", wait=0)
            await trainer.wait_for(lambda m: m.text == "Напишите имя пришедшего:")
            await trainer.send(name)
            ages = await trainer.wait_for(lambda m, word=age: word in m.labels)
            await trainer.press_on(ages, age, wait=0)
            roster = await trainer.wait_for(lambda m, word=label: word in m.labels)
        names = [label for label in roster.labels if label.startswith(("✅", "❌", "⬜"))]
        assert names == ["✅ Ольга Петрова (60+)", "✅ Дана (<30)", "✅ Бақытжан… (30–59)"]
        assert all(len(label) <= 28 for label in names)
        # Closed, the trainer's statistics write the percentages as the progress report does in Russian.
        await trainer.press_on(roster, "🏁 Завершить занятие", wait=0)
        await trainer.press_on(
            await trainer.wait_for(lambda m: "🏁 Да, закрыть" in m.labels), "🏁 Да, закрыть", wait=0
        )
        await trainer.wait_for(lambda m: m.text.startswith("🏁 Занятие завершено."))
        await trainer.send("/classstats")
        numbers = await trainer.wait_for(lambda m: "посещаемость" in m.text)
        assert "Шакат: обучено 3, из них 60 лет и старше — 1 (33 %), посещаемость 100 %" in numbers.text
