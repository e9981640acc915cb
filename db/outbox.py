"""The outbox: notifications queued by features, delivered by ``bot.outbox.OutboxWorker``.

A row's life: ``pending`` → ``sent`` (Telegram confirmed it), or ``failed`` (a permanent error or
too many transient ones; an admin may :func:`retry_failed`), or ``dropped`` (the recipient blocked
the bot or the chat is gone), or ``superseded`` (a newer row for the same slot and chat was sent in
its place), or ``unconfirmed`` (sent and resent once, Telegram never answered either time). Rows of
one chat are delivered oldest first; a pending row that is not yet due (waiting out a back-off)
holds back the newer rows of its chat, so order is kept.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

import aiosqlite
from pydantic import BaseModel, ConfigDict

from db.database import work_queued
from db.timestamps import from_db, to_db

State = Literal["pending", "sent", "failed", "dropped", "superseded", "unconfirmed"]
STATES: tuple[State, ...] = ("pending", "sent", "failed", "dropped", "superseded", "unconfirmed")
# last_error is for people reading the admin view; a traceback's worth is not useful there.
_ERROR_LENGTH = 500


class OutboxMessage(BaseModel):
    """One queued notification, as the worker needs it."""

    model_config = ConfigDict(frozen=True)

    id: int
    chat_id: int
    kind: str
    params: dict[str, Any]
    slot: str | None
    attempts: int
    created_at: datetime
    next_attempt: datetime
    unknown_outcomes: int = 0


class SlotView(BaseModel):
    """The message a slot shows in one chat, and a hash of what it shows."""

    model_config = ConfigDict(frozen=True)

    message_id: int
    shown_hash: str | None


class Recipient(BaseModel):
    """What the outbox knows of a chat: the language to render in, and whether it blocked us."""

    model_config = ConfigDict(frozen=True)

    language: Literal["kk", "ru"] | None = None
    telegram_language: str | None = None  # what Telegram says, for someone who never chose
    blocked: bool = False


class OutboxHealth(BaseModel):
    """The admin view of delivery."""

    model_config = ConfigDict(frozen=True)

    pending: int
    sent_last_hour: int
    failed: int
    dropped: int
    blocked_recipients: int
    oldest_pending_age: timedelta | None
    unconfirmed: int = 0
    superseded_last_hour: int = 0


class DeliverySnapshot(BaseModel):
    """What the health check needs to tell a stuck outbox from a busy one."""

    model_config = ConfigDict(frozen=True)

    pending: int
    due: int
    oldest_pending_created_at: datetime | None
    last_sent_at: datetime | None
    failed: int
    unconfirmed: int


async def enqueue(
    conn: aiosqlite.Connection,
    *,
    chat_id: int,
    kind: str,
    params: Mapping[str, Any] | None = None,
    now: datetime,
    dedup_key: str | None = None,
    slot: str | None = None,
) -> bool:
    """Queue one notification inside the caller's transaction.

    Returns False when ``dedup_key`` was queued before (nothing is added). With ``slot``, the
    message last sent to ``chat_id`` for that slot is edited instead of a new one being sent.
    Call the worker's ``wake()`` after the transaction commits, so delivery starts at once.
    """
    cursor = await conn.execute(
        "INSERT INTO outbox (chat_id, kind, params, dedup_key, slot, created_at, next_attempt)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING",
        (
            chat_id,
            kind,
            json.dumps(dict(params or {}), ensure_ascii=False),
            dedup_key,
            slot,
            to_db(now),
            to_db(now),
        ),
    )
    if cursor.rowcount != 1:
        return False
    work_queued()
    return True


def _message(row: aiosqlite.Row) -> OutboxMessage:
    return OutboxMessage(
        id=row["id"],
        chat_id=row["chat_id"],
        kind=row["kind"],
        params=json.loads(row["params"]),
        slot=row["slot"],
        attempts=row["attempts"],
        created_at=from_db(row["created_at"]),
        next_attempt=from_db(row["next_attempt"]),
        unknown_outcomes=row["unknown_outcomes"],
    )


_COLUMNS = "id, chat_id, kind, params, slot, attempts, created_at, next_attempt, unknown_outcomes"


async def due_heads(conn: aiosqlite.Connection, now: datetime, limit: int) -> list[OutboxMessage]:
    """The oldest pending row of each chat, where that row is due; oldest chats first."""
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM outbox AS o"
        " WHERE o.state = 'pending' AND o.next_attempt <= ?"
        " AND NOT EXISTS (SELECT 1 FROM outbox AS older"
        "   WHERE older.chat_id = o.chat_id AND older.state = 'pending' AND older.id < o.id)"
        " ORDER BY o.id LIMIT ?",
        (to_db(now), limit),
    ) as cursor:
        return [_message(row) for row in await cursor.fetchall()]


async def chat_head(conn: aiosqlite.Connection, chat_id: int, now: datetime) -> OutboxMessage | None:
    """The oldest pending row of one chat, if it is due."""
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM outbox WHERE chat_id = ? AND state = 'pending' ORDER BY id LIMIT 1",
        (chat_id,),
    ) as cursor:
        row = await cursor.fetchone()
    if row is None or from_db(row["next_attempt"]) > now:
        return None
    return _message(row)


async def next_due_at(conn: aiosqlite.Connection, now: datetime) -> datetime | None:
    """When the earliest pending row that is not due yet becomes due."""
    async with conn.execute(
        "SELECT MIN(next_attempt) FROM outbox WHERE state = 'pending' AND next_attempt > ?",
        (to_db(now),),
    ) as cursor:
        row = await cursor.fetchone()
    return from_db(row[0]) if row and row[0] else None


async def recipient(conn: aiosqlite.Connection, chat_id: int) -> Recipient:
    """A private chat's id is its user's id; groups and unknown chats have no user row."""
    async with conn.execute(
        "SELECT language, telegram_language, blocked FROM users WHERE id = ?", (chat_id,)
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return Recipient()
    return Recipient(
        language=row["language"], telegram_language=row["telegram_language"], blocked=bool(row["blocked"])
    )


async def slot_message_id(conn: aiosqlite.Connection, slot: str, chat_id: int) -> int | None:
    view = await slot_view(conn, slot, chat_id)
    return view.message_id if view else None


async def slot_view(conn: aiosqlite.Connection, slot: str, chat_id: int) -> SlotView | None:
    async with conn.execute(
        "SELECT message_id, shown_hash FROM outbox_slots WHERE slot = ? AND chat_id = ?", (slot, chat_id)
    ) as cursor:
        row = await cursor.fetchone()
    return SlotView(message_id=row["message_id"], shown_hash=row["shown_hash"]) if row else None


async def mark_sent(
    conn: aiosqlite.Connection,
    message: OutboxMessage,
    *,
    now: datetime,
    message_id: int | None,
    shown_hash: str | None = None,
) -> None:
    """Telegram confirmed the send (or edit); a slot now points at the message it shows."""
    await conn.execute(
        "UPDATE outbox SET state = 'sent', sent_at = ?, message_id = ? WHERE id = ? AND state = 'pending'",
        (to_db(now), message_id, message.id),
    )
    if message.slot is not None and message_id is not None:
        await conn.execute(
            "INSERT INTO outbox_slots (slot, chat_id, message_id, shown_hash) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (slot, chat_id) DO UPDATE"
            " SET message_id = excluded.message_id, shown_hash = excluded.shown_hash",
            (message.slot, message.chat_id, message_id, shown_hash),
        )


async def bind_slot(conn: aiosqlite.Connection, slot: str, chat_id: int, message_id: int) -> None:
    """Make later rows of ``slot`` in this chat edit ``message_id`` (a message a handler showed).

    What the slot showed before is forgotten, so the first edit is never skipped as unchanged.
    """
    await conn.execute(
        "INSERT INTO outbox_slots (slot, chat_id, message_id, shown_hash) VALUES (?, ?, ?, NULL)"
        " ON CONFLICT (slot, chat_id) DO UPDATE SET message_id = excluded.message_id, shown_hash = NULL",
        (slot, chat_id, message_id),
    )


async def newest_in_slot(conn: aiosqlite.Connection, slot: str, chat_id: int) -> OutboxMessage | None:
    """The newest pending row for one slot in one chat: the state the slot's message should show."""
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM outbox WHERE slot = ? AND chat_id = ? AND state = 'pending'"
        " ORDER BY id DESC LIMIT 1",
        (slot, chat_id),
    ) as cursor:
        row = await cursor.fetchone()
    return _message(row) if row else None


