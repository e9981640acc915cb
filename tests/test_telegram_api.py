"""What the bot throttles: what Telegram limits (sends, group edits), and nothing else."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.config import Settings
from bot.sandbox.client import SandboxClient, TestUser
from bot.telegram_api import AuylNetBot, build_bot, is_edit, is_send
from tests.conftest import BOT_TOKEN


@pytest.fixture
async def bot(sandbox: Any, tmp_path: Path) -> AsyncIterator[AuylNetBot]:
    settings = Settings(
        bot_token=BOT_TOKEN,  # type: ignore[arg-type]
        api_base_url=sandbox.api_url,
        db_path=tmp_path / "unused.db",
        rate_global_per_second=5,
        _env_file=None,  # type: ignore[call-arg]
    )
    async with build_bot(settings) as running:
        yield running


def test_which_calls_count_as_messages() -> None:
    assert all(is_send(m) for m in ("sendMessage", "sendPhoto", "sendLocation", "copyMessage"))
    assert not any(is_send(m) for m in ("sendChatAction", "answerCallbackQuery", "getUpdates", "getMe"))
    assert is_edit("editMessageText") and is_edit("editMessageReplyMarkup") and not is_edit("deleteMessage")


async def test_sends_wait_for_the_global_limit_but_answers_and_private_edits_do_not(
    client: SandboxClient, bot: AuylNetBot
) -> None:
    people = [await client.user(f"Тұрғын {n}") for n in range(20)]
    started = time.monotonic()
    sent = await asyncio.gather(
        *(
            bot.send_message(
                p.id,
                "Сәлем",
                reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="ok")]]),
            )
            for p in people
        )
    )
    sending = time.monotonic() - started
    # 5 a second with a one-second bucket: the first 5 at once, the other 15 over 3 seconds.
    assert sending >= 2.5

    started = time.monotonic()
    await asyncio.gather(
        *(bot.edit_message_text("Сау болыңыз", p.id, m.message_id) for p, m in zip(people, sent, strict=True))
    )
    pressed = [
        await client.call(
            "POST",
            "press",
            json={"user_id": p.id, "chat_id": p.id, "message_id": m.message_id, "callback_data": "ok"},
        )
        for p, m in zip(people, sent, strict=True)
    ]
    await asyncio.gather(*(bot.answer_callback_query(q["callback_query_id"], "✓") for q in pressed))
    await asyncio.gather(*(bot.get_me() for _ in people))
    # 20 edits in private chats, 20 button answers and 20 getMe: Telegram does not limit them.
    assert time.monotonic() - started < 1.5
    assert [m.text for m in await people[0].messages()] == ["Сау болыңыз"]


async def test_a_429_in_one_chat_holds_back_that_chat_only(client: SandboxClient, bot: AuylNetBot) -> None:
    aigul, bolat = await client.user("Айгүл"), await client.user("Болат")
    await client.fault("429", 1.0, method="sendMessage", count=1, retry_after=2)

    async def timed_send(person: TestUser) -> float:
        started = time.monotonic()
        await bot.send_message(person.id, "Сәлем")
        return time.monotonic() - started

    first = asyncio.create_task(timed_send(aigul))
    await asyncio.sleep(0.2)  # Aigul's send got the 429 and waits its 2 seconds
    other = await timed_send(bolat)
    assert other < 1.0
    assert await first >= 2.0
    assert len(await aigul.messages()) == len(await bolat.messages()) == 1


async def test_a_button_telegram_will_not_answer_again_is_not_an_error(
    client: SandboxClient, bot: AuylNetBot
) -> None:
    dana = await client.user("Дана")
    message = await bot.send_message(
        dana.id, "?", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Иә", callback_data="yes")]])
    )
    pressed = await client.call(
        "POST",
        "press",
        json={
            "user_id": dana.id,
            "chat_id": dana.id,
            "message_id": message.message_id,
            "callback_data": "yes",
        },
    )
    assert await bot.answer_callback_query(pressed["callback_query_id"], "1") is True
    # Answered already (as after a restart that handles the press again): no exception.
    assert await bot.answer_callback_query(pressed["callback_query_id"], "2") is False
