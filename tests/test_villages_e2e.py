"""Residents find their village and follow it; field staff log an installation; followers hear of it."""

from __future__ import annotations

import pytest

from bot.clock import Clock
from db import places, users
from tests.conftest import BotFactory

STAFF_ID = 600001
SHAKAT = "556069100"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8 + (640).to_bytes(4, "big") + (480).to_bytes(4, "big") + b"\x00" * 16


async def greet(person, language_label: str) -> None:  # type: ignore[no-untyped-def]
    await person.send("/start")
    await person.next_message()
    await person.press(language_label)
    await person.wait_for(lambda m: bool(m.buttons) and "?" in m.text)


async def test_residents_follow_shakat_and_hear_of_its_school_going_online(
    client, bot_factory: BotFactory
) -> None:  # type: ignore[no-untyped-def]
    async with bot_factory(seed=True) as app:
        async with app.bot_data.db.transaction() as tx:
            await users.grant_role(
                tx, user_id=STAFF_ID, role="staff", scope="55", actor_id=None, now=app.bot_data.clock.now()
            )

        # Айгүл writes the Kazakh name with a typo and follows her village, in Kazakh.
        aigul = await client.user("Айгүл", language_code="kk")
        await greet(aigul, "Қазақша")
        await aigul.press("📶 Ауылымның интернеті")
        prompt = await aigul.wait_for(lambda m: "Ауылыңыздың атын" in m.text)
        assert "🗺 Тізімнен таңдау" in prompt.labels
        await aigul.send("Шақт")
        choices = await aigul.wait_for(lambda m: m.text == "Сіздікі қайсысы?")
        assert choices.labels[0] == "Шақат — Павлодар ауданы, Павлодар облысы"
        await aigul.press(choices.labels[0])
        card = await aigul.wait_for(lambda m: "Шақат" in m.text and "Кезең" in m.text)
        assert "Кезең: 🏗 Құрылыс жүріп жатыр" in card.text
        assert "Жоспар: 2026 ж. 4-тоқсан" in card.text
        assert "⏳ №1 орта мектеп (мектеп): әзірге жоқ" in card.text
        assert await aigul.press("🏡 Бұл менің ауылым") == (
            "Сіздің ауылыңыз ретінде сақталды. Өзгерістер туралы хабарлаймын."
        )

        # Ольга types it the Russian way, in Latin letters, and follows it in Russian.
        olga = await client.user("Ольга", language_code="ru")
        await greet(olga, "Русский")
        await olga.send("/village")
        await olga.wait_for(lambda m: "Напишите название вашего села" in m.text)
        await olga.send("shakat")
        choices = await olga.wait_for(lambda m: m.text == "Какое из них ваше?")
        await olga.press(choices.labels[0])
        card = await olga.wait_for(lambda m: "Этап: 🏗 Идёт строительство" in m.text)
        assert "Павлодарский район, Павлодарская область" in card.text
        assert await olga.press("🔔 Подписаться на новости") == "Вы подписаны на Шакат."

        # A resident cannot log an installation.
        await olga.send("/install")
        refusal = await olga.wait_for(lambda m: "только для роли" in m.text)
        assert refusal.text == "Извините, это доступно только для роли «инженер»."

        # Болат, field staff for Pavlodar region, logs the school's connection with a photo.
        bolat = await client.user("Болат", id=STAFF_ID, language_code="kk")
        await greet(bolat, "Қазақша")
        await bolat.send("/install")
        await bolat.wait_for(lambda m: "Ауылдың атын жазыңыз" in m.text)
        await bolat.send("Шакат")
        await bolat.wait_for(lambda m: m.text == "Қай ауыл?")
        await bolat.press("Шақат — Павлодар ауданы, Павлодар облысы")
        await bolat.wait_for(lambda m: m.text == "Шақат: қай ғимарат?")
        await bolat.press("⏳ №1 орта мектеп (мектеп)")
        await bolat.wait_for(lambda m: m.text == "Қай технология?")
        await bolat.press("талшықты-оптикалық желі")
        await bolat.wait_for(lambda m: "жылдамдықты" in m.text)
        await bolat.send("тез")
        assert (await bolat.wait_for(lambda m: "санмен" in m.text)).text == (
            "Жылдамдықты санмен жазыңыз, мысалы 85 немесе 92,5."
        )
        await bolat.send("85,5")
        await bolat.wait_for(lambda m: "суретін" in m.text)
        await bolat.send_photo(PNG)
        await bolat.wait_for(lambda m: "Орналасқан жерді" in m.text)
        await bolat.press("Өткізу ➡️")
        summary = await bolat.wait_for(lambda m: "Тексеріп" in m.text)
        assert "Жылдамдық: 85,5 Мбит/с" in summary.text and "Сурет: иә" in summary.text
        await bolat.press("✅ Сақтау")
        saved = await bolat.wait_for(lambda m: "қосылым сақталды" in m.text)
        assert saved.text.startswith("✅ №1 қосылым сақталды.")

        # Both followers hear the news in their own language.
        online = await aigul.wait_for(lambda m: "интернетке қосылды, 85,5" in m.text)
        assert online.text == "✅ Шақат: №1 орта мектеп (мектеп) интернетке қосылды, 85,5 Мбит/с."
        connected = await aigul.wait_for(lambda m: m.text.startswith("🎉"))
        assert connected.text.splitlines()[:2] == [
            "🎉 Шақат интернетке қосылды!",
            "Себебі: жабдық орнатылды.",
        ]
        await olga.wait_for(
            lambda m: m.text == "✅ Шакат: №1 орта мектеп (школа) подключено к интернету, 85,5 Мбит/с."
        )
        await olga.wait_for(lambda m: m.text.startswith("🎉 Шакат подключено к интернету!"))

        async with app.bot_data.db.read() as conn:
            village = await places.get_village(conn, SHAKAT)
            mine = await places.installations_by(conn, STAFF_ID)
        assert village is not None and village.stage == "connected" and village.technology == "fibre"
        assert len(mine) == 1 and mine[0].speed_mbps == 85.5 and mine[0].photo_file_id

        # The card now says so, and /mylog lets the author correct the entry.
        await olga.send("/village")
        card = await olga.wait_for(lambda m: "Этап: ✅ Подключено" in m.text)
        assert "✅ №1 орта мектеп (школа): подключено, 85,5 Мбит/с" in card.text
        await bolat.send("/mylog")
        log = await bolat.wait_for(lambda m: "Менің қосылымдарым" in m.text)
        await bolat.press("✏️ №1 түзету")
        await bolat.wait_for(lambda m: "Түзетілген" in m.text)
        await bolat.send("92")
        assert (
            await bolat.wait_for(lambda m: m.text.startswith("Түзетілді"))
        ).text == "Түзетілді: №1 енді 92 Мбит/с."
        assert log.text