async def supersede(conn: aiosqlite.Connection, newest: OutboxMessage) -> int:
    """Mark the pending rows of ``newest``'s slot and chat that are older than it as superseded by it."""
    cursor = await conn.execute(
        "UPDATE outbox SET state = 'superseded', superseded_by = ?"
        " WHERE slot = ? AND chat_id = ? AND state = 'pending' AND id < ?",
        (newest.id, newest.slot, newest.chat_id, newest.id),
    )
    return cursor.rowcount


async def record_unknown_outcome(
    conn: aiosqlite.Connection, message_id: int, *, error: str, retry_at: datetime | None, now: datetime
) -> None:
    """The request reached Telegram but no answer came back.

    With ``retry_at`` the row is resent then (once); without, it becomes ``unconfirmed``: sent
    twice, never confirmed, and not sent a third time.
    """
    if retry_at is None:
        await conn.execute(
            "UPDATE outbox SET state = 'unconfirmed', unknown_outcomes = unknown_outcomes + 1,"
            " sent_at = ?, last_error = ? WHERE id = ? AND state = 'pending'",
            (to_db(now), error[:_ERROR_LENGTH], message_id),
        )
    else:
        await conn.execute(
            "UPDATE outbox SET unknown_outcomes = unknown_outcomes + 1, next_attempt = ?, last_error = ?"
            " WHERE id = ? AND state = 'pending'",
            (to_db(retry_at), error[:_ERROR_LENGTH], message_id),
        )


