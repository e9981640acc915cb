"""The inbox: no tap is lost, none is handled twice.

python-telegram-bot's own ``Updater`` confirms a batch of updates with the next ``getUpdates``
call, before the batch was handled: a crash then loses those taps. Here an update is

1. **stored** in SQLite (table ``inbox``) — one transaction per batch;
2. only then **confirmed** to Telegram: polling asks for the next batch with ``offset`` past it,
   a webhook answers 200;
3. **handled** by the Application (PTB's handlers, through ``bot.updates.PerChatUpdateProcessor``,
   so one chat's updates stay in order);
4. **marked done** once its handlers returned (or raised and the error handler ran), in the same
   transaction as the conversation states it changed (``SQLitePersistence`` riders).

After a crash every update is either still unconfirmed at Telegram (it is delivered again) or in the
inbox not done (it is handled again at the start). Handlers' effects in the database are idempotent
by update (``source_key``, ``claim_update``), so handling again changes nothing twice. Their effects
at Telegram are made idempotent here: every Bot API call made while handling an update is recorded
with its answer (table ``inbox_calls``, :class:`CallJournal`), and when the update is handled again
a call that had gone through is answered from the record instead of being made twice. What can
still be doubled is a call whose answer arrived but was not yet recorded when the process died:
see docs/runtime.md for how often that happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiosqlite
from telegram import Update
from telegram.error import InvalidToken, RetryAfter, TelegramError, TimedOut

from bot.context import BotContext
from bot.outbox import retry_after_seconds
from bot.persistence import SQLitePersistence
from bot.telegram_api import CURRENT_UPDATE, AuylNetBot, JSONResult
from db import inbox as stored
from db.database import Database
from db.inbox import Outcome, RecordedCall

if TYPE_CHECKING:
    from bot.app import AuylNetApp

log = logging.getLogger(__name__)

# Every kind of update Telegram can send; the handlers decide what to do with each.
ALLOWED_UPDATES: list[str] = list(Update.ALL_TYPES)
# An update found not done at this many starts is given up (it may be what kills the process).
MAX_STARTS = 5
# Updates handed to the Application at once; the rest wait in memory (and in the inbox).
HAND_OVER_WINDOW = 256
# Stored but not yet handed over: past this many, fetching pauses.
MAX_WAITING = 10_000


class CallJournal:
    """Records the Bot API calls made while handling updates (``db.inbox.open_call_journal``).

    A file of its own next to the database (``<db>.calls``), written in the same step as the call's
    answer arrives: the bot's own connection serialises every transaction behind one lock and
    fsyncs each commit, so a record queued there would wait, and the wait is when a crash repeats a
    reply. Only what the next start needs is kept: the calls of updates not yet done.
    """

    def __init__(self, db_path: str) -> None:
        self._path = ":memory:" if db_path == ":memory:" else f"{db_path}.calls"
        self._conn: sqlite3.Connection | None = None

    def open(self, keep: Sequence[int]) -> dict[int, dict[int, RecordedCall]]:
        """Open, forget all but the calls of ``keep`` (updates still to handle), and return those."""
        self._conn = stored.open_call_journal(self._path)
        stored.keep_calls_of(self._conn, keep)
        return {update_id: stored.recorded_calls(self._conn, update_id) for update_id in keep}

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def record(self, update_id: int, seq: int, endpoint: str, chat_id: str | None, result: Any) -> None:
        if self._conn is None:
            return
        try:
            stored.record_call(self._conn, update_id, seq, endpoint, chat_id, result)
        except sqlite3.Error:
            log.exception("could not record a call of update %d; a crash now may repeat it", update_id)

    def forget(self, update_ids: Sequence[int]) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                stored.forget_calls(self._conn, update_ids)


@dataclass
class UpdateCalls:
    """The calls of one update being handled: recorded, or answered from an earlier run's record."""

    update_id: int
    journal: CallJournal
    earlier: dict[int, RecordedCall]
    next_seq: int = 0

    def begin(self, endpoint: str, chat_id: str | None) -> tuple[int, JSONResult | None]:
        seq = self.next_seq
        self.next_seq += 1
        call = self.earlier.pop(seq, None)
        if call is not None and (call.endpoint, call.chat_id) == (endpoint, chat_id):
            return seq, call.result
        # The handler took another path this time: from here on every call is made for real.
        self.earlier.clear()
        return seq, None

    def record(self, seq: int, endpoint: str, chat_id: str | None, result: JSONResult) -> None:
        self.journal.record(self.update_id, seq, endpoint, chat_id, result)


