"""Conversation states in SQLite, so a half-finished flow survives a restart.

Only conversations are persisted: drafts of what a user is filling in live in the ``drafts``
table, and everything else in the domain tables, so there is one source of truth.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

import aiosqlite
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from bot.context import Services
from db import conversations

log = logging.getLogger(__name__)


class Rider(Protocol):
    """Rows written in the same transaction as the conversation states.

    The inbox marks handled updates done this way: a conversation's new state and the mark of the
    update that produced it are committed together, so after a crash an update is either done with
    its state saved, or handled again from the state it started in.
    """

    def take(self) -> object | None:
        """What to write now (None: nothing); called in the same step that takes the states."""

    async def write(self, conn: aiosqlite.Connection, taken: object) -> None: ...

    def give_back(self, taken: object) -> None:
        """The transaction failed: keep ``taken`` for the next write."""

    def settled(self, taken: object) -> None:
        """The transaction committed."""


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
        self._riders: list[Rider] = []

    def attach(self, services: Services) -> None:
        self._attached = services

    def add_rider(self, rider: Rider) -> None:
        self._riders.append(rider)

    def write_soon(self) -> None:
        """Write what is pending (states and riders) without waiting for the next change."""
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_pending())

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
        self.write_soon()

    async def _write_pending(self) -> None:
        await asyncio.sleep(0)  # let the rest of this persistence round arrive
        while True:
            # States and riders are taken in one step: a rider's rows never lag the states.
            pending, self._pending = self._pending, {}
            rides = [(rider, taken) for rider in self._riders if (taken := rider.take()) is not None]
            if not pending and not rides:
                return
            try:
                db = await self._services.open_database()
                async with db.transaction() as tx:
                    await conversations.save(tx, pending)
                    for rider, taken in rides:
                        await rider.write(tx, taken)
            except Exception:
                # Kept for the next write (a later change, the inbox's tick, or the final flush).
                self._pending = {**pending, **self._pending}
                for rider, taken in rides:
                    rider.give_back(taken)
                log.exception("could not save conversation states; will try again")
                return
            for rider, taken in rides:
                rider.settled(taken)

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
        await self._write_pending()
