"""The outbox's rules without Telegram: queue order, back-off, state changes, the admin view.

A real SQLite file in tmp_path every time; errors are real PTB exception objects.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.outbox import RetryPolicy, Verdict, classify, retry_after_seconds, whole_second_after
from db import outbox
from db.database import Database
from db.users import record_contact, set_language

NOW = datetime(2026, 3, 8, 9, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "outbox.db")
    yield database
    await database.close()


async def queue(db: Database, chat_id: int, n: int, **extra: object) -> None:
    async with db.transaction() as conn:
        await outbox.enqueue(conn, chat_id=chat_id, kind="test.note", params={"n": n}, now=NOW, **extra)  # type: ignore[arg-type]


async def heads(db: Database, now: datetime = NOW, limit: int = 100) -> list[tuple[int, int]]:
    async with db.read() as conn:
        return [(m.chat_id, m.params["n"]) for m in await outbox.due_heads(conn, now, limit)]


async def states(db: Database) -> dict[outbox.State, int]:
    async with db.read() as conn:
        return await outbox.count_by_state(conn)


async def test_each_chat_offers_only_its_oldest_row_and_chats_come_oldest_first(db: Database) -> None:
    await queue(db, 101, 1)
    await queue(db, 202, 1)
    await queue(db, 101, 2)
    await queue(db, -300, 1)
    assert await heads(db) == [(101, 1), (202, 1), (-300, 1)]
    assert await heads(db, limit=2) == [(101, 1), (202, 1)]


async def test_a_row_waiting_out_a_back_off_holds_back_the_rest_of_its_chat(db: Database) -> None:
    await queue(db, 101, 1)
    await queue(db, 101, 2)
    await queue(db, 202, 1)
    async with db.read() as conn:
        first = (await outbox.due_heads(conn, NOW, 1))[0]
    async with db.transaction() as conn:
        await outbox.record_failure(conn, first.id, error="TimedOut", retry_at=NOW + timedelta(seconds=30))
    # 101's second row must not overtake its first: the chat is simply not due.
    assert await heads(db) == [(202, 1)]
    async with db.read() as conn:
        assert await outbox.chat_head(conn, 101, NOW) is None
        assert await outbox.next_due_at(conn, NOW) == NOW + timedelta(seconds=30)
    assert await heads(db, NOW + timedelta(seconds=30)) == [(101, 1), (202, 1)]


async def test_sent_rows_leave_the_queue_and_the_next_row_of_the_chat_follows(db: Database) -> None:
    await queue(db, 101, 1)
    await queue(db, 101, 2)
    async with db.read() as conn:
        first = await outbox.chat_head(conn, 101, NOW)
    assert first is not None and first.params == {"n": 1}
    async with db.transaction() as conn:
        await outbox.mark_sent(conn, first, now=NOW, message_id=17)
    async with db.read() as conn:
        second = await outbox.chat_head(conn, 101, NOW)
    assert second is not None and second.params == {"n": 2}
    assert await states(db) == {
        "pending": 1,
        "sent": 1,
        "failed": 0,
        "dropped": 0,
        "superseded": 0,
        "unconfirmed": 0,
    }


async def test_a_slot_remembers_the_message_it_shows(db: Database) -> None:
    await queue(db, -300, 1, slot="incident:7")
    await queue(db, -300, 2, slot="incident:7")
    for message_id in (41, 44):
        async with db.read() as conn:
            row = await outbox.chat_head(conn, -300, NOW)
        assert row is not None and row.slot == "incident:7"
        async with db.transaction() as conn:
            await outbox.mark_sent(conn, row, now=NOW, message_id=message_id)
        async with db.read() as conn:
            assert await outbox.slot_message_id(conn, "incident:7", -300) == message_id
            assert await outbox.slot_message_id(conn, "incident:7", -999) is None


async def test_enqueueing_twice_with_one_dedup_key_queues_once(db: Database) -> None:
    async with db.transaction() as conn:
        assert await outbox.enqueue(conn, chat_id=101, kind="k", now=NOW, dedup_key="report:5:ack")
        assert not await outbox.enqueue(conn, chat_id=101, kind="k", now=NOW, dedup_key="report:5:ack")
        assert await outbox.enqueue(conn, chat_id=101, kind="k", now=NOW)
        assert await outbox.enqueue(conn, chat_id=101, kind="k", now=NOW)
    assert (await states(db))["pending"] == 3


async def test_a_blocked_recipient_loses_only_their_pending_rows(db: Database) -> None:
    async with db.transaction() as conn:
        await record_contact(
            conn,
            user_id=101,
            first_name="Айгүл",
            last_name=None,
            username=None,
            telegram_language="kk",
            now=NOW,
        )
        await set_language(conn, 101, "ru")
    await queue(db, 101, 1)
    await queue(db, 101, 2)
    await queue(db, 202, 1)
    async with db.read() as conn:
        assert await outbox.recipient(conn, 101) == outbox.Recipient(
            language="ru", telegram_language="kk", blocked=False
        )
        assert await outbox.recipient(conn, -300) == outbox.Recipient()
    async with db.transaction() as conn:
        assert await outbox.drop_recipient(conn, 101, reason="Forbidden: bot was blocked by the user") == 2
    async with db.read() as conn:
        assert (await outbox.recipient(conn, 101)).blocked
    assert await states(db) == {
        "pending": 1,
        "sent": 0,
        "failed": 0,
        "dropped": 2,
        "superseded": 0,
        "unconfirmed": 0,
    }
    # Writing to the bot again clears the flag (db.users.record_contact).
    async with db.transaction() as conn:
        await record_contact(
            conn,
            user_id=101,
            first_name="Айгүл",
            last_name=None,
            username=None,
            telegram_language="kk",
            now=NOW,
        )
        assert not (await outbox.recipient(conn, 101)).blocked


async def test_failures_are_counted_parked_and_retried_by_an_admin(db: Database) -> None:
    await queue(db, 101, 1)
    async with db.read() as conn:
        row = await outbox.chat_head(conn, 101, NOW)
    assert row is not None
    async with db.transaction() as conn:
        await outbox.postpone(conn, row.id, until=NOW + timedelta(seconds=3), error="429: retry after 3")
        await outbox.record_failure(conn, row.id, error="NetworkError: Bad Gateway", retry_at=NOW)
        await outbox.record_failure(conn, row.id, error="TimedOut: Timed out", retry_at=None)
    async with db.read() as conn:
        cursor = await conn.execute("SELECT state, attempts, last_error FROM outbox WHERE id = ?", (row.id,))
        assert tuple(await cursor.fetchone()) == ("failed", 2, "TimedOut: Timed out")  # type: ignore[arg-type]
        assert await outbox.chat_head(conn, 101, NOW) is None
    later = NOW + timedelta(hours=2)
    async with db.transaction() as conn:
        assert await outbox.retry_failed(conn, later) == 1
        assert await outbox.retry_failed(conn, later) == 0
    async with db.read() as conn:
        again = await outbox.chat_head(conn, 101, later)
    assert again is not None and again.attempts == 0


async def test_queue_health_for_admins(db: Database) -> None:
    async with db.transaction() as conn:
        await record_contact(
            conn,
            user_id=303,
            first_name="Болат",
            last_name=None,
            username=None,
            telegram_language="ru",
            now=NOW,
        )
        for chat_id, n in ((101, 1), (101, 2), (202, 1), (303, 1)):
            await outbox.enqueue(
                conn, chat_id=chat_id, kind="k", params={"n": n}, now=NOW - timedelta(minutes=n * 10)
            )
        await outbox.enqueue(conn, chat_id=404, kind="k", now=NOW)
    async with db.read() as conn:
        empty_view = await outbox.queue_health(conn, NOW)
    assert empty_view.pending == 5 and empty_view.oldest_pending_age == timedelta(minutes=20)
    async with db.read() as conn:
        row_202 = await outbox.chat_head(conn, 202, NOW)
        row_404 = await outbox.chat_head(conn, 404, NOW)
    assert row_202 is not None and row_404 is not None
    async with db.transaction() as conn:
        await outbox.mark_sent(conn, row_202, now=NOW - timedelta(minutes=5), message_id=1)
        await outbox.mark_sent(conn, row_404, now=NOW - timedelta(hours=2), message_id=2)
        await outbox.drop_recipient(conn, 303, reason="Forbidden")
        first_101 = await outbox.chat_head(conn, 101, NOW)
        assert first_101 is not None
        await outbox.record_failure(conn, first_101.id, error="Bad Request: bad entities", retry_at=None)
    async with db.read() as conn:
        health = await outbox.queue_health(conn, NOW)
    assert health == outbox.OutboxHealth(
        pending=1,
        sent_last_hour=1,
        failed=1,
        dropped=1,
        blocked_recipients=1,
        oldest_pending_age=timedelta(minutes=20),
    )


def test_back_off_grows_exponentially_with_jitter_and_a_cap() -> None:
    policy = RetryPolicy(max_attempts=8, base_delay=4.0, max_delay=60.0)
    rng = random.Random(1)
    for failures, nominal in ((1, 4), (2, 8), (3, 16), (4, 32), (5, 60), (7, 60)):
        waits = [policy.delay(failures, rng) for _ in range(200)]
        assert all(nominal / 2 <= wait <= nominal for wait in waits)
        assert max(waits) - min(waits) > nominal / 4  # spread out, not one instant for everyone
    default = RetryPolicy()
    total = [sum(default.delay(n, rng) for n in range(1, default.max_attempts)) for _ in range(100)]
    assert 4 * 60 - 10 < min(total) and max(total) < 8.5 * 60 + 1


def test_retry_times_round_up_to_whole_seconds() -> None:
    moment = datetime(2026, 3, 8, 9, 0, 0, 900_000, tzinfo=UTC)
    assert whole_second_after(moment, 1) == datetime(2026, 3, 8, 9, 0, 2, tzinfo=UTC)
    assert whole_second_after(moment, 0.1) == datetime(2026, 3, 8, 9, 0, 1, tzinfo=UTC)
    assert whole_second_after(NOW, 5) == NOW + timedelta(seconds=5)


@pytest.mark.parametrize(
    ("error", "verdict"),
    [
        (RetryAfter(3), Verdict.RATE_LIMITED),
        (Forbidden("Forbidden: bot was blocked by the user"), Verdict.UNREACHABLE),
        (Forbidden("Forbidden: user is deactivated"), Verdict.UNREACHABLE),
        (BadRequest("Bad Request: chat not found"), Verdict.UNREACHABLE),
        (BadRequest("Bad Request: can't parse entities: unclosed tag at byte offset 5"), Verdict.PERMANENT),
        (BadRequest("Bad Request: message text is empty"), Verdict.PERMANENT),
        (ChatMigrated(-1001234), Verdict.PERMANENT),
        (NetworkError("Internal Server Error (500)"), Verdict.TRANSIENT),
        (NetworkError("Bad Gateway"), Verdict.TRANSIENT),
        (TimedOut(), Verdict.TRANSIENT),
        (NetworkError("httpx.RemoteProtocolError: Server disconnected"), Verdict.TRANSIENT),
    ],
)
def test_what_each_telegram_error_means(error: Exception, verdict: Verdict) -> None:
    assert classify(error) is verdict  # type: ignore[arg-type]


def test_retry_after_in_seconds() -> None:
    assert retry_after_seconds(RetryAfter(7)) == 7.0
    assert retry_after_seconds(RetryAfter(timedelta(seconds=2.5))) == 2.5
