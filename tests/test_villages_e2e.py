"""Residents find their village and follow it; field staff log installations and move stages; followers hear."""

from __future__ import annotations

import asyncio

import pytest

from bot.clock import Clock
from bot.sandbox.client import SandboxClient, TestUser
from db import places, users
from tests.conftest import BotFactory

STAFF_ID = 600001
SHAKAT = "556069100"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8 + (640).to_bytes(4, "big") + (480).to_bytes(4, "big") + b"\x00" * 16


async def greet(person: TestUser, language_label: str) -> None:
    await person.send("/start")
    await person.next_message()
    await person.press(language_label, wait=0)
    await person.wait_for(lambda m: bool(m.buttons) and "?" in m.text)


async def grant(app: object, user_id: int, scope: str, clock: Clock) -> None:
    async with app.bot_data.db.transaction() as tx:  # type: ignore[attr-defined]
        await users.grant_role(tx, user_id=user_id, role="staff", scope=scope, actor_id=None, now=clock.now())


async def bot_messages(person: TestUser) -> int:
    return len(await person.messages())


async def test_residents_follow_shakat_and_hear_which_building_is_online(
    client: SandboxClient, bot_factory: BotFactory, clock: Clock
) -> None:
    async with bot_factory(seed=True) as app:
        await grant(app, STAFF_ID, "55", clock)

        # Айгүл writes the Kazakh name with a typo: the list comes in one message.
        aigul = await client.user("Айгүл", language_code="kk")
        await greet(aigul, "Қазақша")
        await aigul.press("📶 Ауылымның интернеті", wait=0)
        prompt = await aigul.wait_for(lambda m: "Ауылыңыздың атын" in m.text)
        assert prompt.labels == ["🗺 Тізімнен таңдау", "📍 Жанымдағы ауылдар", "⬅️ Мәзір"]
        before = await bot_messages(aigul)
        await aigul.send("Шақт")
        choices = await aigul.wait_for(lambda m: m.text.startswith("Сіздікі қайсысы?"))
        assert await bot_messages(aigul) == before + 1
        assert "1. Шақат — Шақат ауылдық округі, Павлодар ауданы, Павлодар облысы" in choices.text
        assert choices.labels[0] == "Шақат — Павлодар ауданы"
        assert choices.labels[-2:] == ["🔎 Қайта іздеу", "⬅️ Мәзір"]
        await aigul.press(choices.labels[0], wait=0)
        card = await aigul.wait_for(lambda m: "Кезең" in m.text and m.message_id == choices.message_id)
        assert "Кезең: 🏗 Құрылыс жүріп жатыр" in card.text
        assert "Жоспар: 2026 ж. 4-тоқсан" in card.text
        assert "Оператор: Kazakhtelecom, ☎️ 160" in card.text
        assert "🏫 №1 орта мектеп: ⏳ әзірге жоқ" in card.text and "(мектеп)" not in card.text
        assert "🏠 Үйлер: әзірге жоқ; мерзімі — 2026 ж. 4-тоқсан." in card.text
        assert "Ауылға жазылыңыз — өзгеріс болса, хабарлаймын." in card.text
        await aigul.press("🏡 Бұл менің ауылым", wait=0)
        mine = await aigul.wait_for(lambda m: "🔔 Сіз ауылдың жаңалықтарына жазылдыңыз" in m.text)
        assert mine.message_id == card.message_id  # the card changed in place, and says so
        assert mine.text.startswith("🏡 Енді Шақат — сіздің ауылыңыз.\n")
        assert "🔕 Жазылуды тоқтату" in mine.labels and "🏡 Бұл менің ауылым" not in mine.labels

        # Ольга types it the Russian way, in Latin letters, and reads Russian building names.
        olga = await client.user("Ольга", language_code="ru")
        await greet(olga, "Русский")
        await olga.send("/village")
        await olga.wait_for(lambda m: "Напишите название вашего села" in m.text)
        await olga.send("shakat")
        choices = await olga.wait_for(lambda m: m.text.startswith("Какое из них ваше?"))
        await olga.press(choices.labels[0], wait=0)
        card = await olga.wait_for(lambda m: "Этап: 🏗 Идёт строительство" in m.text)
        assert "Павлодарский район, Павлодарская область" in card.text
        assert "🏫 Средняя школа №1: ⏳ пока нет" in card.text
        assert "🏛 Акимат сельского округа: ⏳ пока нет" in card.text
        assert "Подпишитесь на село — я сообщу, когда что-то изменится." in card.text
        await olga.press("🔔 Подписаться на новости", wait=0)
        followed = await olga.wait_for(lambda m: "🔔 Вы подписаны на новости села" in m.text)
        assert "Подпишитесь на село" not in followed.text and "🔕 Отписаться" in followed.labels

        # A resident cannot log an installation.
        await olga.send("/install")
        refusal = await olga.wait_for(lambda m: "только для роли" in m.text)
        assert refusal.text == "Извините, это доступно только для роли «инженер»."

        # Болат, field staff for Pavlodar region, logs the school's connection with a photo and a location.
        bolat = await client.user("Болат", id=STAFF_ID, language_code="kk")
        await greet(bolat, "Қазақша")
        await bolat.send("/install")
        await bolat.wait_for(lambda m: "Ауылдың атын жазыңыз" in m.text)
        await bolat.send("Шакат")
        await bolat.wait_for(lambda m: m.text.startswith("Қай ауыл?"))
        await bolat.press("Шақат — Павлодар ауданы", wait=0)
        await bolat.wait_for(lambda m: m.text == "Шақат: қай ғимарат?")
        await bolat.press("⏳ 🏫 №1 орта мектеп", wait=0)
        await bolat.wait_for(lambda m: m.text == "Қай технология?")
        await bolat.press("талшықты-оптикалық желі", wait=0)
        await bolat.wait_for(lambda m: "жылдамдықты" in m.text)
        await bolat.send("тез")
        assert (await bolat.wait_for(lambda m: "санмен" in m.text)).text == (
            "Жылдамдықты санмен жазыңыз, мысалы 85 немесе 92,5."
        )
        await bolat.send("85,5")
        await bolat.wait_for(lambda m: "суретін" in m.text)
        await bolat.send_photo(PNG)
        await bolat.wait_for(lambda m: "Орналасқан жерді" in m.text)
        await bolat.send_location(52.108, 76.686)
        summary = await bolat.wait_for(lambda m: "Тексеріп" in m.text)
        assert "Жылдамдық: 85,5 Мбит/с" in summary.text and "Сурет: бар" in summary.text
        assert "Орналасқан жері: бар" in summary.text
        await bolat.press("✅ Сақтау", wait=0)
        saved = await bolat.wait_for(lambda m: "қосылым сақталды" in m.text)
        assert saved.text.startswith("✅ №1 қосылым сақталды.")
        assert not [m for m in await bolat.messages() if "Жаныңыздағы ауылдар" in m.text]  # no village list

        # Both followers hear which building is online, and what homes should do, in their language.
        online = await aigul.wait_for(lambda m: "интернетке қосылды, 85,5" in m.text)
        assert online.text.splitlines() == [
            "✅ Шақат: 🏫 №1 орта мектеп интернетке қосылды, 85,5 Мбит/с.",
            "🏠 Үйлер: әзірге жоқ; мерзімі — 2026 ж. 4-тоқсан.",
        ]
        news = await olga.wait_for(lambda m: "интернет подключён" in m.text)
        assert news.text.splitlines() == [
            "✅ Шакат: 🏫 Средняя школа №1 — интернет подключён, 85,5 Мбит/с.",
            "🏠 Дома: пока нет; срок — 4-й квартал 2026 г.",
        ]
        await asyncio.sleep(0.5)
        for person in (aigul, olga):  # nobody is told the village is connected: homes cannot get it yet
            assert not [m for m in await person.messages() if "🎉" in m.text]

        async with app.bot_data.db.read() as conn:
            village = await places.get_village(conn, SHAKAT)
            mine_log = await places.installations_by(conn, STAFF_ID)
        assert village is not None and village.stage == "construction" and village.technology == "fibre"
        assert len(mine_log) == 1 and mine_log[0].speed_mbps == 85.5 and mine_log[0].photo_file_id
        assert (mine_log[0].latitude, mine_log[0].longitude) == (52.108, 76.686)

        # The card now says which building is online and that homes still wait.
        await olga.send("/village")
        card = await olga.wait_for(lambda m: "📶 Интернет есть: школа." in m.text)
        assert "🏫 Средняя школа №1: ✅ подключено, 85,5 Мбит/с" in card.text
        assert "🏠 Дома: пока нет; срок — 4-й квартал 2026 г." in card.text

        # /mylog lets the author correct the entry.
        await bolat.send("/mylog")
        log = await bolat.wait_for(lambda m: "Менің қосылымдарым" in m.text)
        assert "Шақат, 🏫 №1 орта мектеп — талшықты-оптикалық желі, 85,5 Мбит/с" in log.text
        await bolat.press("✏️ №1 түзету", wait=0)
        await bolat.wait_for(lambda m: "Түзетілген" in m.text)
        await bolat.send("92")
        assert (
            await bolat.wait_for(lambda m: m.text.startswith("Түзетілді"))
        ).text == "Түзетілді: №1 енді 92 Мбит/с."


