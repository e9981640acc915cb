"""Queueing notifications; delivery is ``bot.outbox``'s job."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import aiosqlite

from bot.clock import to_db


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
    return cursor.rowcount == 1