@dataclass
class _Arrival:
    updates: list[tuple[int, str, Update]]
    stored: asyncio.Future[int]


class Inbox:
    """Stores updates before they are confirmed, hands them to the Application, marks them done."""

    def __init__(self, application: AuylNetApp, *, window: int = HAND_OVER_WINDOW) -> None:
        self._app = application
        persistence = application.persistence
        if not isinstance(persistence, SQLitePersistence):
            raise TypeError("the inbox needs the application's SQLitePersistence")
        self._persistence = persistence
        self._window = window
        self._waiting: deque[Update] = deque()
        self._running: dict[int, asyncio.Task[None]] = {}
        self._finished: list[tuple[int, Outcome]] = []
        self._errors: set[int] = set()
        self._arrivals: list[_Arrival] = []
        self._storer: asyncio.Task[None] | None = None
        self._tick: asyncio.Task[None] | None = None
        self._accepting = False
        self._room = asyncio.Event()
        self._room.set()
        self._journal = CallJournal(str(application.bot_data.config.db_path))
        self._earlier_calls: dict[int, dict[int, RecordedCall]] = {}
        self.handled = 0

    @property
    def _db(self) -> Database:
        return self._app.bot_data.db

    # --- lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> int:
        """Register with the Application and hand over what a previous run left undone; how many."""
        self._app.add_error_handler(self._note_error)
        self._persistence.add_rider(self)
        async with self._db.transaction() as conn:
            undone = await stored.start_over(conn)
            given_up: list[tuple[int, Outcome]] = [
                (u.update_id, "abandoned") for u in undone if u.attempts > MAX_STARTS
            ]
            if given_up:
                await stored.mark_done(conn, given_up, self._app.bot_data.clock.now())
        self._earlier_calls = self._journal.open([u.update_id for u in undone if u.attempts <= MAX_STARTS])
        for update_id, _ in given_up:
            log.warning("update %d was not handled in %d starts; given up", update_id, MAX_STARTS)
        resumed = 0
        for row in undone:
            if row.attempts > MAX_STARTS:
                continue
            try:
                update = Update.de_json(json.loads(row.payload), self._app.bot)
            except Exception:
                log.exception("stored update %d cannot be read; given up", row.update_id)
                self._finished.append((row.update_id, "abandoned"))
                continue
            self._waiting.append(update)
            resumed += 1
        if resumed:
            log.info("inbox: %d update(s) not handled before the last stop are handled now", resumed)
        self._accepting = True
        self._tick = asyncio.create_task(self._keep_up(), name="inbox-tick")
        self._pump()
        return resumed

    async def stop(self, timeout: float) -> None:
        """Take no more updates; let running handlers finish within ``timeout``; save done marks.

        Updates not yet handed over, and handlers still running after ``timeout`` (cancelled),
        stay undone in the inbox and are handled after the next start.
        """
        self._accepting = False
        left = len(self._waiting)
        self._waiting.clear()
        running = list(self._running.values())
        late: set[asyncio.Task[None]] = set()
        if running:
            _, late = await asyncio.wait(running, timeout=timeout)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self._tick is not None:
            self._tick.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tick
        await self._app.update_persistence()
        await self._persistence.flush()
        self._journal.close()
        log.info(
            "inbox stopped: %d handled, %d cut short, %d not started (both handled after the restart)",
            self.handled,
            len(late),
            left,
        )

    async def _keep_up(self) -> None:
        """Retry done marks a failed write gave back; forget handled updates after a few days."""
        last_purge = 0.0
        while True:
            await asyncio.sleep(1.0)
            if self._finished:
                self._persistence.write_soon()
            if time.monotonic() - last_purge > 3600:
                last_purge = time.monotonic()
                try:
                    async with self._db.transaction() as conn:
                        await stored.purge_done(conn, self._app.bot_data.clock.now() - stored.RETENTION)
                except Exception:
                    log.exception("inbox: clearing out old rows failed")

    # --- receiving -----------------------------------------------------------------------------------
    @property
    def accepting(self) -> bool:
        return self._accepting

    async def wait_for_room(self) -> None:
        await self._room.wait()

    async def receive(self, updates: Sequence[Update], payloads: Sequence[Any] | None = None) -> int:
        """Store a batch from getUpdates; returns how many were new. Confirm only after this returns.

        ``payloads`` are the updates as Telegram sent them (stored as they came when given).
        """
        raw = {payload.get("update_id"): payload for payload in payloads or () if isinstance(payload, dict)}
        return await self._store(
            [
                (
                    u.update_id,
                    json.dumps(raw[u.update_id], ensure_ascii=False) if u.update_id in raw else u.to_json(),
                    u,
                )
                for u in updates
            ]
        )

    async def receive_json(self, payload: dict[str, Any], raw: str) -> int:
        """Store one update POSTed to the webhook (``raw`` is stored as it came)."""
        update = Update.de_json(payload, self._app.bot)
        return await self._store([(update.update_id, raw, update)])

    async def _store(self, updates: list[tuple[int, str, Update]]) -> int:
        # Concurrent arrivals (webhook requests) share one transaction: one fsync for all of them.
        arrival = _Arrival(updates, asyncio.get_running_loop().create_future())
        self._arrivals.append(arrival)
        if self._storer is None or self._storer.done():
            self._storer = asyncio.create_task(self._store_arrivals(), name="inbox-store")
        return await arrival.stored

    async def _store_arrivals(self) -> None:
        while self._arrivals:
            batch, self._arrivals = self._arrivals, []
            entries = [entry for arrival in batch for entry in arrival.updates]
            try:
                async with self._db.transaction() as conn:
                    new = set(
                        await stored.store(
                            conn, [(i, payload) for i, payload, _ in entries], self._app.bot_data.clock.now()
                        )
                    )
            except Exception as error:
                for arrival in batch:
                    if not arrival.stored.done():
                        arrival.stored.set_exception(error)
                continue
            handed: set[int] = set()
            for update_id, _, update in sorted(entries, key=lambda entry: entry[0]):
                if update_id in new and update_id not in handed:  # the same update twice: once
                    handed.add(update_id)
                    self._waiting.append(update)
            for arrival in batch:
                if not arrival.stored.done():
                    arrival.stored.set_result(sum(1 for i, _, _ in arrival.updates if i in new))
            if len(self._waiting) >= MAX_WAITING:
                self._room.clear()
            self._pump()

    # --- handling ------------------------------------------------------------------------------------
    def _pump(self) -> None:
        while self._accepting and self._waiting and len(self._running) < self._window:
            update = self._waiting.popleft()
            if update.update_id in self._running:
                continue
            self._running[update.update_id] = asyncio.create_task(
                self._handle(update), name=f"update-{update.update_id}"
            )
        if len(self._waiting) < MAX_WAITING:
            self._room.set()

    async def _handle(self, update: Update) -> None:
        started = time.perf_counter()
        outcome: Outcome = "ok"
        # This task's context: the bot's calls made while handling it are recorded (or answered).
        CURRENT_UPDATE.set(
            UpdateCalls(update.update_id, self._journal, self._earlier_calls.pop(update.update_id, {}))
        )
        try:
            await self._app.update_processor.process_update(update, self._app.process_update(update))
        except Exception:
            log.exception("update %d could not be processed", update.update_id)
            outcome = "error"
        finally:
            self._running.pop(update.update_id, None)
        if update.update_id in self._errors:
            self._errors.discard(update.update_id)
            outcome = "error"
        # In the same step as the handlers' return, before anything else can run: whatever
        # conversation state they set is written together with this mark (see Rider).
        self._finished.append((update.update_id, outcome))
        self.handled += 1
        elapsed_ms = (time.perf_counter() - started) * 1000
        user = update.effective_user
        kind = update_kind(update)
        log.info(
            "update handled: update_id=%d user_id=%s kind=%s outcome=%s ms=%.0f",
            update.update_id,
            user.id if user else "-",
            kind,
            outcome,
            elapsed_ms,
            extra={
                "update_id": update.update_id,
                "user_id": user.id if user else None,
                "kind": kind,
                "outcome": outcome,
                "ms": round(elapsed_ms),
            },
        )
        self._pump()
        await self._app.update_persistence()
        self._persistence.write_soon()

    async def _note_error(self, update: object, context: BotContext) -> None:
        """An error handler of its own: the update's outcome is "error" (the log says why)."""
        if isinstance(update, Update):
            self._errors.add(update.update_id)

    # --- the persistence rider: done marks in the conversation states' transaction ------------------
    def take(self) -> object | None:
        if not self._finished:
            return None
        taken, self._finished = self._finished, []
        return taken

    async def write(self, conn: aiosqlite.Connection, taken: object) -> None:
        assert isinstance(taken, list)
        await stored.mark_done(conn, taken, self._app.bot_data.clock.now())

    def give_back(self, taken: object) -> None:
        assert isinstance(taken, list)
        self._finished = taken + self._finished

    def settled(self, taken: object) -> None:
        """The done marks are committed: the updates' recorded calls are not needed any more."""
        assert isinstance(taken, list)
        self._journal.forget([update_id for update_id, _ in taken])


