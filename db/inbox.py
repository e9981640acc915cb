"""The inbox: updates stored before Telegram is told they arrived, and marked done once handled.

A row's life: stored with its payload (``done_at`` NULL) → handled → ``done_at`` set, ``outcome``
recorded and the payload cleared (it holds names and texts people typed, which are not kept once
the update is handled). Handled rows stay a few days so that an update Telegram delivers again is
recognised, then :func:`purge_done` removes them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

import aiosqlite
from pydantic import BaseModel, ConfigDict

from db.timestamps import from_db, to_db

Outcome = Literal["ok", "error", "abandoned"]


class StoredUpdate(BaseModel):
    """An update waiting to be handled."""

    model_config = ConfigDict(frozen=True)

    update_id: int
    payload: str
    attempts: int


class RecordedCall(BaseModel):
    """A Bot API call made while handling an update, and Telegram's answer to it."""

    model_config = ConfigDict(frozen=True)

    endpoint: str
    chat_id: str | None
    result: Any


class InboxBacklog(BaseModel):
    model_config = ConfigDict(frozen=True)

    undone: int
    oldest_received_at: datetime | None


async def store(conn: aiosqlite.Connection, updates: Iterable[tuple[int, str]], now: datetime) -> list[int]:
    """Store updates inside the caller's transaction; returns the ids that were new.

    An id stored before (being handled now, or handled already) is left as it is: Telegram
    delivering an update again must not have it handled twice.
    """
    stored = []
    for update_id, payload in updates:
        cursor = await conn.execute(
            "INSERT INTO inbox (update_id, payload, received_at) VALUES (?, ?, ?)"
            " ON CONFLICT (update_id) DO NOTHING",
            (update_id, payload, to_db(now)),
        )
        if cursor.rowcount == 1:
            stored.append(update_id)
    return stored


async def start_over(conn: aiosqlite.Connection) -> list[StoredUpdate]:
    """At start: every update not yet done, oldest first, each counted as one more attempt."""
    await conn.execute("UPDATE inbox SET attempts = attempts + 1 WHERE done_at IS NULL")
    async with conn.execute(
        "SELECT update_id, payload, attempts FROM inbox WHERE done_at IS NULL ORDER BY update_id"
    ) as cursor:
        return [
            StoredUpdate(update_id=row["update_id"], payload=row["payload"] or "{}", attempts=row["attempts"])
            for row in await cursor.fetchall()
        ]


async def mark_done(
    conn: aiosqlite.Connection, outcomes: Sequence[tuple[int, Outcome]], now: datetime
) -> int:
    """The updates were handled (their effects are committed): done, and their payload forgotten."""
    changed = 0
    for update_id, outcome in outcomes:
        cursor = await conn.execute(
            "UPDATE inbox SET done_at = ?, outcome = ?, payload = NULL WHERE update_id = ? AND done_at IS NULL",
            (to_db(now), outcome, update_id),
        )
        changed += cursor.rowcount
    return changed


async def next_offset(conn: aiosqlite.Connection) -> int | None:
    """The getUpdates offset that confirms everything stored: the newest stored id + 1."""
    async with conn.execute("SELECT MAX(update_id) FROM inbox") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) + 1 if row and row[0] is not None else None


async def purge_done(conn: aiosqlite.Connection, older_than: datetime) -> int:
    """Forget handled updates done before ``older_than``; Telegram redelivers for at most a day."""
    cursor = await conn.execute(
        "DELETE FROM inbox WHERE done_at IS NOT NULL AND done_at < ?", (to_db(older_than),)
    )
    return cursor.rowcount


async def backlog(conn: aiosqlite.Connection) -> InboxBacklog:
    async with conn.execute("SELECT COUNT(*), MIN(received_at) FROM inbox WHERE done_at IS NULL") as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return InboxBacklog(undone=row[0], oldest_received_at=from_db(row[1]) if row[1] else None)


async def outcome_of(conn: aiosqlite.Connection, update_id: int) -> tuple[Outcome | None, bool] | None:
    """(outcome, done) of one stored update, or None when it was never stored."""
    async with conn.execute("SELECT outcome, done_at FROM inbox WHERE update_id = ?", (update_id,)) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    return row["outcome"], row["done_at"] is not None


RETENTION = timedelta(days=3)


# --- the call journal: a small SQLite file of its own, written from the event loop's thread ----------
def open_call_journal(path: str) -> sqlite3.Connection:
    """The journal of Bot API calls made while handling updates not yet done.

    Written synchronously right after each call's answer (no await in between) and without fsync
    (``synchronous=OFF`` in WAL mode): a record survives the process being killed, and takes
    microseconds. A power cut may lose the last records.
    """
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS calls (update_id INTEGER NOT NULL, seq INTEGER NOT NULL,"
        " endpoint TEXT NOT NULL, chat_id TEXT, result TEXT NOT NULL, PRIMARY KEY (update_id, seq))"
    )
    return conn


def record_call(
    conn: sqlite3.Connection, update_id: int, seq: int, endpoint: str, chat_id: str | None, result: Any
) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO calls (update_id, seq, endpoint, chat_id, result) VALUES (?, ?, ?, ?, ?)",
        (update_id, seq, endpoint, chat_id, json.dumps(result, ensure_ascii=False)),
    )


def recorded_calls(conn: sqlite3.Connection, update_id: int) -> dict[int, RecordedCall]:
    """The calls an undone update made before the process stopped, by their place."""
    rows = conn.execute(
        "SELECT seq, endpoint, chat_id, result FROM calls WHERE update_id = ? ORDER BY seq", (update_id,)
    ).fetchall()
    return {
        seq: RecordedCall(endpoint=endpoint, chat_id=chat_id, result=json.loads(result))
        for seq, endpoint, chat_id, result in rows
    }


def forget_calls(conn: sqlite3.Connection, update_ids: Iterable[int]) -> None:
    conn.executemany("DELETE FROM calls WHERE update_id = ?", [(update_id,) for update_id in update_ids])


def keep_calls_of(conn: sqlite3.Connection, update_ids: Iterable[int]) -> None:
    """At start: forget every call but those of the updates still to be handled."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS keep (update_id INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM keep")
    conn.executemany("INSERT OR IGNORE INTO keep VALUES (?)", [(update_id,) for update_id in update_ids])
    conn.execute("DELETE FROM calls WHERE update_id NOT IN (SELECT update_id FROM keep)")