@pytest.mark.parametrize("language", ["kk", "ru"])
async def test_a_location_and_a_photo_sent_during_install_land_in_the_installation(
    client: SandboxClient, bot_factory: BotFactory, clock: Clock, language: str
) -> None:
    async with bot_factory(seed=True) as app:
        await grant(app, STAFF_ID, "5560", clock)
        staff = await client.user("Сергей", id=STAFF_ID, language_code=language)
        await greet(staff, "Қазақша" if language == "kk" else "Русский")
        await staff.send("/install")
        await staff.wait_for(lambda m: "🛠" in m.text)
        await staff.send("Шакат")
        await staff.press((await staff.wait_for(lambda m: len(m.labels) > 2)).labels[0], wait=0)
        await staff.press((await staff.wait_for(lambda m: "🏛" in " ".join(m.labels))).labels[1], wait=0)
        await staff.press((await staff.wait_for(lambda m: len(m.labels) == 5)).labels[1], wait=0)  # satellite
        await staff.wait_for(lambda m: "(Мбит/с)" in m.text or "в Мбит/с" in m.text)
        await staff.send("40")
        await staff.wait_for(lambda m: "📷" in m.text or "фото" in m.text.lower() or "суретін" in m.text)
        # The location first, at the photo step: it is kept, and the photo is asked for again.
        await staff.send_location(52.1, 76.7)
        await staff.wait_for(lambda m: "суретін" in m.text or "фото" in m.text.lower())
        await staff.send_photo(PNG)
        summary = await staff.wait_for(lambda m: "✅" in " ".join(m.labels))
        assert ("Сурет: бар" if language == "kk" else "Фото: есть") in summary.text
        assert ("Орналасқан жері: бар" if language == "kk" else "Геопозиция: есть") in summary.text
        await staff.press(summary.labels[0], wait=0)
        await staff.wait_for(lambda m: m.text.startswith("✅") and "№1" in m.text)
        async with app.bot_data.db.read() as conn:
            saved = (await places.installations_by(conn, STAFF_ID))[0]
        assert saved.photo_file_id and (saved.latitude, saved.longitude) == (52.1, 76.7)
        villages_near = "Жаныңыздағы ауылдар" if language == "kk" else "Сёла рядом с вами"
        assert not [m for m in await staff.messages() if villages_near in m.text]

        # The engineer's log says the photo and the location are kept with the entry.
        await staff.send("/mylog")
        log = await staff.wait_for(lambda m: m.text.startswith(("Менің қосылымдарым", "Мои подключения")))
        kept = "📷 сурет · 📍 орналасқан жері" if language == "kk" else "📷 фото · 📍 геопозиция"
        assert log.text.splitlines()[1].endswith(f"Мбит/с · {kept}"), log.text