def update_kind(update: Update) -> str:
    """What kind of update this is, for the log: never what the person typed."""
    if update.callback_query is not None:
        prefix = (update.callback_query.data or "").split(":", 1)[0]
        return f"callback:{prefix[:16]}"
    message = update.message
    if message is not None:
        if message.text is not None:
            if message.text.startswith("/"):
                command = message.text.split(maxsplit=1)[0].split("@", 1)[0]
                return f"command:{command[:32]}"
            return "text"
        attachment = message.effective_attachment
        if attachment is not None:
            kind = type(attachment).__name__ if not isinstance(attachment, tuple) else "photo"
            return f"message:{kind.lower()}"
        return "message:other"
    for name in Update.ALL_TYPES:
        if getattr(update, name, None) is not None:
            return str(name)
    return "unknown"


async def poll(inbox: Inbox, application: AuylNetApp, *, timeout: float, poll_interval: float = 0.0) -> None:
    """Fetch updates with getUpdates until cancelled: store each batch, then confirm it.

    The batch is confirmed by the next call's ``offset``, which is sent only after the batch is
    committed to the inbox. Network trouble and 5xx answers are retried with a growing pause; a
    rejected token ends the loop (the process cannot do anything useful).
    """
    bot = application.bot
    async with application.bot_data.db.read() as conn:
        offset = await stored.next_offset(conn)
    pause = 0.0
    while True:
        await inbox.wait_for_room()
        try:
            updates = await bot.get_updates(
                offset=offset, timeout=int(timeout), allowed_updates=ALLOWED_UPDATES
            )
        except TimedOut:
            continue  # the long poll ended without an answer; ask again
        except InvalidToken:
            log.error("Telegram rejected the bot token (AUYLNET_BOT_TOKEN); stopping")
            raise
        except RetryAfter as error:
            pause = retry_after_seconds(error)
            log.warning("getUpdates: Telegram asked to wait %.0f s", pause)
            await asyncio.sleep(pause)
            continue
        except TelegramError as error:
            pause = min(30.0, max(0.5, pause * 2))
            log.warning(
                "getUpdates failed (%s: %s); trying again in %.1f s", type(error).__name__, error, pause
            )
            await asyncio.sleep(pause)
            continue
        pause = 0.0
        if not updates:
            if poll_interval:
                await asyncio.sleep(poll_interval)
            continue
        try:
            await inbox.receive(updates, bot.take_fetched() if isinstance(bot, AuylNetBot) else None)
        except Exception:
            # Not confirmed: Telegram delivers the batch again.
            log.exception("could not store %d update(s); fetching them again", len(updates))
            await asyncio.sleep(1.0)
            continue
        offset = updates[-1].update_id + 1


async def confirm_fetched(application: AuylNetApp) -> None:
    """At a stop: confirm what is stored, so the next start does not fetch it again (best effort)."""
    async with application.bot_data.db.read() as conn:
        offset = await stored.next_offset(conn)
    if offset is None:
        return
    with contextlib.suppress(TelegramError, asyncio.TimeoutError):
        await asyncio.wait_for(application.bot.get_updates(offset=offset, timeout=0, limit=1), 5)