async def postpone(conn: aiosqlite.Connection, message_id: int, *, until: datetime, error: str) -> None:
    """Try again later without counting a failure (Telegram asked us to slow down)."""
    await conn.execute(
        "UPDATE outbox SET next_attempt = ?, last_error = ? WHERE id = ? AND state = 'pending'",
        (to_db(until), error[:_ERROR_LENGTH], message_id),
    )


async def record_failure(
    conn: aiosqlite.Connection, message_id: int, *, error: str, retry_at: datetime | None
) -> None:
    """Count a failed attempt: retry at ``retry_at``, or park the row as failed when it is None."""
    if retry_at is None:
        await conn.execute(
            "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?"
            " WHERE id = ? AND state = 'pending'",
            (error[:_ERROR_LENGTH], message_id),
        )
    else:
        await conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt = ?, last_error = ?"
            " WHERE id = ? AND state = 'pending'",
            (to_db(retry_at), error[:_ERROR_LENGTH], message_id),
        )


async def drop_recipient(conn: aiosqlite.Connection, chat_id: int, *, reason: str) -> int:
    """The chat cannot receive: mark its user blocked and drop everything pending for it.

    ``users.blocked`` is cleared again when the person next writes to the bot
    (``db.users.record_contact``), so later notifications flow again.
    """
    await conn.execute("UPDATE users SET blocked = 1 WHERE id = ?", (chat_id,))
    cursor = await conn.execute(
        "UPDATE outbox SET state = 'dropped', last_error = ? WHERE chat_id = ? AND state = 'pending'",
        (reason[:_ERROR_LENGTH], chat_id),
    )
    return cursor.rowcount


async def queue_health(conn: aiosqlite.Connection, now: datetime) -> OutboxHealth:
    async with conn.execute(
        "SELECT"
        " (SELECT COUNT(*) FROM outbox WHERE state = 'pending'),"
        " (SELECT COUNT(*) FROM outbox WHERE state = 'sent' AND sent_at >= ?),"
        " (SELECT COUNT(*) FROM outbox WHERE state = 'failed'),"
        " (SELECT COUNT(*) FROM outbox WHERE state = 'dropped'),"
        " (SELECT COUNT(*) FROM users WHERE blocked = 1),"
        " (SELECT MIN(created_at) FROM outbox WHERE state = 'pending'),"
        " (SELECT COUNT(*) FROM outbox WHERE state = 'unconfirmed'),"
        " (SELECT COUNT(*) FROM outbox WHERE state = 'superseded' AND created_at >= ?)",
        (to_db(now - timedelta(hours=1)), to_db(now - timedelta(hours=1))),
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    oldest = from_db(row[5]) if row[5] else None
    return OutboxHealth(
        pending=row[0],
        sent_last_hour=row[1],
        failed=row[2],
        dropped=row[3],
        blocked_recipients=row[4],
        oldest_pending_age=max(now - oldest, timedelta(0)) if oldest else None,
        unconfirmed=row[6],
        superseded_last_hour=row[7],
    )


async def delivery_snapshot(conn: aiosqlite.Connection, now: datetime) -> DeliverySnapshot:
    async with conn.execute(
        "SELECT"
        " (SELECT COUNT(*) FROM outbox WHERE state = 'pending'),"
        " (SELECT COUNT(*) FROM outbox WHERE state = 'pending' AND next_attempt <= ?),"
        " (SELECT MIN(created_at) FROM outbox WHERE state = 'pending'),"
        " (SELECT MAX(sent_at) FROM outbox WHERE state = 'sent'),"
        " (SELECT COUNT(*) FROM outbox WHERE state = 'failed'),"
        " (SELECT COUNT(*) FROM outbox WHERE state = 'unconfirmed')",
        (to_db(now),),
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return DeliverySnapshot(
        pending=row[0],
        due=row[1],
        oldest_pending_created_at=from_db(row[2]) if row[2] else None,
        last_sent_at=from_db(row[3]) if row[3] else None,
        failed=row[4],
        unconfirmed=row[5],
    )


async def retry_failed(conn: aiosqlite.Connection, now: datetime) -> int:
    """Put every failed row back in the queue with a fresh set of attempts; returns how many.

    last_error is kept so the admin view still says what went wrong last time.
    """
    cursor = await conn.execute(
        "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt = ? WHERE state = 'failed'",
        (to_db(now),),
    )
    if cursor.rowcount:
        work_queued()
    return cursor.rowcount


async def count_by_state(conn: aiosqlite.Connection) -> dict[State, int]:
    counts: dict[State, int] = dict.fromkeys(STATES, 0)
    async with conn.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state") as cursor:
        for state, count in await cursor.fetchall():
            counts[state] = count
    return counts