async def test_staff_say_homes_can_connect_and_followers_hear_whom_to_ask(
    client: SandboxClient, bot_factory: BotFactory, clock: Clock
) -> None:
    async with bot_factory(seed=True) as app:
        await grant(app, STAFF_ID, "5560", clock)
        olga = await client.user("Ольга", language_code="ru")
        await greet(olga, "Русский")
        await olga.send("/village")
        await olga.wait_for(lambda m: "Напишите название" in m.text)
        await olga.send("Шакат")
        await olga.press(
            (await olga.wait_for(lambda m: m.text.startswith("Какое из них ваше?"))).labels[0], wait=0
        )
        await olga.wait_for(lambda m: "Этап:" in m.text)
        await olga.press("🔔 Подписаться на новости", wait=0)
        await olga.wait_for(lambda m: "Вы подписаны" in m.text)

        bolat = await client.user("Болат", id=STAFF_ID, language_code="kk")
        await greet(bolat, "Қазақша")
        await bolat.send("/village")
        await bolat.wait_for(lambda m: "Ауылыңыздың атын" in m.text)
        await bolat.send("Шақат")
        await bolat.press(
            (await bolat.wait_for(lambda m: m.text.startswith("Сіздікі қайсысы?"))).labels[0], wait=0
        )
        await bolat.wait_for(lambda m: "Кезең:" in m.text)
        await bolat.press("🛠 Кезеңді өзгерту", wait=0)
        await bolat.wait_for(lambda m: "жаңа кезеңді таңдаңыз" in m.text)
        await bolat.press("✅ Қосылды", wait=0)
        reasons = await bolat.wait_for(lambda m: m.text == "Неге өзгереді?")
        assert "басқа себептер" not in " ".join(reasons.labels)
        await bolat.press("оператор енді үйлерді қосады", wait=0)
        card = await bolat.wait_for(lambda m: m.text.startswith("✅ Сақталды. 1 жазылушыға хабарланады."))
        assert "Кезең: ✅ Қосылды" in card.text
        assert "Себебі: оператор енді үйлерді қосады." in card.text

        news = await olga.wait_for(lambda m: m.text.startswith("🎉"))
        assert news.text.splitlines() == [
            "🎉 Шакат: теперь интернет можно провести в дома!",
            "Причина: оператор уже подключает дома.",
            "🏠 Дома: чтобы провести интернет домой, обратитесь к оператору Kazakhtelecom. ☎️ 160",
            "Подробнее: /village",
        ]
        async with app.bot_data.db.read() as conn:
            village = await places.get_village(conn, SHAKAT)
        assert village is not None and village.stage == "connected"


