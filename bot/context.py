"""What every handler can reach: services, the member behind the update, their translator."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.clock import Clock
from bot.config import Language, Settings
from bot.i18n import Translator, translator
from bot.places.search import VillageIndex
from bot.roles import Member
from db.database import Database
from db.places import index_rows

if TYPE_CHECKING:
    from bot.api.events import EventWorker
    from bot.outbox import OutboxWorker


class Services:
    """Long-lived objects shared by all handlers (PTB's ``bot_data``)."""

    def __init__(self) -> None:
        self.settings: Settings | None = None
        self.clock = Clock()
        self._db: Database | None = None
        self._villages: VillageIndex | None = None
        self.outbox: OutboxWorker | None = None  # the delivery worker, once started
        self.events: EventWorker | None = None  # webhook deliveries to other systems, once started

    @property
    def config(self) -> Settings:
        if self.settings is None:
            raise RuntimeError("settings not loaded")
        return self.settings

    @property
    def db(self) -> Database:
        if self._db is None:
            raise RuntimeError("database not open")
        return self._db

    @property
    def villages(self) -> VillageIndex:
        """The in-memory village search index, loaded at start and after every import."""
        if self._villages is None:
            raise RuntimeError("village index not loaded")
        return self._villages

    async def reload_villages(self) -> VillageIndex:
        """Rebuild the index from the database; built off the event loop and outside the database lock."""
        async with self.db.read() as conn:
            rows = await index_rows(conn)
        self._villages = await asyncio.to_thread(VillageIndex.from_rows, rows)
        return self._villages

    async def open_database(self) -> Database:
        """Open the database once; the first component that needs it opens it."""
        if self._db is None:
            self._db = await Database.open(self.config.db_path)
        return self._db

    async def close_database(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], Services]):
    """The context handed to every handler; ``member`` and ``t`` are filled before handlers run."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self._member: Member | None = None
        self._translator: Translator | None = None
        # Whether this update's button was answered or its message edited (see bot.ui.settle).
        self.settled = False
        self.reply_keyboard_shown = False

    @property
    def services(self) -> Services:
        return self.bot_data

    @property
    def db(self) -> Database:
        return self.bot_data.db

    @property
    def settings(self) -> Settings:
        return self.bot_data.config

    @property
    def clock(self) -> Clock:
        return self.bot_data.clock

    @property
    def member(self) -> Member:
        if self._member is None:
            raise RuntimeError("no member for this update")
        return self._member

    @property
    def has_member(self) -> bool:
        return self._member is not None

    def set_member(self, member: Member, language: Language) -> None:
        self._member = member
        self._translator = translator(language)
        self.reply_keyboard_shown = member.account.reply_keyboard

    @property
    def t(self) -> Translator:
        if self._translator is None:
            return translator(self.bot_data.config.default_language)
        return self._translator

    def use_language(self, language: Language) -> None:
        self._translator = translator(language)
