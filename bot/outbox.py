"""Delivering the outbox: one worker sends every feature's notifications, within Telegram's limits.

Guarantees (details and figures in docs/outbox.md):

* per chat, rows go out oldest first and never two at a time; many chats are served at once;
* limits: the bot's rate limiter (``bot.telegram_api.TelegramLimits``) keeps the global rate, and
  the worker waits for the chat's turn in that limiter (20 a minute in a group, about one a second
  in a private chat, shared with the handlers' replies); a bot without a rate limiter gets all three
  limits from the worker itself;
* one slot, latest state: the staff group's alert for an incident is one message, edited. When the
  group's turn comes, only the newest pending state of a slot is sent; older pending rows of the
  slot become ``superseded``. An edit that would show what the message already shows is not sent;
* a slow answer is not a failure: sends wait ``send_read_timeout`` (30 s) for Telegram's answer.
  A send that reached Telegram but got no answer (read timeout, connection closed) may have been
  delivered: it is resent once, after a pause, and after a second such send the row is
  ``unconfirmed``, not sent a third time. Both are counted in ``unknown_outcomes`` and logged;
* at-least-once: a row is marked sent in the same moment Telegram's confirmation arrives; a row
  whose send was under way when the process died is sent again after the restart. At most
  ``max_in_flight`` rows can be in that state, which bounds the duplicates a crash can cause.

Run it on its own with ``python -m bot.outbox --db PATH --api-url URL --token TOKEN``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import enum
import hashlib
import importlib
import json
import logging
import random
import signal
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram import Bot, InputFile, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from bot.clock import Clock
from bot.config import Language, Settings
from bot.http import AiohttpRequest, answer_may_be_lost
from bot.i18n import pick_language, translator
from bot.notify import Rendered, render
from bot.telegram_api import AuylNetBot, TelegramLimits, Throttle, file_base_url
from db import outbox
from db.database import Database
from db.outbox import OutboxMessage, SlotView

log = logging.getLogger(__name__)

DEFAULT_MAX_IN_FLIGHT = 32
MAX_CAPTION = 1024  # Telegram's limit for a photo's or a file's caption
DEFAULT_MAX_CHATS = 512
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@dataclass(frozen=True)
class RetryPolicy:
    """Back-off for transient failures (network errors, timeouts, Telegram's 5xx).

    The n-th failure waits between half and all of ``base_delay * 2**(n-1)`` (capped at
    ``max_delay``): "equal jitter", so a burst of failures does not come back as a burst, yet every
    wait is at least half the nominal one. After ``max_attempts`` failed attempts the row is parked
    as ``failed``. With the defaults a row keeps trying for about 4 to 8.5 minutes.

    A send whose outcome is unknown (it reached Telegram, no answer came) is not a failure: it is
    resent once after ``unknown_outcome_pause`` seconds.
    """

    max_attempts: int = 8
    base_delay: float = 4.0
    max_delay: float = 600.0
    unknown_outcome_pause: float = 10.0

    def delay(self, failures: int, rng: random.Random) -> float:
        """Seconds to wait after the ``failures``-th failed attempt."""
        nominal = min(self.max_delay, self.base_delay * 2.0 ** (failures - 1))
        return nominal / 2 + rng.uniform(0, nominal / 2)


class Verdict(enum.Enum):
    """What a Telegram error means for the row that caused it."""

    RATE_LIMITED = "rate limited"  # wait retry_after, then again; not a failure
    TRANSIENT = "transient"  # back off and retry, up to the policy's limit
    PERMANENT = "permanent"  # retrying the same request cannot help: park as failed
    UNREACHABLE = "unreachable"  # the recipient blocked us or the chat is gone: drop the chat's rows


# BadRequest descriptions that mean the chat itself can no longer receive from this bot.
_UNREACHABLE_MARKERS = (
    "chat not found",
    "user not found",
    "peer_id_invalid",
    "bot was kicked",
    "bot is not a member",
    "have no rights to send",
    "not enough rights to send",
)


def classify(error: TelegramError) -> Verdict:
    # Order matters: BadRequest and TimedOut are both NetworkError subclasses in PTB.
    if isinstance(error, RetryAfter):
        return Verdict.RATE_LIMITED
    if isinstance(error, Forbidden):
        return Verdict.UNREACHABLE
    if isinstance(error, ChatMigrated):
        # The feature that stored the old group id must move it; resending to it fails forever.
        return Verdict.PERMANENT
    if isinstance(error, BadRequest):
        text = error.message.lower()
        if any(marker in text for marker in _UNREACHABLE_MARKERS):
            return Verdict.UNREACHABLE
        return Verdict.PERMANENT
    if isinstance(error, NetworkError):
        return Verdict.TRANSIENT
    # InvalidToken, Conflict and the like: configuration trouble an operator can fix, so retry.
    return Verdict.TRANSIENT


def retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():
        # PTB 22 warns that the int form will become a timedelta; accept either.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def outcome_unknown(error: TelegramError) -> bool:
    """The request was written to Telegram but no answer came: it may or may not have been done.

    A read timeout, or the connection closed before the answer. A connect or pool timeout, a
    refused connection, or an error answer mean it was not done.
    """
    return answer_may_be_lost(error)


class _SendUnanswered(Exception):
    """A new message was sent but Telegram's answer never came (see :func:`outcome_unknown`)."""

    def __init__(self, error: TelegramError) -> None:
        super().__init__(str(error))
        self.error = error


def shown_hash(rendered: Rendered) -> str:
    """What a message shows, as a short hash: text and buttons."""
    markup = rendered.keyboard.to_dict() if rendered.keyboard is not None else None
    content = json.dumps([rendered.text, markup], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(content.encode()).hexdigest()[:32]


def _not_modified(error: BadRequest) -> bool:
    return "message is not modified" in error.message.lower()


def _edit_target_gone(error: BadRequest) -> bool:
    text = error.message.lower()
    return "message to edit not found" in text or "message can't be edited" in text


def whole_second_after(moment: datetime, seconds: float) -> datetime:
    """``moment + seconds`` rounded up: next_attempt is stored with whole seconds, and rounding
    down would retry before Telegram's retry_after has passed."""
    target = moment + timedelta(seconds=seconds)
    if target.microsecond:
        target = target.replace(microsecond=0) + timedelta(seconds=1)
    return target


def build_outbox_bot(settings: Settings, *, max_in_flight: int = DEFAULT_MAX_IN_FLIGHT) -> AuylNetBot:
    """A bot for a worker running outside the Application (``python -m bot.outbox``, benchmarks).

    ``max_retries=0``: the worker handles RetryAfter itself. PTB's retry would stop *every*
    request of the bot for retry_after, although most 429s concern one chat; the worker instead
    postpones only that chat, records the wait in the database (so it survives a restart) and
    keeps the other chats going. Inside the Application the shared bot may have retries enabled;
    the worker then sees only the RetryAfter that PTB gave up on, and handles it the same way.
    """
    return AuylNetBot(
        settings.bot_token.get_secret_value(),
        base_url=settings.api_base_url,
        base_file_url=file_base_url(settings.api_base_url),
        # The default pool of one connection would queue the worker's concurrent sends behind each
        # other and time them out.
        request=AiohttpRequest(
            connection_pool_size=max_in_flight + 4,
            pool_timeout=30.0,
            read_timeout=settings.send_read_timeout,
        ),
        rate_limiter=TelegramLimits(
            # The same rate, but a bucket only a tenth of a second deep: a full second's burst at
            # the start gets compressed on the way (connections opening, scheduling) and arrives
            # faster than Telegram's bucket refills, which shows up as a stray 429.
            overall_per_second=settings.rate_global_per_second,
            overall_period=0.1,
            group_per_minute=settings.rate_group_per_minute,
            max_retries=0,
        ),
    )


@dataclass(frozen=True)
class _Prepared:
    message: OutboxMessage
    rendered: Rendered
    slot: int | None  # the message to edit
    hash: str


class OutboxWorker:
    """Delivers pending outbox rows until stopped.

    Start it after the database is open and the bot initialised; call :meth:`wake` after a
    transaction that enqueued something commits (from the event loop's thread); :meth:`stop`
    before closing the database. It also polls every ``poll_interval`` seconds, so a row queued by
    another process, or a retry that comes due, is not forgotten.
    """

    def __init__(
        self,
        bot: Bot,
        db: Database,
        settings: Settings,
        clock: Clock,
        *,
        policy: RetryPolicy | None = None,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        max_chats: int = DEFAULT_MAX_CHATS,
        poll_interval: float = 5.0,
        rng: random.Random | None = None,
    ) -> None:
        self._bot = bot
        self._db = db
        self._settings = settings
        self._clock = clock
        self.policy = policy or RetryPolicy()
        self.max_in_flight = max_in_flight
        self._max_chats = max_chats
        self._poll_interval = poll_interval
        self._rng = rng or random.Random()
        # Bounds the rows that are at Telegram but not yet marked sent: the crash-duplicate bound.
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self._lanes: dict[int, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self._dispatcher: asyncio.Task[None] | None = None
        self._private_period = 1 / settings.rate_private_per_second
        self._private_limiters: dict[int, AsyncLimiter] = {}
        self._last_prune = time.monotonic()
        # A bot with a rate limiter keeps the global limit (TelegramLimits also gives the worker
        # each chat's turn); a plain Bot does not, and then the worker keeps all limits itself.
        limiter = getattr(bot, "rate_limiter", None)
        self._own_limits = limiter is None
        self._limits = limiter if isinstance(limiter, TelegramLimits) else None
        # Sends wait this long for Telegram's answer before the outcome counts as unknown.
        self.read_timeout = settings.send_read_timeout
        self._global_limiter = AsyncLimiter(settings.rate_global_per_second, 1)
        self._group_limiters: dict[int, AsyncLimiter] = {}

    # --- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        if self._dispatcher is not None:
            raise RuntimeError("outbox worker already started")
        self._stopping = False
        self._dispatcher = asyncio.create_task(self._dispatch(), name="outbox-dispatcher")
        log.info("outbox worker started")

    async def stop(self, timeout: float = 30.0) -> None:
        """Stop taking rows; sends already at Telegram finish and are recorded.

        After ``timeout`` seconds the rest is cancelled; those rows stay pending and go out after
        the next start (at-least-once).
        """
        self._stopping = True
        self._wake.set()
        if self._dispatcher is not None:
            await self._dispatcher
            self._dispatcher = None
        lanes = list(self._lanes.values())
        if lanes:
            _, late = await asyncio.wait(lanes, timeout=timeout)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        log.info("outbox worker stopped")

    def wake(self) -> None:
        """New rows were committed: look now instead of at the next poll."""
        self._wake.set()

    @property
    def busy_chats(self) -> int:
        return len(self._lanes)

    @property
    def running(self) -> bool:
        """Started and its dispatcher alive (the health check reports it)."""
        return self._dispatcher is not None and not self._dispatcher.done() and not self._stopping

    # --- choosing work -------------------------------------------------------------------------
    async def _dispatch(self) -> None:
        # Refill only when a useful share of chat lanes is free, so that while thousands of chats
        # drain the head query does not run once per finished chat.
        refill_at = max(1, self._max_chats // 8)
        while not self._stopping:
            self._wake.clear()
            timeout = self._poll_interval
            try:
                now = self._clock.now()
                free = self._max_chats - len(self._lanes)
                async with self._db.read() as conn:
                    heads = []
                    if free >= refill_at or not self._lanes:
                        # Active chats' heads come first (they are the oldest): ask for enough rows.
                        heads = await outbox.due_heads(conn, now, len(self._lanes) + free)
                    upcoming = await outbox.next_due_at(conn, now)
                for head in heads:
                    if len(self._lanes) >= self._max_chats:
                        break
                    if head.chat_id not in self._lanes:
                        self._lanes[head.chat_id] = asyncio.create_task(
                            self._serve_chat(head), name=f"outbox-chat-{head.chat_id}"
                        )
                if upcoming is not None:
                    timeout = min(timeout, max(0.0, (upcoming - now).total_seconds()) + 0.01)
                self._prune_limiters()
            except Exception:
                log.exception("outbox dispatcher failed; trying again at the next poll")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def _serve_chat(self, first: OutboxMessage) -> None:
        """Deliver one chat's due rows in order, one at a time."""
        chat_id = first.chat_id
        message: OutboxMessage | None = first
        try:
            while message is not None and not self._stopping:
                if not await self._deliver(message):
                    break
                async with self._db.read() as conn:
                    message = await outbox.chat_head(conn, chat_id, self._clock.now())
        except Exception as error:
            log.exception("outbox: delivering to chat %s failed", chat_id)
            if message is not None:
                # Count it as a failed attempt, so a row that always crashes the worker ends up
                # parked instead of being picked again at once, forever.
                with contextlib.suppress(Exception):
                    await self._record_failure(message, f"worker error: {error!r}")
        finally:
            self._lanes.pop(chat_id, None)
            self._wake.set()

    # --- delivering one row ----------------------------------------------------------------------
    async def _deliver(self, message: OutboxMessage) -> bool:
        """Send (or edit) one row; True when the chat's next row may follow right away."""
        async with self._db.read() as conn:
            recipient = await outbox.recipient(conn, message.chat_id)
        if recipient.blocked:
            # Telegram would answer 403 anyway; the flag clears when the person writes again.
            async with self._db.transaction() as conn:
                await outbox.drop_recipient(conn, message.chat_id, reason="recipient has blocked the bot")
            self._log_send(message, "dropped")
            return False
        # Rendered now, in the language the recipient has now, not the one at enqueue time.
        # Someone who never chose a language hears in the one Telegram suggests, as at first contact.
        language = recipient.language or pick_language(
            recipient.telegram_language, self._settings.default_language
        )
        prepared = await self._prepare(message, language)
        if prepared is None:
            return True
        await self._pace(message.chat_id)
        async with self._in_flight:
            if self._stopping:
                return False  # not at Telegram yet: leave it pending for the next start
            if message.slot is not None:
                # The wait for the chat's turn may have brought newer states of this slot.
                prepared = await self._prepare(prepared.message, language)
                if prepared is None:
                    return True
            message = prepared.message
            if self._own_limits:
                await self._global_limiter.acquire()
            try:
                message_id, edited = await self._send(message, prepared.rendered, prepared.slot)
            except _SendUnanswered as unanswered:
                return await self._record_unknown_outcome(message, unanswered.error)
            except TelegramError as error:
                return await self._handle_error(message, error)
            # Recorded before the in-flight slot is released: what the bound counts.
            async with self._db.transaction() as conn:
                await outbox.mark_sent(
                    conn, message, now=self._clock.now(), message_id=message_id, shown_hash=prepared.hash
                )
        self._log_send(message, "edited" if edited else "sent")
        return True

    async def _prepare(self, message: OutboxMessage, language: Language) -> _Prepared | None:
        """The row to send now (the newest state of its slot), rendered; None when nothing is to send.

        Nothing is sent for a row that cannot be rendered (parked as failed), nor for an edit that
        would show exactly what the slot's message shows (marked sent without a request).
        """
        slot: SlotView | None = None
        if message.slot is not None:
            message = await self._coalesce(message, message.slot)
            async with self._db.read() as conn:
                slot = await outbox.slot_view(conn, message.slot or "", message.chat_id)
        try:
            rendered = render(message.kind, translator(language), message.params)
        except Exception as error:
            # A missing renderer or a bad parameter: the same row will fail the same way again.
            log.error("outbox row %s (%s) cannot be rendered: %r", message.id, message.kind, error)
            async with self._db.transaction() as conn:
                await outbox.record_failure(conn, message.id, error=f"render: {error!r}", retry_at=None)
            self._log_send(message, "failed")
            return None
        digest = shown_hash(rendered)
        if slot is not None and slot.shown_hash == digest:
            async with self._db.transaction() as conn:
                await outbox.mark_sent(
                    conn, message, now=self._clock.now(), message_id=slot.message_id, shown_hash=digest
                )
            self._log_send(message, "unchanged")
            return None
        return _Prepared(message, rendered, slot.message_id if slot else None, digest)

    async def _coalesce(self, message: OutboxMessage, slot: str) -> OutboxMessage:
        """The newest pending row of the slot in this chat; the older ones are superseded by it."""
        async with self._db.read() as conn:
            newest = await outbox.newest_in_slot(conn, slot, message.chat_id)
        if newest is None or newest.id == message.id:
            return message
        async with self._db.transaction() as conn:
            count = await outbox.supersede(conn, newest)
        log.info(
            "outbox: %d older state(s) of %s in chat %s superseded by row %d",
            count,
            slot,
            message.chat_id,
            newest.id,
        )
        return newest

    def _log_send(self, message: OutboxMessage, outcome: str) -> None:
        log.info(
            "outbox send: row_id=%d chat_id=%d kind=%s outcome=%s",
            message.id,
            message.chat_id,
            message.kind,
            outcome,
            extra={
                "row_id": message.id,
                "chat_id": message.chat_id,
                "kind": message.kind,
                "outcome": outcome,
            },
        )

    async def _pace(self, chat_id: int) -> None:
        if chat_id > 0:
            # Notifications to one person: one a second, no burst (a reply may burst, not these).
            limiter = self._private_limiters.get(chat_id)
            if limiter is None:
                limiter = self._private_limiters[chat_id] = AsyncLimiter(1, self._private_period)
            await limiter.acquire()
        if self._limits is not None:
            # The bot's own budget for the chat, shared with the handlers' replies to it.
            await self._limits.chat_turn(chat_id)
        elif chat_id < 0 and self._own_limits:
            group = self._group_limiters.get(chat_id)
            if group is None:
                group = self._group_limiters[chat_id] = AsyncLimiter(self._settings.rate_group_per_minute, 60)
            await group.acquire()

    def _prune_limiters(self) -> None:
        """Forget limiters of chats that are idle and whose pacing has run out."""
        if time.monotonic() - self._last_prune < 10:
            return
        self._last_prune = time.monotonic()
        for limiters in (self._private_limiters, self._group_limiters):
            for chat_id, limiter in list(limiters.items()):
                if chat_id not in self._lanes and limiter.has_capacity(limiter.max_rate):
                    del limiters[chat_id]

    async def _send(
        self, message: OutboxMessage, rendered: Rendered, slot_target: int | None
    ) -> tuple[int, bool]:
        """(the message id now showing this row, whether an existing message was edited).

        An edit that gets no answer is simply tried again later (an edit sent twice shows the
        same); a new message that reached Telegram unanswered raises :class:`_SendUnanswered`.
        """
        # The worker already waited for the chat's turn; the rate limiter must not wait again.
        throttle: dict[str, Any] = (
            {"rate_limit_args": Throttle(turn_taken=True)} if self._limits is not None else {}
        )
        if slot_target is not None:
            try:
                await self._bot.edit_message_text(
                    rendered.text,
                    chat_id=message.chat_id,
                    message_id=slot_target,
                    reply_markup=rendered.keyboard,
                    parse_mode=ParseMode.HTML,
                    link_preview_options=_NO_PREVIEW,
                    read_timeout=self.read_timeout,
                    **throttle,
                )
                return slot_target, True
            except BadRequest as error:
                if _not_modified(error):
                    return slot_target, True  # it already shows exactly this
                if not _edit_target_gone(error):
                    raise
                log.info("outbox: slot %s in chat %s is gone; sending anew", message.slot, message.chat_id)
        try:
            sent = await self._send_new(message, rendered, throttle)
        except TelegramError as error:
            if outcome_unknown(error):
                raise _SendUnanswered(error) from error
            raise
        return sent.message_id, False

    async def _send_new(
        self, message: OutboxMessage, rendered: Rendered, throttle: dict[str, Any]
    ) -> Message:
        """A new message: text, a photo with its caption, a map pin or a file; a reply when asked."""
        common: dict[str, Any] = {"read_timeout": self.read_timeout, **throttle}
        if rendered.reply_to_slot is not None:
            async with self._db.read() as conn:
                answered = await outbox.slot_message_id(conn, rendered.reply_to_slot, message.chat_id)
            if answered is not None:
                common["reply_parameters"] = ReplyParameters(answered, allow_sending_without_reply=True)
        if rendered.location is not None:
            latitude, longitude = rendered.location
            return await self._bot.send_location(
                message.chat_id, latitude, longitude, reply_markup=rendered.keyboard, **common
            )
        caption = rendered.text[:MAX_CAPTION]
        if rendered.photo is not None:
            return await self._bot.send_photo(
                message.chat_id,
                rendered.photo,
                caption=caption,
                parse_mode=ParseMode.HTML,
                reply_markup=rendered.keyboard,
                **common,
            )
        if rendered.document is not None:
            name, content = rendered.document
            return await self._bot.send_document(
                message.chat_id,
                InputFile(content, filename=name),
                caption=caption,
                parse_mode=ParseMode.HTML,
                reply_markup=rendered.keyboard,
                **common,
            )
        return await self._bot.send_message(
            message.chat_id,
            rendered.text,
            reply_markup=rendered.keyboard,
            parse_mode=ParseMode.HTML,
            link_preview_options=_NO_PREVIEW,
            **common,
        )

    async def _record_unknown_outcome(self, message: OutboxMessage, error: TelegramError) -> bool:
        """Resend once after a pause; after a second unanswered send, stop (``unconfirmed``)."""
        cause = type(error.__cause__).__name__
        if message.unknown_outcomes == 0:
            retry_at: datetime | None = whole_second_after(
                self._clock.now(), self.policy.unknown_outcome_pause
            )
            log.warning(
                "outbox row %d to chat %d: sent, but no answer from Telegram (%s); it may have been"
                " delivered; resending once in %.0f s",
                message.id,
                message.chat_id,
                cause,
                self.policy.unknown_outcome_pause,
            )
            outcome = "unknown, resend"
        else:
            retry_at = None
            log.warning(
                "outbox row %d to chat %d: sent twice, no answer either time (%s); not sent again",
                message.id,
                message.chat_id,
                cause,
            )
            outcome = "unconfirmed"
        async with self._db.transaction() as conn:
            await outbox.record_unknown_outcome(
                conn,
                message.id,
                error=f"no answer from Telegram ({cause}); it may have been delivered",
                retry_at=retry_at,
                now=self._clock.now(),
            )
        self._log_send(message, outcome)
        return retry_at is None  # a resend holds back the chat's later rows, to keep their order

    async def _handle_error(self, message: OutboxMessage, error: TelegramError) -> bool:
        verdict = classify(error)
        now = self._clock.now()
        if verdict is Verdict.RATE_LIMITED:
            assert isinstance(error, RetryAfter)
            wait = retry_after_seconds(error)
            log.info("outbox: chat %s rate limited for %.0f s", message.chat_id, wait)
            async with self._db.transaction() as conn:
                await outbox.postpone(
                    conn, message.id, until=whole_second_after(now, wait), error=f"429: {error.message}"
                )
            self._log_send(message, "rate limited")
            return False  # the chat's later rows wait behind this one
        if verdict is Verdict.UNREACHABLE:
            log.info("outbox: chat %s unreachable (%s); dropping its queue", message.chat_id, error.message)
            async with self._db.transaction() as conn:
                await outbox.drop_recipient(conn, message.chat_id, reason=error.message)
            self._log_send(message, "dropped")
            return False
        if verdict is Verdict.PERMANENT:
            log.warning("outbox row %s failed for good: %s", message.id, error.message)
            async with self._db.transaction() as conn:
                await outbox.record_failure(conn, message.id, error=error.message, retry_at=None)
            self._log_send(message, "failed")
            return True  # one bad row does not hold back the chat
        return await self._record_failure(message, f"{type(error).__name__}: {error.message}")

    async def _record_failure(self, message: OutboxMessage, error: str) -> bool:
        failures = message.attempts + 1
        if failures >= self.policy.max_attempts:
            log.warning("outbox row %s parked after %d attempts: %s", message.id, failures, error)
            retry_at = None
        else:
            retry_at = whole_second_after(self._clock.now(), self.policy.delay(failures, self._rng))
        async with self._db.transaction() as conn:
            await outbox.record_failure(conn, message.id, error=error, retry_at=retry_at)
        self._log_send(message, "failed" if retry_at is None else "retry")
        return retry_at is None


# --- running on its own ------------------------------------------------------------------------
def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.outbox", description="Deliver the outbox.")
    parser.add_argument("--db", help="database file (default: settings)")
    parser.add_argument("--api-url", help="Bot API base URL ending in /bot (default: settings)")
    parser.add_argument("--token", help="bot token (default: settings)")
    parser.add_argument("--global-rate", type=float, help="messages per second for the whole bot")
    parser.add_argument("--max-in-flight", type=int, default=DEFAULT_MAX_IN_FLIGHT)
    parser.add_argument(
        "--renderers",
        action="append",
        help="module that registers notification renderers (repeatable; default: handlers)",
    )
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> None:
    overrides: dict[str, Any] = {}
    if args.db:
        overrides["db_path"] = args.db
    if args.api_url:
        overrides["api_base_url"] = args.api_url
    if args.token:
        overrides["bot_token"] = args.token
    if args.global_rate:
        overrides["rate_global_per_second"] = args.global_rate
    settings = Settings(**overrides)
    for module in args.renderers or ["handlers"]:
        importlib.import_module(module)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    db = await Database.open(settings.db_path)
    try:
        bot = build_outbox_bot(settings, max_in_flight=args.max_in_flight)
        async with bot:
            worker = OutboxWorker(bot, db, settings, Clock(), max_in_flight=args.max_in_flight)
            await worker.start()
            print("outbox worker ready", flush=True)
            await stop.wait()
            await worker.stop()
    finally:
        await db.close()


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # With max_retries=0 PTB logs every 429 it hands back as an ERROR with a traceback; the worker
    # logs the same event once, at INFO, with the chat and the wait.
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    asyncio.run(run(_arguments(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
