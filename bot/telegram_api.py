"""How AuylNet talks to the Bot API: timeouts, what is throttled, and callback answers.

**What Telegram limits, and so what is throttled here** (details and sources in docs/runtime.md):

* sending a message (``send*`` except ``sendChatAction``, ``copyMessage``, ``forwardMessage``):
  about 30 a second for the whole bot, 20 a minute in one group, about 1 a second in one chat
  with short bursts allowed;
* editing a message: the per-chat limits, and 20 edits a minute in one group;
* not limited: answering a button (``answerCallbackQuery``), ``getUpdates`` and ``setWebhook``,
  reading (``getMe``, ``getChat``, ``getFile``), chat actions, deleting a message.

PTB's ``AIORateLimiter`` puts every call that names a chat through the global limiter, has no
per-private-chat limit, and one 429 holds back every request of the bot, ``getUpdates`` and button
answers included. The limiter here throttles only sends (globally, and per chat: a burst of 3 then
one a second in a private chat, 20 a minute in a group) and group edits (per group); a 429 holds
back only the chat it came from.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from aiolimiter import AsyncLimiter
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.error import BadRequest, RetryAfter
from telegram.ext import BaseRateLimiter, Defaults, ExtBot

from bot.config import Settings
from bot.http import AiohttpRequest

log = logging.getLogger(__name__)

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]
_NOT_SENDS = frozenset({"sendChatAction"})
_SENDS_BESIDES = frozenset({"copyMessage", "copyMessages", "forwardMessage", "forwardMessages"})
# Connections for concurrent requests: handlers of up to 64 updates at once and 32 outbox sends.
CONNECTION_POOL_SIZE = 256


def is_send(endpoint: str) -> bool:
    """A call that puts a new message into a chat: what Telegram's message limits count."""
    return (endpoint.startswith("send") and endpoint not in _NOT_SENDS) or endpoint in _SENDS_BESIDES


def is_edit(endpoint: str) -> bool:
    return endpoint.startswith("editMessage")


def group_chat(chat_id: object) -> int | str | None:
    """The chat id when it is a group, supergroup or channel (negative, or an @username)."""
    if isinstance(chat_id, str):
        with contextlib.suppress(ValueError):
            chat_id = int(chat_id)
    if isinstance(chat_id, str) or (isinstance(chat_id, int) and chat_id < 0):
        return chat_id
    return None


@dataclass(frozen=True)
class Throttle:
    """``rate_limit_args`` for one request.

    ``turn_taken``: the caller already waited for the chat's turn with
    :meth:`TelegramLimits.chat_turn` (the outbox worker does, to choose what to send only once the
    chat may receive it).
    """

    turn_taken: bool = False


# A private chat: about one message a second, "short bursts" allowed (Telegram's Bot FAQ).
PRIVATE_BURST = 3


class TelegramLimits(BaseRateLimiter[Throttle | None]):
    """Keeps Telegram's message limits: sends globally and per chat, edits per group.

    A 429 (``RetryAfter``) holds back only the chat it came from, for the time Telegram asked; the
    request is retried up to ``max_retries`` times.
    """

    def __init__(
        self,
        *,
        overall_per_second: float,
        group_per_minute: float,
        private_per_second: float = 1.0,
        overall_period: float = 1.0,
        max_retries: int = 0,
    ) -> None:
        # A bucket ``overall_period`` deep: the same rate, a smaller burst when the period is short.
        self._overall = AsyncLimiter(overall_per_second * overall_period, overall_period)
        self._group_per_minute = group_per_minute
        self._private_period = PRIVATE_BURST / private_per_second
        self._chats: dict[int | str, AsyncLimiter] = {}
        self._paused_until: dict[int | str, float] = {}
        self._max_retries = max_retries

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def _chat(self, chat_id: int | str) -> AsyncLimiter:
        if len(self._chats) > 1024:
            for key, limiter in list(self._chats.items()):
                if key != chat_id and limiter.has_capacity(limiter.max_rate):
                    del self._chats[key]
                    self._paused_until.pop(key, None)
        if chat_id not in self._chats:
            if group_chat(chat_id) is not None:
                self._chats[chat_id] = AsyncLimiter(self._group_per_minute, 60)
            else:
                self._chats[chat_id] = AsyncLimiter(PRIVATE_BURST, self._private_period)
        return self._chats[chat_id]

    async def chat_turn(self, chat_id: int | str) -> None:
        """Wait until the chat may receive one more message, and take that turn."""
        await self._chat(chat_id).acquire()

    async def _wait_if_paused(self, chat_id: int | str | None) -> None:
        if chat_id is None:
            return
        # A later 429 may move the pause further out while this one waits: sleep until it holds.
        for _ in range(self._max_retries + 2):
            wait = self._paused_until.get(chat_id, 0.0) - time.monotonic()
            if wait <= 0:
                return
            await asyncio.sleep(wait)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Throttle | None,
    ) -> JSONResult:
        send, edit = is_send(endpoint), is_edit(endpoint)
        if not send and not edit:
            return await callback(*args, **kwargs)
        chat_id = _chat_key(data.get("chat_id"))
        # Sends count in every chat; edits count in groups (20 a minute), not in private chats.
        paced = chat_id is not None and (send or group_chat(chat_id) is not None)
        if rate_limit_args is not None and rate_limit_args.turn_taken:
            paced = False
        for attempt in range(self._max_retries + 1):
            try:
                if paced:
                    assert chat_id is not None
                    await self.chat_turn(chat_id)
                if send:
                    await self._overall.acquire()
                await self._wait_if_paused(chat_id)
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                wait = _seconds(error.retry_after) + 0.1
                if chat_id is not None:
                    self._paused_until[chat_id] = time.monotonic() + wait
                if attempt == self._max_retries:
                    raise
                log.info("Telegram asked to slow down in chat %s: %s waits %.1f s", chat_id, endpoint, wait)
        raise AssertionError("unreachable")