async def test_staff_move_a_village_and_its_followers_hear_why(
    client: SandboxClient, bot_factory: BotFactory, clock: Clock
) -> None:
    async with bot_factory(seed=True) as app:
        await grant(app, STAFF_ID, "5560", clock)
        olga = await client.user("Ольга", language_code="ru")
        await greet(olga, "Русский")
        await olga.send("/village")
        await olga.wait_for(lambda m: "Напишите название" in m.text)
        await olga.send("Шакат")
        await olga.press(
            (await olga.wait_for(lambda m: m.text.startswith("Какое из них ваше?"))).labels[0], wait=0
        )
        await olga.wait_for(lambda m: "Этап:" in m.text)
        await olga.press("🔔 Подписаться на новости", wait=0)

        bolat = await client.user("Болат", id=STAFF_ID, language_code="kk")
        await greet(bolat, "Қазақша")
        await bolat.send("/village")
        await bolat.wait_for(lambda m: "Ауылыңыздың атын" in m.text)
        await bolat.send("Шақат")
        await bolat.press(
            (await bolat.wait_for(lambda m: m.text.startswith("Сіздікі қайсысы?"))).labels[0], wait=0
        )
        await bolat.wait_for(lambda m: "Кезең:" in m.text)
        await bolat.press("🛠 Кезеңді өзгерту", wait=0)
        await bolat.wait_for(lambda m: "жаңа кезеңді таңдаңыз" in m.text)
        await bolat.press("🏗 Құрылыс жүріп жатыр", wait=0)
        await bolat.wait_for(lambda m: "Қашан" in m.text)
        await bolat.press(str(clock.now().year + 1), wait=0)
        await bolat.wait_for(lambda m: "тоқсаны" in m.text)
        await bolat.press("2-тоқсан", wait=0)
        await bolat.wait_for(lambda m: m.text == "Неге өзгереді?")
        await bolat.press("ауа райына байланысты кешікті", wait=0)
        card = await bolat.wait_for(lambda m: m.text.startswith("✅ Сақталды. 1 жазылушыға хабарланады."))
        year = clock.now().year + 1
        assert f"мерзімі: {year} ж. 2-тоқсан" in card.text

        news = await olga.wait_for(lambda m: "изменился плановый срок" in m.text)
        assert news.text.splitlines() == [
            "Шакат: изменился плановый срок.",
            f"План: 2-й квартал {year} г.",
            "Причина: перенесено из-за погоды.",
        ]
        async with app.bot_data.db.read() as conn:
            change = await places.last_change(conn, SHAKAT)
        assert change is not None and change.actor_id == STAFF_ID and change.reason == "delayed_weather"


