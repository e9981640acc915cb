"""A Russian-speaking trainer types the date, moves the class, adds seats and cancels; residents hear
each change; forged buttons from a resident or another trainer change nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from bot.classes.callbacks import ChangeCb, NewClassCb, TrainerCb, VillageCb, WalkInCb
from bot.clock import Clock
from db import classes, places, users
from tests.conftest import BotFactory
from tests.test_classes_e2e import SHAKAT, greet, open_class

ALMATY = ZoneInfo("Asia/Almaty")
MARAT, ASEL = 630001, 630002  # trainers: Pavlodar district; Aktobe region
ONLY_TRAINERS = "Извините, это доступно только для роли «тренер»."


async def test_a_trainer_changes_and_cancels_a_class_and_forgeries_change_nothing(
    client: Any, sandbox: Any, bot_factory: BotFactory, clock: Clock
) -> None:
    marat = await client.user("Марат", id=MARAT, language_code="ru")
    asel = await client.user("Асель", id=ASEL, language_code="ru")
    olga = await client.user("Ольга", language_code="ru")
    sergei = await client.user("Сергей", language_code="ru")
    async with bot_factory(seed=True) as app:
        async with app.bot_data.db.transaction() as tx:
            await users.grant_role(
                tx, user_id=MARAT, role="trainer", scope="5560", actor_id=None, now=clock.now()
            )
            await users.grant_role(
                tx, user_id=ASEL, role="trainer", scope="15", actor_id=None, now=clock.now()
            )
        for person in (marat, asel, olga, sergei):
            await greet(person, "Русский")
        for person in (olga, sergei):
            async with app.bot_data.db.transaction() as tx:
                await places.set_my_village(tx, person.id, SHAKAT)

        # Марат schedules by typing the date; nonsense and yesterday get a clear answer.
        await marat.send("/newclass")
        await marat.wait_for(lambda m: m.text.startswith("➕ Новое занятие"))
        await marat.send("Шакат")
        await marat.press((await marat.wait_for(lambda m: m.text == "Какое село?")).labels[0], wait=0)
        await marat.wait_for(lambda m: m.text.startswith("Где именно?"))
        await marat.send("Дом культуры")
        await marat.wait_for(lambda m: m.text.startswith("Какой день?"))
        await marat.send("31.02 10:00")
        await marat.wait_for(lambda m: m.text == "Напишите дату и время так: 25.12 14:00.")
        today = clock.now().astimezone(ALMATY)
        await marat.send((today - timedelta(days=1)).strftime("%d.%m") + " 10:00")
        await marat.wait_for(lambda m: m.text == "Это время уже прошло. Выберите время в будущем.")
        await marat.send((today + timedelta(days=3)).strftime("%d.%m") + " 15:00")
        await marat.wait_for(lambda m: m.text == "Сколько длится?")
        await marat.press("60 мин", wait=0)
        await marat.wait_for(lambda m: m.text == "Тема?")
        await marat.press("Онлайн-платежи", wait=0)
        await marat.wait_for(lambda m: m.text == "На каком языке?")
        await marat.press("Русский", wait=0)
        await marat.wait_for(lambda m: m.text.startswith("Сколько мест?"))
        await marat.send("1")
        summary = await marat.wait_for(lambda m: "Где: Дом культуры, Шакат" in m.text)
        assert "15:00, 60 мин" in summary.text and "1 место" in summary.text
        await marat.press("✅ Сохранить", wait=0)
        await marat.wait_for(lambda m: m.text.startswith("✅ Занятие №1 запланировано."))

        # Ольга takes the only seat; Сергей waits.
        await open_class(olga, "Бесплатные занятия")
        await olga.wait_for(lambda m: "1 свободное место" in m.text)
        await olga.press("🙋 Записаться", wait=0)
        await olga.wait_for(lambda m: m.text == "Сколько вам лет?")
        assert await olga.press("30–59 лет") == "Вы записаны."
        await open_class(sergei, "Бесплатные занятия")
        await sergei.wait_for(lambda m: "Мест нет" in m.text)
        await sergei.press("🙋 В список ожидания", wait=0)
        await sergei.wait_for(lambda m: m.text == "Сколько вам лет?")
        assert await sergei.press("60 лет и старше") == "Вы в списке ожидания."

        # The calendar file.
        card = await olga.wait_for(lambda m: "📅 Добавить в календарь" in m.labels)
        await olga.press_on(card, "📅 Добавить в календарь", wait=0)
        sent = await olga.wait_for(lambda m: m.document is not None)
        assert sent.document is not None and sent.document["file_name"] == "auylnet-class-1.ics"
        async with httpx.AsyncClient(base_url=sandbox.url) as http:
            ics = (await http.get(sent.raw["file_url"])).text
        assert "SUMMARY:Занятие AuylNet: Онлайн-платежи" in ics.replace("\r\n ", "")
        assert "BEGIN:VALARM" in ics and "TRIGGER:-PT2H" in ics  # a reminder two hours before
        assert "DESCRIPTION:Бесплатное занятие по цифровой грамотности" in ics.replace("\r\n ", "")
        assert (
            "DTSTART:" + (today + timedelta(days=3)).strftime("%Y%m%d") + "T100000Z" in ics
        )  # 15:00 in Almaty

        # Forged buttons: a resident is refused everything a trainer can do; nothing changes.
        last = await olga.last_message()
        assert last is not None
        start = (today + timedelta(days=5)).date().isoformat()
        for forged in (
            TrainerCb(action="close", lesson=1, confirmed=True),
            TrainerCb(action="cancel", lesson=1, confirmed=True),
            TrainerCb(action="mark", lesson=1, booking=1),
            ChangeCb(lesson=1, seats=50),
            ChangeCb(lesson=1, day=start, time="1000"),
            WalkInCb(lesson=1, age="60plus"),
            NewClassCb(step="start"),
        ):
            assert await olga.press_data(last.message_id, forged.pack()) == ONLY_TRAINERS, forged
        # Another trainer may not touch Марат's class, nor schedule outside her area.
        await asel.send("/myclasses")
        mine = await asel.wait_for(lambda m: "нет запланированных" in m.text)
        answers = [
            await asel.press_data(mine.message_id, forged.pack())
            for forged in (TrainerCb(action="cancel", lesson=1, confirmed=True), ChangeCb(lesson=1, seats=50))
        ]
        assert answers == ["Это занятие другого тренера."] * 2
        await asel.send("/newclass")
        ask = await asel.wait_for(lambda m: m.text.startswith("➕ Новое занятие"))
        assert (
            await asel.press_data(ask.message_id, VillageCb(village=SHAKAT).pack())
            == "Это село не входит в вашу территорию."
        )
        async with app.bot_data.db.read() as conn:
            lesson = await classes.get_lesson(conn, 1)
            roster = await classes.bookings_of(conn, 1, ("booked", "waiting"))
            count = list(await conn.execute_fetchall("SELECT count(*) FROM classes"))
        assert lesson is not None and (lesson.state, lesson.capacity, lesson.taken, lesson.waiting) == (
            "scheduled",
            1,
            1,
            1,
        )
        assert [b.attendance for b in roster] == [None, None] and count[0][0] == 1

        # Марат moves the class with buttons: both residents are told.
        await marat.send("/myclasses")
        listing = await marat.wait_for(lambda m: m.text.startswith("📋 Мои занятия"))
        await marat.press_on(listing, listing.labels[0], wait=0)
        await marat.wait_for(lambda m: "Записан 1 человек" in m.text)
        await marat.press("🕐 Новое время", wait=0)
        days = await marat.wait_for(lambda m: m.text.startswith("Какой день? Или напишите новую"))
        await marat.press_on(days, days.labels[3])  # four days ahead
        await marat.wait_for(lambda m: m.text == "Во сколько?")
        await marat.press("18:00", wait=0)
        await marat.wait_for(lambda m: m.text.startswith("Сохранено; сообщим 2 людям."))
        new_day = (today + timedelta(days=4)).day
        for person in (olga, sergei):
            moved = await person.wait_for(lambda m: m.text.startswith("📢 Занятие перенесено"))
            assert f"{new_day} " in moved.text and ", 18:00, Дом культуры (Шакат)" in moved.text

        # A second seat goes to Сергей, who confirms it.
        await marat.press("🪑 Число мест", wait=0)
        await marat.wait_for(lambda m: m.text.startswith("Сколько мест?"))
        await marat.send("0")
        await marat.wait_for(lambda m: m.text == "Мест должно быть от 1 до 200.")
        await marat.send("2")
        await marat.wait_for(lambda m: m.text.startswith("✅ Сохранено."))
        offer = await sergei.wait_for(lambda m: m.text.startswith("🎟 Освободилось место"))
        await sergei.press_on(offer, "✅ Да, приду", wait=0)
        await sergei.wait_for(lambda m: m.text.startswith("✅ Место ваше. До встречи на занятии!"))

        # A new venue, then the class is cancelled: everyone hears.
        await marat.press("📍 Новое место", wait=0)
        await marat.wait_for(lambda m: m.text == "Напишите новое место:")
        await marat.send("Школа №2")
        await marat.wait_for(lambda m: m.text.startswith("Сохранено; сообщим 2 людям."))
        await olga.wait_for(
            lambda m: m.text.startswith("📢 Занятие перенесено") and "Школа №2 (Шакат)" in m.text
        )
        await marat.press("✖️ Отменить занятие", wait=0)
        await marat.wait_for(lambda m: m.text.startswith("Отменить занятие?"))
        await marat.press("✖️ Да, отменить", wait=0)
        await marat.wait_for(lambda m: m.text == "Занятие отменено; сообщим 2 людям.")
        for person in (olga, sergei):
            await person.wait_for(lambda m: m.text.startswith("❌ Занятие отменено: «Онлайн-платежи»"))
