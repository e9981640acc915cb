"""The ticket is never lost: a press delivered twice, or an answer that did not get through."""

from __future__ import annotations

import asyncio
import json

from telegram import Update

from bot.clock import Clock
from bot.outages.callbacks import ReportCb
from db import outages, places
from db.database import Database
from handlers.outages_report import DETAILS
from tests.conftest import BotFactory

BAYANAUL = "553630100"


async def start_report(app, person) -> None:  # type: ignore[no-untyped-def]
    await person.send("/start")
    await person.next_message()
    await person.press("Қазақша", wait=0)
    await person.wait_for(lambda m: bool(m.buttons) and "?" in m.text)
    async with app.bot_data.db.transaction() as tx:
        await places.set_my_village(tx, person.id, BAYANAUL)
    await person.send("/report")
    await person.wait_for(lambda m: "Үй интернеті" in m.labels)
    await person.press("Үй интернеті", wait=0)
    await person.wait_for(lambda m: "Жаңа ғана" in m.labels)
    await person.press("Жаңа ғана", wait=0)


async def test_a_ticket_whose_answer_did_not_get_through_is_shown_on_the_next_press(  # type: ignore[no-untyped-def]
    client, bot_factory: BotFactory, clock: Clock
) -> None:
    aigul = await client.user("Айгүл", language_code="kk")
    async with bot_factory(seed=True) as app:
        await start_report(app, aigul)
        await aigul.wait_for(lambda m: "📨 Қазір жіберу" in m.labels)
        # The report is committed, but Telegram fails the edit that would have shown the ticket.
        await client.fault("500", method="editMessageText", count=1)
        await aigul.press("📨 Қазір жіберу", wait=0)
        for _ in range(50):
            async with app.bot_data.db.read() as conn:
                if await outages.reports_by_user(conn, aigul.id):
                    break
            await asyncio.sleep(0.05)
        assert not any(m.text.startswith("✅") for m in await aigul.messages())
        # She presses «Send now» again: she gets her ticket, and it is still one report.
        assert await aigul.press("📨 Қазір жіберу") is None  # no "this button is out of date"
        ticket = await aigul.wait_for(lambda m: m.text.startswith("✅ AN-000001"))
        assert "Жұмыс істемейді: үй интернеті, жаңа ғана." in ticket.text
        async with app.bot_data.db.read() as conn:
            assert len(await outages.reports_by_user(conn, aigul.id)) == 1


async def test_a_redelivered_send_press_files_nothing_new_and_shows_the_ticket(  # type: ignore[no-untyped-def]
    client, bot_factory: BotFactory, clock: Clock
) -> None:
    aigul = await client.user("Айгүл", language_code="kk")
    async with bot_factory(seed=True) as app:
        await aigul.send("/start")
        await aigul.next_message()
        await aigul.press("Қазақша", wait=0)
        await aigul.wait_for(lambda m: bool(m.buttons) and "?" in m.text)
        async with app.bot_data.db.transaction() as tx:
            await places.set_my_village(tx, aigul.id, BAYANAUL)
        await aigul.send("/report")
        await aigul.wait_for(lambda m: "Үй интернеті" in m.labels)
        await aigul.press("Үй интернеті", wait=0)
        await aigul.wait_for(lambda m: "Жаңа ғана" in m.labels)
        await aigul.press("Жаңа ғана", wait=0)
        ask = await aigul.wait_for(lambda m: "📨 Қазір жіберу" in m.labels)
        pressed = await client.call(
            "POST",
            "press",
            json={
                "user_id": aigul.id,
                "chat_id": aigul.chat_id,
                "message_id": ask.message_id,
                "callback_data": next(
                    data for row in ask.buttons for label, data in row if label == "📨 Қазір жіберу"
                ),
            },
        )
        ticket = await aigul.wait_for(lambda m: m.text.startswith("✅ AN-000001"))
        shown = len(await aigul.messages())
        # The bot dies after committing the report, before the conversation's new state is written
        # and before Telegram hears the update was handled: the conversation is still at «Send now».
        db_path = app.bot_data.config.db_path
    database = await Database.open(db_path)
    async with database.transaction() as tx:
        await tx.execute(
            "INSERT INTO conversations (name, key, state) VALUES ('report', ?, ?)",
            (json.dumps([aigul.chat_id, aigul.id]), json.dumps(DETAILS)),
        )
    await database.close()

    async with bot_factory(seed=True) as app:
        # The same update again, as Telegram sends it when the bot did not confirm it in time.
        again = Update.de_json(
            {
                "update_id": pressed["update_id"],
                "callback_query": {
                    "id": pressed["callback_query_id"],
                    "from": aigul.user,
                    "chat_instance": "1",
                    "data": ReportCb(action="send").pack(),
                    "message": ask.raw,
                },
            },
            app.bot,
        )
        await app.process_update(again)

        async with app.bot_data.db.read() as conn:
            assert len(await outages.reports_by_user(conn, aigul.id)) == 1
        messages = await aigul.messages()
        assert len(messages) == shown  # no "out of date", no "something went wrong"
        assert messages[-1].message_id == ticket.message_id and messages[-1].text.startswith("✅ AN-000001")
