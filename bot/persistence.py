"""Conversation states in SQLite, so a half-finished flow survives a restart.

Only conversations are persisted: drafts of what a user is filling in live in the ``drafts``
table, and everything else in the domain tables, so there is one source of truth.
"""

from __future__ import annotations

import asyncio
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from bot.context import Services
from db import conversations


class SQLitePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], Services]):
    def __init__(self, update_interval: float = 1.0) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=False, callback_data=False
            ),
            update_interval=update_interval,
        )
        self._attached: Services | None = None
        self._pending: dict[tuple[str, str], object | None] = {}
        self._writer: asyncio.Task[None] | None = None

    def attach(self, services: Services) -> None:
        self._attached = services

    @property
    def _services(self) -> Services:
        if self._attached is None:
            raise RuntimeError("persistence used before attach()")
        return self._attached

    async def get_conversations(self, name: str) -> ConversationDict:
        db = await self._services.open_database()
        async with db.read() as conn:
            return await conversations.load(conn, name)

    async def update_conversation(self, name: str, key: ConversationKey, new_state: object | None) -> None:
        # PTB hands over every changed conversation one by one; writing them together in one
        # transaction (one fsync) keeps a busy moment from queueing hundreds of commits.
        self._pending[(name, conversations.key_of(key))] = new_state
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_pending())

    async def _write_pending(self) -> None:
        await asyncio.sleep(0)  # let the rest of this persistence round arrive
        pending, self._pending = self._pending, {}
        if not pending:
            return
        db = await self._services.open_database()
        async with db.transaction() as tx:
            await conversations.save(tx, pending)

    # Nothing else is stored here: see the module docstring.
    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_bot_data(self) -> Services:
        return self._services

    async def get_callback_data(self) -> CDCData | None:
        return None

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        return None

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        return None

    async def update_bot_data(self, data: Services) -> None:
        return None

    async def update_callback_data(self, data: CDCData) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        return None

    async def drop_user_data(self, user_id: int) -> None:
        return None

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        return None

    async def refresh_bot_data(self, bot_data: Services) -> None:
        return None

    async def flush(self) -> None:
        """At shutdown: whatever is still pending reaches the database."""
        if self._writer is not None:
            await self._writer
        if self._pending:
            await self._write_pending()
