"""Residents and classes: classes near them in their own language, news of a class in a followed
village, the fair use of seats for relatives, an old card that cannot cancel an accepted seat, one
message per tap, and forged or out-of-range buttons."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.classes import service
from bot.classes.service import NewLesson
from bot.clock import Clock
from db import classes, places, users
from tests.conftest import BotFactory
from tests.test_classes_e2e import SHAKAT, greet, open_class

TRAINER_ID = 670001
AKSAN, KARAZHAR, BAYANAUL, SHONAY = "553633100", "553633380", "553630100", "553630400"
ZAOZERNOE = "556069200"


async def schedule(app: Any, clock: Clock, village: str, *, in_days: float = 3, language: str = "ru") -> Any:
    async with app.bot_data.db.transaction() as tx:
        await users.ensure_account(tx, TRAINER_ID, clock.now())
        return await service.create_lesson(
            tx,
            NewLesson(village, "Клуб", clock.now() + timedelta(days=in_days), 60, "smartphone", language, 20),
            trainer_id=TRAINER_ID,
            now=clock.now(),
        )


async def test_followers_hear_of_a_new_class_and_residents_see_classes_around_them(
    client: Any, bot_factory: BotFactory, clock: Clock
) -> None:
    trainer = await client.user("Марат", id=TRAINER_ID, language_code="ru")
    aigul = await client.user("Айгүл", language_code="kk")  # follows Шақат, lives in Заозерное
    boris = await client.user("Борис", language_code="ru")  # follows Шақат
    dana = await client.user("Дана", language_code="kk")  # lives in Ақсан, Баянауыл district
    async with bot_factory(seed=True) as app:
        async with app.bot_data.db.transaction() as tx:
            await users.grant_role(
                tx, user_id=TRAINER_ID, role="trainer", scope="55", actor_id=None, now=clock.now()
            )
        for person, language in (
            (trainer, "Русский"),
            (aigul, "Қазақша"),
            (boris, "Русский"),
            (dana, "Қазақша"),
        ):
            await greet(person, language)
        async with app.bot_data.db.transaction() as tx:
            for person in (aigul, boris):
                await places.follow(tx, person.id, SHAKAT, clock.now())
            await places.set_my_village(tx, aigul.id, ZAOZERNOE)
            await places.set_my_village(tx, dana.id, AKSAN)

        # Марат schedules a class taught in Kazakh in Шакат; both followers hear, each in their language.
        await trainer.send("/newclass")
        await trainer.wait_for(lambda m: m.text.startswith("➕ Новое занятие"))
        await trainer.send("Шакат")
        villages = await trainer.wait_for(lambda m: m.text == "Какое село?")
        assert villages.labels[-2:] == ["🔎 Искать снова", "⬅️ Меню"]
        await trainer.send("Заозерное")  # typing at the list searches again
        again = await trainer.wait_for(
            lambda m: m.text == "Какое село?" and m.labels[0].startswith("Заозерное")
        )
        await trainer.press_on(again, "🔎 Искать снова", wait=0)
        await trainer.wait_for(lambda m: m.text == "Напишите название села ещё раз:")
        await trainer.send("Шакат")
        villages = await trainer.wait_for(
            lambda m: m.text == "Какое село?" and m.labels[0].startswith("Шакат")
        )
        await trainer.press_on(villages, villages.labels[0], wait=0)
        await trainer.wait_for(lambda m: m.text.startswith("Где именно?"))
        await trainer.send("Клуб")
        days = await trainer.wait_for(lambda m: m.text.startswith("Какой день?"))
        await trainer.press_on(days, days.labels[2], wait=0)
        await trainer.wait_for(lambda m: m.text == "Во сколько?")
        await trainer.press("14:00", wait=0)
        await trainer.wait_for(lambda m: m.text == "Сколько длится?")
        await trainer.press("90 мин", wait=0)
        await trainer.wait_for(lambda m: m.text == "Тема?")
        await trainer.press("Безопасность и мошенничество", wait=0)
        await trainer.wait_for(lambda m: m.text == "На каком языке?")
        assert (await trainer.last_message()).labels[:2] == ["Казахский", "Русский"]  # type: ignore[union-attr]
        await trainer.press("Казахский", wait=0)
        await trainer.wait_for(lambda m: m.text.startswith("Сколько мест?"))
        await trainer.press("15", wait=0)
        summary = await trainer.wait_for(lambda m: m.text.startswith("Проверьте"))
        assert "Язык: казахский" in summary.text
        await trainer.press("✅ Сохранить", wait=0)
        saved = await trainer.wait_for(lambda m: m.text.startswith("✅ Занятие №1 запланировано."))
        assert "Сообщим 2 подписчикам села." in saved.text

        news_kk = await aigul.wait_for(
            lambda m: m.text.startswith("🎓 Сіз жазылған ауылда жаңа тегін сабақ:")
        )
        assert "«Қауіпсіздік және алаяқтық»" in news_kk.text and "Тіл: қазақша" in news_kk.text
        news_ru = await boris.wait_for(lambda m: m.text.startswith("🎓 Новое бесплатное занятие в селе"))
        assert "Язык: казахский" in news_ru.text and "15 мест" in news_ru.text
        await boris.press_on(news_ru, "🎓 Посмотреть и записаться", wait=0)
        card = await boris.wait_for(lambda m: m.text.startswith("🎓 Безопасность и мошенничество"))
        assert "Язык: казахский" in card.text and "15 свободных мест" in card.text

        # Айгүл lives in the same rural okrug: the class is in her list, its language in Kazakh words.
        await aigul.send("/classes")
        listing = await aigul.wait_for(lambda m: m.text.startswith("🎓 Тегін сабақтар"))
        assert "Шақат. Тілі: қазақша. 15 орын бос" in listing.text

        # Дана in Ақсан sees her okrug and the district centre, nearest first; not another okrug's village.
        centre = await schedule(app, clock, BAYANAUL, in_days=1)
        okrug = await schedule(app, clock, KARAZHAR, in_days=2)
        await schedule(app, clock, SHONAY, in_days=1)
        await dana.send("/classes")
        listing = await dana.wait_for(lambda m: m.text.startswith("🎓 Тегін сабақтар"))
        lines = listing.text.splitlines()[1:]
        assert [line.split(", ")[3].split(".")[0] for line in lines] == ["Қаражар", "Баянауыл"]
        assert all("Тілі: орысша" in line for line in lines)
        assert len(listing.labels) == 3 and all(len(label) <= 40 for label in listing.labels)
        await dana.press_on(listing, listing.labels[1], wait=0)
        card = await dana.wait_for(lambda m: m.text.startswith("🎓 Смартфон негіздері"))
        assert "Тіл: орысша" in card.text and "Баянауыл" in card.text
        async with app.bot_data.db.read() as conn:
            shown = await service.classes_near(conn, AKSAN, clock.now())
        assert [lesson.id for lesson in shown] == [okrug.id, centre.id]


async def test_relatives_are_limited_and_the_sixth_is_refused(
    client: Any, bot_factory: BotFactory, clock: Clock
) -> None:
    olga = await client.user("Ольга", language_code="ru")
    aigul = await client.user("Айгүл", language_code="kk")
    async with bot_factory(seed=True) as app:
        # Two classes on two days of one week.
        start = clock.now().astimezone(app.bot_data.config.zone)
        to_monday = 7 - start.weekday()
        first = await schedule(app, clock, SHAKAT, in_days=to_monday + 0.2)
        second = await schedule(app, clock, SHAKAT, in_days=to_monday + 1.2)
        for person, language in ((olga, "Русский"), (aigul, "Қазақша")):
            await greet(person, language)
            async with app.bot_data.db.transaction() as tx:
                await places.set_my_village(tx, person.id, SHAKAT)

        async def relative(person: Any, lesson_id: int, name: str, words: dict[str, str]) -> str | None:
            """Open the class, «Book for a relative», type the name, pick the age; the refusal if any."""
            await person.send("/classes")
            listing = await person.wait_for(lambda m: m.text.startswith(words["list"]))
            await person.press_on(listing, listing.labels[[first.id, second.id].index(lesson_id)], wait=0)
            card = await person.wait_for(lambda m: words["relative"] in m.labels)
            refused = await person.press_on(card, words["relative"], wait=1)
            if refused is not None:
                return refused
            await person.wait_for(lambda m: m.text == words["name?"])
            before = len(await person.messages())
            await person.send(name)
            asked = await person.wait_for(
                lambda m: words["age?"] in m.text or "уже" in m.text or "қойған" in m.text
            )
            if words["age?"] not in asked.text:
                return asked.text
            assert await person.press_on(asked, words["age"]) == words["booked"].format(name=name)
            card = await person.wait_for(lambda m: m.message_id == asked.message_id and "✅" in m.text)
            assert len(await person.messages()) == before + 1  # the typed name got one answer; the tap none
            return None

        ru = {
            "list": "🎓 Бесплатные занятия",
            "relative": "👵 Записать родственника",
            "name?": "Напишите имя родственника:",
            "age?": "сколько лет?",
            "age": "60 лет и старше",
            "booked": "Записано: {name}.",
        }
        kk = {
            "list": "🎓 Тегін сабақтар",
            "relative": "👵 Туысымды жазу",
            "name?": "Туысыңыздың атын жазыңыз:",
            "age?": "неше жаста?",
            "age": "60 жастан бастап",
            "booked": "Жазылды: {name}.",
        }
        for name in ("Мама Нина", "Папа Иван", "Бабушка Зоя"):
            assert await relative(olga, first.id, name, ru) is None
        assert await relative(olga, first.id, "Тётя Валя", ru) == (
            "На одно занятие можно записать не больше 3 родственников."
        )
        assert (
            await relative(olga, second.id, "Мама Нина", ru) is None
        )  # another class: the same person is fine
        assert await relative(olga, second.id, "Тётя Валя", ru) is None
        assert await relative(olga, second.id, "Дядя Петя", ru) == (
            "На занятия одной недели можно записать не больше 5 родственников."
        )  # the sixth relative of the week

        assert await relative(aigul, first.id, "Әжем Күлән", kk) is None
        assert await relative(aigul, first.id, "  әжем   күлән ", kk) == (
            "Бұл адам осы сабаққа жазылып қойған: әжем күлән."
        )
        # Booking herself after her grandmother: her own booking comes first on the card.
        await aigul.press("🙋 Өзімді жазу", wait=0)
        await aigul.wait_for(lambda m: m.text == "Жасыңыз нешеде?")
        assert await aigul.press("30–59 жас") == "Жазылдыңыз."
        card = await aigul.wait_for(lambda m: "✅ Жазылдыңыз" in m.text)
        assert card.text.index("✅ Жазылдыңыз") < card.text.index("✅ Жазылды: Әжем Күлән")
        assert card.labels[:2] == ["✖️ Жазылудан бас тарту", "✖️ Бас тарту: Әжем Күлән"]
        async with app.bot_data.db.read() as conn:
            olga_holds = await conn.execute_fetchall(
                "SELECT count(*) FROM bookings WHERE user_id = ? AND attendee_name IS NOT NULL", (olga.id,)
            )
            aigul_holds = await classes.my_bookings(conn, aigul.id, first.id)
        assert next(iter(olga_holds))[0] == 5 and [b.attendee_name for b in aigul_holds] == [
            "Әжем Күлән",
            None,
        ]


async def test_an_old_waiting_list_card_does_not_cancel_the_seat_accepted_since(
    client: Any, bot_factory: BotFactory, clock: Clock
) -> None:
    boris = await client.user("Борис", language_code="ru")
    dana = await client.user("Дана", language_code="kk")
    async with bot_factory(seed=True) as app:
        async with app.bot_data.db.transaction() as tx:
            await users.ensure_account(tx, TRAINER_ID, clock.now())
            lesson = await service.create_lesson(
                tx,
                NewLesson(SHAKAT, "Клуб", clock.now() + timedelta(days=2), 60, "egov", "kk", 1),
                trainer_id=TRAINER_ID,
                now=clock.now(),
            )
        for person, language, list_word, book, age in (
            (boris, "Русский", "Бесплатные занятия", "🙋 Записаться", "60 лет и старше"),
            (dana, "Қазақша", "Тегін сабақтар", "🙋 Күту тізіміне жазылу", "30–59 жас"),
        ):
            await greet(person, language)
            async with app.bot_data.db.transaction() as tx:
                await places.set_my_village(tx, person.id, SHAKAT)
            await open_class(person, list_word)
            card = await person.wait_for(lambda m, b=book: b in m.labels)
            await person.press_on(card, book, wait=0)
            await person.wait_for(lambda m, a=age: a in m.labels)
            await person.press(age)
        waiting_card = await dana.wait_for(lambda m: "⏳ Сіз күту тізіміндесіз" in m.text)

        # Борис gives up his seat (asked first); Дана accepts the offer.
        await boris.press("✖️ Отменить мою запись", wait=0)
        await boris.wait_for(lambda m: m.text.startswith("Отменить запись?"))
        said = await boris.press("✖️ Да, отменить запись")
        assert said == "Отменено. Спасибо, что предупредили: место получит тот, кто ждёт."
        offer = await dana.wait_for(lambda m: m.text.startswith("🎟 Сабақта орын босады"))
        await dana.press_on(offer, "✅ Иә, барамын", wait=0)
        await dana.wait_for(lambda m: m.text.startswith("✅ Орын сіздікі"))

        # Her old waiting-list card's «Cancel» does not touch the seat: it says why and shows it as it is.
        answer = await dana.press_on(waiting_card, "✖️ Жазылудан бас тарту")
        assert answer == "Бұл хабарлама ескірген: жазылу содан бері өзгерді. Қазіргі жағдайы осындай."
        refreshed = await dana.wait_for(
            lambda m: m.message_id == waiting_card.message_id and "✅ Жазылдыңыз" in m.text
        )
        async with app.bot_data.db.read() as conn:
            [kept] = await classes.my_bookings(conn, dana.id, lesson.id)
        assert kept.state == "booked"
        # From the card as it is now, cancelling asks first.
        await dana.press_on(refreshed, "✖️ Жазылудан бас тарту", wait=0)
        await dana.wait_for(lambda m: m.text.startswith("Жазылудан бас тартасыз ба?"))
        await dana.press("⬅️ Жоқ, қалсын", wait=0)
        await dana.wait_for(lambda m: m.message_id == waiting_card.message_id and "✅ Жазылдыңыз" in m.text)
        async with app.bot_data.db.read() as conn:
            assert [b.state for b in await classes.my_bookings(conn, dana.id, lesson.id)] == ["booked"]


async def test_forged_and_out_of_range_class_buttons_get_the_stale_answer(
    client: Any, bot_factory: BotFactory, clock: Clock
) -> None:
    aigul = await client.user("Айгүл", language_code="kk")
    marat = await client.user("Марат", id=TRAINER_ID, language_code="ru")
    huge = "12345678901234567890"  # past SQLite's integers
    forged = [
        f"cl:show:{huge}",
        "cl:open:1",
        f"cb:{huge}:me:",
        "cb:1:me:90plus",
        f"cx:{huge}:booked:0",
        "cx:1:lost:0",
        f"co:{huge}:1",
        f"cq:{huge}:time",
        "cq:1:price",
        f"cc:{huge}:::",
        "cc:1:2026-02-31:1000:",
        "cc:1:::500",
        f"ct:roster:{huge}::0",
        "ct:delete:1::0",
        f"cw:{huge}:",
        "cn:launch",
        "cv:55ab",
        "ck:2026-13-01:",
        "ck:2026-12-01:2500",
        "cm:45",
        "cp:cooking",
        "cg:en",
        "cs:500",
    ]
    async with bot_factory(seed=True) as app:
        async with app.bot_data.db.transaction() as tx:
            await users.grant_role(
                tx, user_id=TRAINER_ID, role="trainer", scope="", actor_id=None, now=clock.now()
            )
        await greet(aigul, "Қазақша")
        await greet(marat, "Русский")
        for person, stale in (
            (aigul, "Бұл түйме ескірген. /menu мәзірін қайта ашыңыз."),
            (marat, "Эта кнопка устарела. Откройте /menu заново."),
        ):
            menu = await person.last_message()
            assert menu is not None
            answers = {data: await person.press_data(menu.message_id, data) for data in forged}
            assert answers == dict.fromkeys(forged, stale)
        async with app.bot_data.db.read() as conn:
            count = await conn.execute_fetchall(
                "SELECT (SELECT count(*) FROM classes) + (SELECT count(*) FROM bookings)"
            )
        assert next(iter(count))[0] == 0


async def test_booking_from_the_menu_is_one_answer_per_tap(
    client: Any, bot_factory: BotFactory, clock: Clock
) -> None:
    """Menu → classes → a class → book for me → age: at most 1.3 Bot API calls per update, every tap
    answered (by an edit of the pressed message or a word on the button)."""
    aigul = await client.user("Айгүл", language_code="kk")
    olga = await client.user("Ольга", language_code="ru")
    async with bot_factory(seed=True) as app:
        await schedule(app, clock, SHAKAT)
        for person, language, words in (
            (aigul, "Қазақша", ("🎓 Сабақтар", "🙋 Өзімді жазу", "60 жастан бастап", "Жазылдыңыз.")),
            (olga, "Русский", ("🎓 Занятия", "🙋 Записаться", "60 лет и старше", "Вы записаны.")),
        ):
            menu_item, book, age, booked = words
            await greet(person, language)
            async with app.bot_data.db.transaction() as tx:
                await places.set_my_village(tx, person.id, SHAKAT)
            before = (await client.stats())["chats"].get(str(person.id), {"api_calls": 0, "updates": 0})
            messages_before = len(await person.messages())
            await person.send("/menu")
            menu = await person.wait_for(lambda m, item=menu_item: item in m.labels)
            await person.press_on(menu, menu_item, wait=0)
            listing = await person.wait_for(lambda m: bool(m.labels) and m.labels[0].startswith("1. "))
            await person.press_on(listing, listing.labels[0], wait=0)
            card = await person.wait_for(lambda m, b=book: b in m.labels)
            await person.press_on(card, book, wait=0)
            ages = await person.wait_for(lambda m, a=age: a in m.labels)
            assert await person.press_on(ages, age) == booked
            await person.wait_for(lambda m: "✅" in m.text)
            after = (await client.stats(callback_window=1))["chats"][str(person.id)]
            calls = after["api_calls"] - before["api_calls"]
            updates = after["updates"] - before["updates"]
            assert updates == 5 and calls / updates <= 1.3, (calls, updates)
            assert after["unanswered_callbacks"] == 0
            assert len(await person.messages()) == messages_before + 1  # the menu; every tap edited it


async def test_with_no_class_near_a_resident_is_offered_the_step_that_brings_news_of_one(
    client: Any, bot_factory: BotFactory, clock: Clock
) -> None:
    nurzhan = await client.user("Нұржан", language_code="kk")  # has not chosen a village
    olga = await client.user("Ольга", language_code="ru")  # lives in Шақат, does not follow it yet
    async with bot_factory(seed=True) as app:
        await greet(nurzhan, "Қазақша")
        await greet(olga, "Русский")
        async with app.bot_data.db.transaction() as tx:
            await places.set_my_village(tx, olga.id, SHAKAT)

        await nurzhan.send("/classes")
        empty = await nurzhan.wait_for(lambda m: "сабақ жоспарланбаған" in m.text)
        assert (
            empty.text
            == "Әзірге сабақ жоспарланбаған. Ауылыңызды таңдаңыз: оның маңындағы сабақтарды көрсетемін."
        )
        assert empty.labels == ["🏡 Менің ауылым", "⬅️ Мәзір"]
        await nurzhan.press_on(empty, "🏡 Менің ауылым", wait=0)
        await nurzhan.wait_for(
            lambda m: m.message_id == empty.message_id and "📍 Жанымдағы ауылдар" in m.labels
        )

        await olga.send("/classes")
        empty = await olga.wait_for(lambda m: "занятий пока не запланировано" in m.text)
        assert empty.text == (
            "Рядом с селом Шакат занятий пока не запланировано. Подпишитесь на новости села: "
            "я сообщу, когда занятие запланируют."
        )
        assert empty.labels == ["🔔 Подписаться на новости", "⬅️ Меню"]
        await olga.press_on(empty, "🔔 Подписаться на новости", wait=0)
        await olga.wait_for(lambda m: m.message_id == empty.message_id and "🔕 Отписаться" in m.labels)
        async with app.bot_data.db.read() as conn:
            assert olga.id in await places.followers(conn, SHAKAT)

        # Following it, she is not asked to follow again: she is told news will come.
        await olga.send("/classes")
        told = await olga.wait_for(lambda m: "Вы подписаны на новости села" in m.text)
        assert told.text.startswith("Рядом с селом Шакат занятий пока не запланировано.")
        assert told.labels == ["⬅️ Меню"]
