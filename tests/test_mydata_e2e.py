"""/mydata: a resident takes home everything AuylNet keeps about them, and nothing of anyone else."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from bot.clock import Clock
from bot.i18n import translator
from db import places
from tests.conftest import BotFactory
from tests.managers_world import BAYANAUL, SHAKAT, incident, lesson, person, report

AIGUL, OLGA, TRAINER = 740001, 740002, 740003
AIGUL_SAYS = "Роутер жанып тұр, интернет жоқ"
OLGA_SAYS = "Нет сети у всей улицы"


async def my_file(client: Any, person_: Any, language_word: str) -> tuple[Any, dict[str, Any], str]:
    await person_.send("/mydata")
    sent = await person_.wait_for(lambda m: m.document is not None)
    async with client.session.get(client.base_url + sent.raw["file_url"]) as response:
        raw = (await response.read()).decode("utf-8")
    assert language_word in sent.text
    return sent, json.loads(raw), raw


async def test_my_data_is_mine_only(client, bot_factory: BotFactory, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    now = clock.now()
    aigul = await client.user("Айгүл", id=AIGUL, last_name="Серікова", language_code="kk")
    olga = await client.user("Ольга", id=OLGA, last_name="Петрова", language_code="ru")
    async with bot_factory(seed=True) as app:
        db = app.bot_data.db
        await aigul.send("/start")
        await aigul.next_message()
        await aigul.press("Қазақша", wait=0)  # the consent the language choice records
        await aigul.wait_for(lambda m: bool(m.buttons) and "?" in m.text)
        await person(db, OLGA, "Ольга", "ru", now)
        await person(db, TRAINER, "Гүлнар", "kk", now)
        async with db.transaction() as tx:
            await places.follow(tx, AIGUL, BAYANAUL, now)
            await places.follow(tx, OLGA, SHAKAT, now)
            shared = await incident(tx, BAYANAUL, opened=now - timedelta(hours=2))
            await report(tx, shared, AIGUL, BAYANAUL, at=now - timedelta(hours=2), description=AIGUL_SAYS)
            await report(tx, shared, OLGA, BAYANAUL, at=now - timedelta(hours=1), description=OLGA_SAYS)
            await lesson(
                tx,
                TRAINER,
                BAYANAUL,
                starts=now + timedelta(days=2),
                state="scheduled",
                register=[
                    (AIGUL, None, "30to59", None),
                    (AIGUL, "Апам Күлән", "60plus", None),
                    (OLGA, "Мама Нина", "60plus", None),
                ],
            )

        sent, data, raw = await my_file(client, aigul, "AuylNet сіз туралы сақтайтын барлық дерек")
        assert sent.document["file_name"] == "auylnet-my-data.json"
        assert data["profile"]["id"] == AIGUL and data["profile"]["first_name"] == "Айгүл"
        assert data["profile"]["language"] == "kk"
        assert [row["village"]["name"] for row in data["following"]] == ["Баянауыл"]
        [mine] = data["outage_reports"]
        assert [note.get("text") for note in mine["added"] if "text" in note] == [AIGUL_SAYS]
        assert [note["photo_file_id"] for note in mine["added"] if "photo_file_id" in note] == [
            f"photo-of-{AIGUL}"
        ]
        assert sorted(row["booked_for"] for row in data["class_bookings"]) == sorted(
            ["Апам Күлән", "yourself"]
        )
        assert [row["action"] for row in data["privacy_consents"]] == ["privacy.consent"]
        assert data["roles"] == []
        for someone_else in (OLGA_SAYS, "Ольга", "Петрова", "Мама Нина", str(OLGA), "Гүлнар", str(TRAINER)):
            assert someone_else not in raw, someone_else

        # Ольга, in Russian: her own text and relative, none of Айгүл's.
        _, data, raw = await my_file(client, olga, "Всё, что AuylNet хранит о вас")
        assert [
            note["text"] for row in data["outage_reports"] for note in row["added"] if "text" in note
        ] == [OLGA_SAYS]
        assert [row["booked_for"] for row in data["class_bookings"]] == ["Мама Нина"]
        assert [row["village"]["name"] for row in data["following"]] == ["Шакат"]
        for someone_else in (AIGUL_SAYS, "Айгүл", "Серікова", "Апам Күлән", str(AIGUL)):
            assert someone_else not in raw, someone_else


async def test_a_russian_date_at_the_end_of_a_sentence_gets_one_full_stop(
    client: Any, bot_factory: BotFactory, clock: Clock
) -> None:
    """Russian long dates end in «г.»: the file's caption and the note after deleting never read «г..»."""
    ivan = await client.user("Иван", language_code="ru")
    day = translator("ru").date(clock.now())
    assert day.endswith("г.")
    async with bot_factory(seed=True) as _app:
        await ivan.send("/start")
        await ivan.next_message()
        await ivan.press("Русский", wait=0)
        await ivan.wait_for(lambda m: bool(m.buttons) and "?" in m.text)

        sent, _, _ = await my_file(client, ivan, "Всё, что AuylNet хранит о вас")
        assert sent.text.startswith(
            f"📦 Всё, что AuylNet хранит о вас (на {day}). Этот файл получили только вы."
        )

        await ivan.send("/privacy")
        notice = await ivan.wait_for(lambda m: "🗑 Удалить мои данные" in m.labels)
        await ivan.press_on(notice, "🗑 Удалить мои данные", wait=0)
        await ivan.wait_for(lambda m: "🗑 Да, удалить" in m.labels)
        await ivan.press("🗑 Да, удалить", wait=0)
        await ivan.wait_for(lambda m: m.text.startswith("Готово: ваши данные удалены."))
        await ivan.send("/privacy")
        gone = await ivan.wait_for(lambda m: "Вы удалили свои данные" in m.text)
        assert f"Вы удалили свои данные {day}, больше о вас ничего не хранится." in gone.text
        assert "г.." not in gone.text and "г.." not in sent.text
