"""Announcements: a district's administrator tells its followers about planned works; each hears it
in their language, other districts hear nothing, a blocked follower counts as blocked, and a
resident stops announcements for their village without unfollowing it."""

from __future__ import annotations

from bot.clock import Clock
from bot.sandbox.client import wait_until
from db import places
from db.database import Database
from tests.conftest import BotFactory
from tests.managers_world import BAYANAUL, MARTUK, SHAKAT, ZHANATILEK, grant, person, scalar

ADMIN, AIGUL, OLGA, DANA, MARAT, NUR, TRAINER = 730001, 730002, 730003, 730004, 730005, 730006, 730007
KAZAKH = "12 желтоқсан, 10:00–14:00: жоспарлы жұмыстар, интернет болмайды."
RUSSIAN = "12 декабря, с 10:00 до 14:00: плановые работы, интернета не будет."


async def follow(db: Database, user_id: int, village: str, clock: Clock) -> None:
    async with db.transaction() as tx:
        await places.follow(tx, user_id, village, clock.now())


async def delivered(db: Database, announcement_id: int) -> dict[str, int]:
    async with (
        db.read() as conn,
        conn.execute(
            "SELECT state, count(*) FROM outbox WHERE kind = 'announcement' AND dedup_key LIKE ? GROUP BY state",
            (f"announcement:{announcement_id}:%",),
        ) as cursor,
    ):
        return {state: count for state, count in await cursor.fetchall()}


