"""What a person is filling in across several steps, kept in SQLite so it survives a restart."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import aiosqlite

from db.timestamps import to_db


async def get_draft(conn: aiosqlite.Connection, user_id: int, flow: str) -> dict[str, Any]:
    async with conn.execute(
        "SELECT data FROM drafts WHERE user_id = ? AND flow = ?", (user_id, flow)
    ) as cursor:
        row = await cursor.fetchone()
    return dict(json.loads(row[0])) if row else {}


async def save_draft(
    conn: aiosqlite.Connection, user_id: int, flow: str, data: dict[str, Any], now: datetime
) -> None:
    await conn.execute(
        "INSERT INTO drafts (user_id, flow, data, updated) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (user_id, flow) DO UPDATE SET data = excluded.data, updated = excluded.updated",
        (user_id, flow, json.dumps(data, ensure_ascii=False), to_db(now)),
    )


async def clear_draft(conn: aiosqlite.Connection, user_id: int, flow: str) -> None:
    await conn.execute("DELETE FROM drafts WHERE user_id = ? AND flow = ?", (user_id, flow))


async def update_draft(
    conn: aiosqlite.Connection, user_id: int, flow: str, changes: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """Merge ``changes`` into a draft and return the whole draft."""
    data = await get_draft(conn, user_id, flow)
    if changes:
        data.update(changes)
        await save_draft(conn, user_id, flow, data, now)
    return data


async def clear_all(conn: aiosqlite.Connection, user_id: int) -> None:
    """Forget every draft of a person (they cancelled, or asked to be forgotten)."""
    await conn.execute("DELETE FROM drafts WHERE user_id = ?", (user_id,))