def _chat_key(chat_id: object) -> int | str | None:
    if isinstance(chat_id, int) or chat_id is None:
        return chat_id
    with contextlib.suppress(ValueError, TypeError):
        return int(str(chat_id))
    return str(chat_id)


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _query_gone(error: BadRequest) -> bool:
    text = error.message.lower()
    return "query is too old" in text or "query id is invalid" in text


class CallLog(Protocol):
    """The Bot API calls made while handling one update (kept by ``bot.inbox``)."""

    def begin(self, endpoint: str, chat_id: str | None) -> tuple[int, JSONResult | None]:
        """The call's place, and Telegram's answer when this call was already made before a crash."""

    def record(self, seq: int, endpoint: str, chat_id: str | None, result: JSONResult) -> None: ...


# The update being handled in this task, if any (set by the inbox around each update).
CURRENT_UPDATE: ContextVar[CallLog | None] = ContextVar("auylnet_current_update", default=None)


class AuylNetBot(ExtBot[Throttle | None]):
    """PTB's bot, with two differences that make handling an update again harmless.

    * A call made while handling an update is recorded with Telegram's answer (``CallLog``). When
      the update is handled again after a crash, a call that had gone through is answered from the
      record instead of being made twice: the person sees each reply once.
    * A button that can no longer be answered is not an error. Telegram refuses to answer a
      callback query twice, or after some time — when the bot was down while the button was
      pressed. The answer only stops the button's spinner; the handler's real reply must still go
      out, so the refusal is logged, not raised.
    """

    async def _do_post(
        self,
        endpoint: str,
        data: dict[str, Any],
        *,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> JSONResult:
        calls = CURRENT_UPDATE.get()
        if calls is None:
            result = await super()._do_post(
                endpoint,
                data,
                read_timeout=read_timeout,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
            )
            if endpoint == "getUpdates" and isinstance(result, list):
                self._fetched = result
            return result
        chat = data.get("chat_id")
        chat_id = str(chat) if chat is not None else None
        seq, earlier = calls.begin(endpoint, chat_id)
        if earlier is not None:
            log.info("%s to chat %s was made before the restart; not made again", endpoint, chat_id)
            return earlier
        result = await super()._do_post(
            endpoint,
            data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        calls.record(seq, endpoint, chat_id, result)
        return result

    _fetched: list[Any] | None = None

    def take_fetched(self) -> list[Any] | None:
        """The updates of the last getUpdates as Telegram sent them: stored as they came, which
        costs a fraction of serialising the parsed updates again."""
        fetched, self._fetched = self._fetched, None
        return fetched

    async def answer_callback_query(self, *args: Any, **kwargs: Any) -> bool:
        try:
            return await super().answer_callback_query(*args, **kwargs)
        except BadRequest as error:
            if not _query_gone(error):
                raise
            log.info("a button could not be answered any more (%s); carrying on", error.message)
            return False


def file_base_url(api_base_url: str) -> str:
    """``…/bot`` → ``…/file/bot``, as Telegram and the sandbox lay out file downloads."""
    root, _, _ = api_base_url.rpartition("/bot")
    return f"{root}/file/bot"


def build_bot(settings: Settings, *, defaults: Defaults | None = None, max_retries: int = 2) -> AuylNetBot:
    """The Application's bot: long read timeouts for sends, Telegram's limits, tolerant button answers.

    A read timeout means "no answer yet", not "not sent": Telegram may deliver the message and
    answer late. A short timeout turned slow answers into duplicates, so sends wait
    ``send_read_timeout`` (30 s) for their answer.
    """
    return AuylNetBot(
        settings.bot_token.get_secret_value(),
        base_url=settings.api_base_url,
        base_file_url=file_base_url(settings.api_base_url),
        request=AiohttpRequest(
            connection_pool_size=CONNECTION_POOL_SIZE,
            read_timeout=settings.send_read_timeout,
            write_timeout=20.0,
            connect_timeout=10.0,
            pool_timeout=10.0,
        ),
        # getUpdates adds its long-poll timeout to this read timeout.
        get_updates_request=AiohttpRequest(
            connection_pool_size=1, read_timeout=10.0, connect_timeout=10.0, pool_timeout=10.0
        ),
        defaults=defaults,
        rate_limiter=TelegramLimits(
            overall_per_second=settings.rate_global_per_second,
            group_per_minute=settings.rate_group_per_minute,
            private_per_second=settings.rate_private_per_second,
            max_retries=max_retries,
        ),
    )