async def test_an_announcement_to_a_district_reaches_its_followers(
    client, bot_factory: BotFactory, clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    now = clock.now()
    bakyt = await client.user("Бақыт", id=ADMIN, language_code="kk")
    aigul = await client.user("Айгүл", id=AIGUL, language_code="kk")
    olga = await client.user("Ольга", id=OLGA, language_code="ru")
    dana = await client.user("Дана", id=DANA, language_code="kk")
    marat = await client.user("Марат", id=MARAT, language_code="kk")
    nur = await client.user("Нұр", id=NUR, language_code="kk")
    async with bot_factory(seed=True) as app:
        db = app.bot_data.db
        await grant(db, ADMIN, "admin", "5536", now)
        for user_id, name, language, village in (
            (AIGUL, "Айгүл", "kk", BAYANAUL),
            (OLGA, "Ольга", "ru", ZHANATILEK),
            (DANA, "Дана", "kk", BAYANAUL),
            (MARAT, "Марат", "kk", SHAKAT),  # another district of the same region
            (NUR, "Нұр", "kk", MARTUK),  # another region
        ):
            await person(db, user_id, name, language, now)
            await follow(db, user_id, village, clock)
        await client.block(dana)

        await bakyt.send("/announce")
        ask = await bakyt.wait_for(lambda m: m.text.startswith("📢 Жаңа хабарландыру."))
        assert ask.labels == ["✖️ Бас тарту"]
        await bakyt.send(KAZAKH)
        await bakyt.wait_for(lambda m: m.text.startswith("Енді осыны орысша жазыңыз."))
        await bakyt.send(RUSSIAN)
        areas = await bakyt.wait_for(lambda m: m.text.startswith("📢 Қайда жіберу керек?"))
        assert areas.labels[0] == "📢 Барлығына: Баянауыл ауданы"
        await bakyt.press_on(areas, "📢 Барлығына: Баянауыл ауданы", wait=0)
        audience = await bakyt.wait_for(lambda m: m.text == "📢 Кімге жіберу керек?")
        assert audience.labels[:3] == ["✅ ауыл жазылушылары", "⬜ ашық өтініші барлар", "⬜ оқытушылар"]
        await bakyt.press_on(audience, "Әрі қарай ➡️", wait=0)
        preview = await bakyt.wait_for(lambda m: m.text.startswith("📢 Хабарландыруды тексеріңіз"))
        assert "🇰🇿 📢 Хабарландыру: Баянауыл ауданы\n\n" + KAZAKH in preview.text
        assert "🇷🇺 📢 Объявление: Баянаульский район\n\n" + RUSSIAN in preview.text
        assert "Оны 3 адам алады (ауыл жазылушылары: 3)" in preview.text
        await bakyt.press_on(preview, "📢 Жіберу (3 алушы)", wait=0)
        summary = await bakyt.wait_for(lambda m: m.text.startswith("📢 №"))
        assert summary.message_id == preview.message_id
        assert "Алушылар: 3" in summary.text
        announcement_id = await scalar(db, "SELECT max(id) FROM announcements")

        # Each follower of the district hears it in their own language; nobody else does.
        got = await aigul.wait_for(lambda m: m.text.startswith("📢 Хабарландыру"))
        assert got.text == "📢 Хабарландыру: Баянауыл ауданы\n\n" + KAZAKH
        assert got.labels == ["🔕 Хабарландырусыз: Баянауыл"]
        got = await olga.wait_for(lambda m: m.text.startswith("📢 Объявление"))
        assert got.text == "📢 Объявление: Баянаульский район\n\n" + RUSSIAN
        assert got.labels == ["🔕 Без объявлений: Жанатилек"]
        await wait_until(lambda: _settled(db, announcement_id), timeout=20)
        assert await delivered(db, announcement_id) == {"sent": 2, "dropped": 1}
        assert await marat.messages() == [] and await nur.messages() == []

        # The summary, refreshed: the blocked follower counts as blocked.
        await bakyt.press_on(summary, "🔄 Жаңарту", wait=0)
        summary = await bakyt.wait_for(lambda m: "Жеткізілді: 2" in m.text)
        assert "⛔ Ботты бұғаттағандар: 1" in summary.text
        assert "⏳ Жіберуді күтуде: 0" in summary.text and "❌ Жеткізілмеді: 0" in summary.text

        # Айгүл wants no more announcements for Баянауыл, and still follows it.
        announcement = next(m for m in await aigul.messages() if m.text.startswith("📢"))
        answer = await aigul.press_on(announcement, "🔕 Хабарландырусыз: Баянауыл")
        assert answer == (
            "Баянауыл бойынша хабарландырулар енді келмейді. Ауыл жаңалықтарына жазылуыңыз сақталады."
        )
        announcement = await aigul.wait_for(lambda m: m.labels == ["🔔 Қайта қосу: Баянауыл"])
        assert announcement.text.endswith(KAZAKH), "the announcement stays as it was"
        assert await scalar(db, "SELECT count(*) FROM subscriptions WHERE user_id = ?", AIGUL) == 1

        # The next announcement, one text for both languages, reaches Ольга but not Айгүл.
        await bakyt.send("/announce")
        await bakyt.wait_for(lambda m: m.text.startswith("📢 Жаңа хабарландыру."))
        await bakyt.send("Ертең 9:00-де жиналыс / Завтра в 9:00 собрание")
        await bakyt.press("↔️ Орысшасы да осы мәтін", wait=0)
        areas = await bakyt.wait_for(lambda m: m.text.startswith("📢 Қайда жіберу керек?"))
        await bakyt.press_on(areas, "📢 Барлығына: Баянауыл ауданы", wait=0)
        audience = await bakyt.wait_for(lambda m: m.text == "📢 Кімге жіберу керек?")
        await bakyt.press_on(audience, "Әрі қарай ➡️", wait=0)
        preview = await bakyt.wait_for(lambda m: m.text.startswith("📢 Хабарландыруды тексеріңіз"))
        assert "Оны 2 адам алады" in preview.text
        await bakyt.press_on(preview, "📢 Жіберу (2 алушы)", wait=0)
        await olga.wait_for(lambda m: "собрание" in m.text)
        second = await scalar(db, "SELECT max(id) FROM announcements")
        await wait_until(lambda: _settled(db, second), timeout=20)
        assert not [m for m in await aigul.messages() if "собрание" in m.text]

        # She turns them back on from the same message.
        await aigul.press_on(announcement, "🔔 Қайта қосу: Баянауыл")
        await aigul.wait_for(lambda m: m.labels == ["🔕 Хабарландырусыз: Баянауыл"])
        assert await scalar(db, "SELECT count(*) FROM announcement_optouts") == 0
        assert (await client.stats(callback_window=5))["unanswered_callbacks"] == 0


async def _settled(db: Database, announcement_id: int) -> bool:
    states = await delivered(db, announcement_id)
    return bool(states) and "pending" not in states


async def test_an_admin_cannot_announce_outside_their_area(
    client, bot_factory: BotFactory, clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    now = clock.now()
    irina = await client.user("Ирина", id=ADMIN, language_code="ru")
    async with bot_factory(seed=True) as app:
        db = app.bot_data.db
        await grant(db, ADMIN, "admin", "15", now)  # Aktobe region
        await irina.send("/announce")
        await irina.wait_for(lambda m: m.text.startswith("📢 Новое объявление."))
        await irina.send("Плановые работы")
        await irina.wait_for(lambda m: m.text.startswith("Теперь то же на русском."))
        await irina.press("↔️ Тот же текст на русском", wait=0)
        areas = await irina.wait_for(lambda m: m.text.startswith("📢 Куда отправить?"))
        assert areas.labels[0] == "📢 Всем: Актюбинская область"
        # A forged button for Pavlodar's Баянауыл district is refused and changes nothing.
        answer = await irina.press_data(areas.message_id, "ana:5536:1")
        assert answer == "Эта территория вне вашей зоны."
        # Typing a village's name searches her own area only.
        await irina.send("Баянаул")
        found = await irina.wait_for(lambda m: "🔎 Выбрать из списка" in m.labels)
        assert not [label for label in found.labels if label.startswith("Баянаул")]
        await irina.send("Qwzx")
        found = await irina.wait_for(
            lambda m: m.text.startswith("На вашей территории не найдено село «Qwzx»")
        )
        await irina.send("Мартук")
        found = await irina.wait_for(lambda m: m.text == "📢 Какое село?")
        assert found.labels[0].startswith("Мартук — ")
        await irina.press_on(found, found.labels[0], wait=0)
        audience = await irina.wait_for(lambda m: m.text == "📢 Кому отправить?")
        await irina.press_on(audience, "✅ подписчики сёл", wait=0)
        audience = await irina.wait_for(lambda m: "⬜ подписчики сёл" in m.labels)
        assert await irina.press_on(audience, "Далее ➡️") == "Выберите хотя бы одну группу."
        assert await scalar(db, "SELECT count(*) FROM announcements") == 0
        assert await scalar(db, "SELECT count(*) FROM outbox WHERE kind = 'announcement'") == 0
