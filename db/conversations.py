"""Conversation states of python-telegram-bot's ConversationHandler, keyed by name and chat/user."""

from __future__ import annotations

import json
from collections.abc import Mapping

import aiosqlite


async def load(conn: aiosqlite.Connection, name: str) -> dict[tuple[int | str, ...], object]:
    """Every stored state of the conversation ``name``, keyed as PTB keys them."""
    async with conn.execute("SELECT key, state FROM conversations WHERE name = ?", (name,)) as cursor:
        rows = await cursor.fetchall()
    return {tuple(json.loads(row["key"])): json.loads(row["state"]) for row in rows}


async def save(conn: aiosqlite.Connection, changes: Mapping[tuple[str, str], object | None]) -> None:
    """Write changed states, keyed by (name, JSON key); None removes the conversation."""
    for (name, key), state in changes.items():
        if state is None:
            await conn.execute("DELETE FROM conversations WHERE name = ? AND key = ?", (name, key))
        else:
            await conn.execute(
                "INSERT INTO conversations (name, key, state) VALUES (?, ?, ?)"
                " ON CONFLICT (name, key) DO UPDATE SET state = excluded.state",
                (name, key, json.dumps(state)),
            )


def key_of(key: tuple[int | str, ...]) -> str:
    """How a PTB conversation key is stored."""
    return json.dumps(list(key))