@pytest.mark.parametrize("query", ["Баянауыл", "Bayanaul", "Баянаул"])
async def test_browse_and_search_reach_the_same_card(client, bot_factory: BotFactory, query: str) -> None:  # type: ignore[no-untyped-def]
    async with bot_factory(seed=True):
        erlan = await client.user("Ерлан", language_code="ru")
        await greet(erlan, "Русский")
        await erlan.send("/village")
        await erlan.wait_for(lambda m: "Напишите название" in m.text)
        await erlan.send(query)
        choices = await erlan.wait_for(lambda m: m.text == "Какое из них ваше?")
        assert choices.labels[0] == "Баянаул — Баянаульский район, Павлодарская область"


async def test_staff_outside_their_area_cannot_change_a_stage(
    client, bot_factory: BotFactory, clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    async with bot_factory(seed=True) as app:
        async with app.bot_data.db.transaction() as tx:
            await users.grant_role(
                tx, user_id=STAFF_ID, role="staff", scope="15", actor_id=None, now=clock.now()
            )
        sergey = await client.user("Сергей", id=STAFF_ID, language_code="ru")
        await greet(sergey, "Русский")
        menu = await sergey.last_message()
        assert menu is not None
        answer = await sergey.press_data(menu.message_id, f"vs:{SHAKAT}:connected:-1:0:installed")
        assert answer == "Эта кнопка устарела. Откройте /menu заново."  # "installed" is not a staff reason
        answer = await sergey.press_data(menu.message_id, f"vs:{SHAKAT}:connected:-1:0:other")
        assert answer == "Это село не входит в вашу территорию."
        async with app.bot_data.db.read() as conn:
            village = await places.get_village(conn, SHAKAT)
        assert village is not None and village.stage == "construction"


async def test_staff_move_a_village_and_its_followers_hear_why(
    client, bot_factory: BotFactory, clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    async with bot_factory(seed=True) as app:
        async with app.bot_data.db.transaction() as tx:
            await users.grant_role(
                tx, user_id=STAFF_ID, role="staff", scope="5560", actor_id=None, now=clock.now()
            )
        olga = await client.user("Ольга", language_code="ru")
        await greet(olga, "Русский")
        await olga.send("/village")
        await olga.wait_for(lambda m: "Напишите название" in m.text)
        await olga.send("Шакат")
        await olga.press((await olga.wait_for(lambda m: m.text == "Какое из них ваше?")).labels[0])
        await olga.wait_for(lambda m: "Этап:" in m.text)
        await olga.press("🔔 Подписаться на новости")

        bolat = await client.user("Болат", id=STAFF_ID, language_code="kk")
        await greet(bolat, "Қазақша")
        await bolat.send("/village")
        await bolat.wait_for(lambda m: "Ауылыңыздың атын" in m.text)
        await bolat.send("Шақат")
        await bolat.press((await bolat.wait_for(lambda m: m.text == "Сіздікі қайсысы?")).labels[0])
        await bolat.wait_for(lambda m: "Кезең:" in m.text)
        await bolat.press("🛠 Кезеңді өзгерту")
        await bolat.wait_for(lambda m: "жаңа кезеңді таңдаңыз" in m.text)
        await bolat.press("🏗 Құрылыс жүріп жатыр")
        await bolat.wait_for(lambda m: "Қашан" in m.text)
        await bolat.press(str(clock.now().year + 1))
        await bolat.wait_for(lambda m: "тоқсаны" in m.text)
        await bolat.press("2-тоқсан")
        await bolat.wait_for(lambda m: m.text == "Неге өзгереді?")
        await bolat.press("ауа райына байланысты кейінге қалды")
        await bolat.wait_for(lambda m: m.text == "Сақталды. 1 жазылушыға хабарланады.")

        news = await olga.wait_for(lambda m: "изменился плановый срок" in m.text)
        year = clock.now().year + 1
        assert news.text.splitlines() == [
            "Шакат: изменился плановый срок.",
            f"План: 2-й квартал {year} г.",
            "Причина: перенесено из-за погоды.",
        ]
        async with app.bot_data.db.read() as conn:
            change = await places.last_change(conn, SHAKAT)
        assert change is not None and change.actor_id == STAFF_ID and change.reason == "delayed_weather"


async def test_a_shared_location_lists_the_nearest_villages(client, bot_factory: BotFactory) -> None:  # type: ignore[no-untyped-def]
    async with bot_factory(seed=True):
        olga = await client.user("Ольга", language_code="ru")
        await greet(olga, "Русский")
        await olga.send("/village")
        asked = await olga.wait_for(lambda m: "📍 Или отправьте" in m.text)
        assert asked.keyboard == [["📍 Отправить моё местоположение"]]
        await olga.send_location(52.11, 76.69)
        nearest = await olga.wait_for(lambda m: m.text == "Какое из них ваше?")
        assert nearest.labels[0] == "Шакат — 0 км"
        await olga.press("Шакат — 0 км")
        await olga.wait_for(lambda m: "Этап:" in m.text and "Шакат" in m.text)