AREA_WORDS = {
    "kk": {
        "language": "Қазақша",
        "stale": "Бұл түйме ескірген. /menu мәзірін қайта ашыңыз.",
        "outside": "Бұл ауыл сіздің аумағыңызға кірмейді.",
        "prompt": "Ауылыңыздың атын",
        "which": "Сіздікі қайсысы?",
        "stage": "Кезең:",
        "change": "🛠 Кезеңді өзгерту",
        "install": "Жаңа қосылым",
        "nothing": "Аумағыңызда «Шакат» деген ауыл табылмады.",
    },
    "ru": {
        "language": "Русский",
        "stale": "Эта кнопка устарела. Откройте /menu заново.",
        "outside": "Это село не входит в вашу территорию.",
        "prompt": "Напишите название",
        "which": "Какое из них ваше?",
        "stage": "Этап:",
        "change": "🛠 Изменить этап",
        "install": "Новое подключение",
        "nothing": "На вашей территории не найдено село «Шакат»",
    },
}


@pytest.mark.parametrize("language", ["kk", "ru"])
async def test_an_engineer_of_another_area_is_told_the_area_reason(
    client: SandboxClient, bot_factory: BotFactory, clock: Clock, language: str
) -> None:
    words = AREA_WORDS[language]
    async with bot_factory(seed=True) as app:
        await grant(app, STAFF_ID, "15", clock)  # Aktobe region
        sergey = await client.user("Сергей", id=STAFF_ID, language_code=language)
        await greet(sergey, words["language"])
        menu = await sergey.last_message()
        assert menu is not None
        answer = await sergey.press_data(menu.message_id, f"vs:{SHAKAT}:connected:-1:0:installed")
        assert answer == words["stale"]  # "installed" is not a reason staff give
        answer = await sergey.press_data(menu.message_id, f"vs:{SHAKAT}:connected:-1:0:homes_ready")
        assert answer == words["outside"]
        # The card of a village elsewhere has no stage button for him.
        await sergey.send("/village")
        await sergey.wait_for(lambda m: words["prompt"] in m.text)
        await sergey.send("Шакат")
        await sergey.press(
            (await sergey.wait_for(lambda m: m.text.startswith(words["which"]))).labels[0], wait=0
        )
        card = await sergey.wait_for(lambda m: words["stage"] in m.text)
        assert words["change"] not in card.labels
        # /install offers only villages of his area; a forged choice is refused with the area reason.
        await sergey.send("/install")
        await sergey.wait_for(lambda m: words["install"] in m.text)
        await sergey.send("Шакат")
        nothing = await sergey.wait_for(lambda m: words["nothing"] in m.text)
        assert await sergey.press_data(nothing.message_id, f"iv:{SHAKAT}") == words["outside"]
        async with app.bot_data.db.read() as conn:
            village = await places.get_village(conn, SHAKAT)
        assert village is not None and village.stage == "construction"


async def test_a_role_revoked_during_install_stops_the_next_step_with_the_reason(
    client: SandboxClient, bot_factory: BotFactory, clock: Clock
) -> None:
    async with bot_factory(seed=True) as app:
        await grant(app, STAFF_ID, "55", clock)
        bolat = await client.user("Болат", id=STAFF_ID, language_code="ru")
        await greet(bolat, "Русский")
        await bolat.send("/install")
        await bolat.wait_for(lambda m: "Новое подключение" in m.text)
        await bolat.send("Шакат")
        await bolat.press(
            (await bolat.wait_for(lambda m: m.text.startswith("Какое село?"))).labels[0], wait=0
        )
        await bolat.wait_for(lambda m: "какое здание?" in m.text)
        async with app.bot_data.db.transaction() as tx:
            for held in await users.roles_of(tx, STAFF_ID):
                await users.revoke_grant(
                    tx, user_id=STAFF_ID, role="staff", scope=held.scope, actor_id=None, now=clock.now()
                )
        answer = await bolat.press("⏳ 🏫 Средняя школа №1")
        assert answer == "У вас больше нет роли «инженер», поэтому действие остановлено."
        async with app.bot_data.db.read() as conn:
            assert await places.installations_by(conn, STAFF_ID) == []
