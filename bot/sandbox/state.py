"""Everything the sandbox remembers: bots, users, chats, messages, updates, files, faults."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import hashlib
import itertools
import random
import time
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.limits import FloodControl, Limits


class ApiError(Exception):
    """A Bot API error answer: HTTP status = error_code."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    @classmethod
    def bad_request(cls, description: str) -> ApiError:
        return cls(400, f"Bad Request: {description}")


@dataclass
class Fault:
    id: int
    kind: str  # "429", "500", "delay" (wait, then do it), "slow" (do it, then answer late), "drop"
    share: float
    method: str | None = None
    count: int | None = None
    retry_after: int = 1
    delay: float = 1.0

    def applies(self, method: str, rng: random.Random) -> bool:
        if self.method is not None and self.method != method:
            return False
        if self.count is not None and self.count <= 0:
            return False
        if rng.random() >= self.share:
            return False
        if self.count is not None:
            self.count -= 1
        return True


@dataclass
class CallbackQueryState:
    """A pressed button: whether and when the bot answered it or edited the pressed message."""

    chat_id: int
    message_id: int
    pressed_at: float  # time.monotonic()
    answered: bool = False
    text: str | None = None
    show_alert: bool = False
    url: str | None = None
    answered_at: float | None = None
    edited_at: float | None = None
    signal: asyncio.Event = field(default_factory=asyncio.Event)

    def handled_after(self) -> float | None:
        """Seconds from the press to the first answer or edit of the pressed message, if any."""
        handled = [moment for moment in (self.answered_at, self.edited_at) if moment is not None]
        return min(handled) - self.pressed_at if handled else None

    def unhandled_within(self, window: float, now: float) -> bool:
        """True once ``window`` seconds passed without an answer or an edit of the pressed message."""
        after = self.handled_after()
        return after > window if after is not None else now - self.pressed_at > window


@dataclass
class StoredFile:
    file_id: str
    unique_id: str
    path: str
    data: bytes
    name: str
    mime: str


@dataclass
class Webhook:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class BotState:
    id: int
    token: str
    username: str
    first_name: str = "AuylNet"
    updates: list[dict[str, Any]] = field(default_factory=list)
    next_update_id: int = 1
    commands: dict[tuple[str, str], list[dict[str, str]]] = field(default_factory=dict)
    webhook: Webhook | None = None
    webhook_task: asyncio.Task[None] | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    blocked_by: set[int] = field(default_factory=set)
    menu_buttons: dict[int | None, dict[str, Any]] = field(default_factory=dict)  # chat id → MenuButton

    def as_user(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
            "has_topics_enabled": False,
            "allows_users_to_create_topics": False,
        }


@dataclass
class ChatState:
    chat: dict[str, Any]  # the Bot API Chat object
    members: set[int] = field(default_factory=set)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)  # message_id → stored message
    next_message_id: int = 1
    reply_keyboard: dict[str, Any] | None = None
    removed_bots: set[int] = field(default_factory=set)  # bots removed from this group or channel

    @property
    def is_group(self) -> bool:
        return bool(self.chat["type"] != "private")

    @property
    def is_channel(self) -> bool:
        return bool(self.chat["type"] == "channel")

    def has_bot(self, bot: BotState) -> bool:
        """Whether the bot is in this chat: not removed from the group, not blocked in private."""
        if self.is_group:
            return bot.id not in self.removed_bots
        return self.chat["id"] not in bot.blocked_by


class World:
    """The sandbox's in-memory Telegram."""

    def __init__(self, limits: Limits | None = None, seed: int = 7) -> None:
        self.bots: dict[int, BotState] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.chats: dict[int, ChatState] = {}
        self.files: dict[str, StoredFile] = {}
        self.callbacks: dict[str, CallbackQueryState] = {}
        # Presses not yet answered nor followed by an edit of their message, by (chat, message).
        self._unedited_presses: dict[tuple[int, int], list[CallbackQueryState]] = {}
        self.events: list[dict[str, Any]] = []
        # Each chat's events too, and a wake-up per chat: hundreds of simulated users long-poll
        # their own chat, and one chat's message should not wake (and be scanned by) all of them.
        self.chat_events: dict[int, list[dict[str, Any]]] = {}
        self._arrivals: dict[int | None, asyncio.Event] = {}
        self.faults: list[Fault] = []
        self.flood = FloodControl(limits or Limits())
        self.rng = random.Random(seed)
        self.stats: dict[str, Any] = {
            "requests": {},
            "sent_messages": 0,
            "rejected": {},
            "api_calls": 0,
            "updates": 0,
        }
        self.chat_stats: dict[int, dict[str, int]] = {}
        self._ids = itertools.count(1)
        self._next_user_id = 100000
        self._next_group_id = -1000
        self._next_channel_id = -1001000000000

    # --- identities -------------------------------------------------------------------------
    def bot_for_token(self, token: str) -> BotState:
        bot_id = int(token.split(":", 1)[0])
        bot = self.bots.get(bot_id)
        if bot is None:
            bot = BotState(
                id=bot_id, token=token, username="auylnet_bot" if not self.bots else f"bot{bot_id}_bot"
            )
            self.bots[bot_id] = bot
        elif bot.token != token:
            raise ApiError(401, "Unauthorized")
        return bot

    def default_bot(self, bot_id: int | None = None) -> BotState:
        if bot_id is not None:
            if bot_id not in self.bots:
                raise ApiError.bad_request("bot not found")
            return self.bots[bot_id]
        if not self.bots:
            raise ApiError.bad_request("no bot has connected to the sandbox yet")
        return next(iter(self.bots.values()))

    def add_user(self, data: dict[str, Any]) -> dict[str, Any]:
        user_id = int(data.get("id") or 0)
        if not user_id:
            self._next_user_id += 1
            while self._next_user_id in self.users:
                self._next_user_id += 1
            user_id = self._next_user_id
        user = {"id": user_id, "is_bot": False, "first_name": str(data.get("first_name") or "User")}
        for key in ("last_name", "username", "language_code"):
            if data.get(key):
                user[key] = str(data[key])
        self.users[user_id] = user
        private = {"id": user_id, "type": "private", "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if key in user:
                private[key] = user[key]
        if user_id in self.chats:
            self.chats[user_id].chat = private
        else:
            self.chats[user_id] = ChatState(chat=private, members={user_id})
        return user

    def add_group(self, title: str, member_ids: list[int], group_id: int | None = None) -> dict[str, Any]:
        if group_id is None:
            self._next_group_id -= 1
            group_id = self._next_group_id
        chat = {"id": group_id, "type": "group", "title": title}
        self.chats[group_id] = ChatState(chat=chat, members=set(member_ids))
        return chat

    def add_channel(
        self, title: str, admin_ids: list[int], channel_id: int | None = None, username: str | None = None
    ) -> dict[str, Any]:
        """A channel whose administrators are these users and the bots (so they get its posts)."""
        if channel_id is None:
            self._next_channel_id -= 1
            channel_id = self._next_channel_id
        chat: dict[str, Any] = {"id": channel_id, "type": "channel", "title": title}
        if username:
            chat["username"] = username
        self.chats[channel_id] = ChatState(chat=chat, members=set(admin_ids))
        return chat

    def chat(self, chat_id: int | str) -> ChatState:
        if isinstance(chat_id, str):
            name = chat_id.removeprefix("@")
            for state in self.chats.values():
                if state.chat.get("username") == name:
                    return state
            raise ApiError.bad_request("chat not found")
        found = self.chats.get(chat_id)
        if found is None:
            raise ApiError.bad_request("chat not found")
        return found

    # --- updates and events -----------------------------------------------------------------
    def push_update(self, bot: BotState, kind: str, payload: dict[str, Any], chat_id: int) -> int:
        update_id = bot.next_update_id
        bot.next_update_id += 1
        bot.updates.append({"update_id": update_id, kind: payload})
        bot.arrived.set()
        self.stats["updates"] += 1
        self.count_in_chat(chat_id, "updates")
        return update_id

    async def emit(self, kind: str, chat_id: int, **payload: Any) -> None:
        event = {"seq": len(self.events) + 1, "kind": kind, "chat_id": chat_id, **payload}
        self.events.append(event)
        self.chat_events.setdefault(chat_id, []).append(event)
        for key in (chat_id, None):
            arrived = self._arrivals.pop(key, None)
            if arrived is not None:
                arrived.set()

    def events_after(self, after: int, chat_id: int | None) -> list[dict[str, Any]]:
        if chat_id is None:
            return self.events[after:]
        found = self.chat_events.get(chat_id, [])
        return found[bisect.bisect_right(found, after, key=lambda event: event["seq"]) :]

    async def wait_for_events(self, after: int, chat_id: int | None, timeout: float) -> list[dict[str, Any]]:
        """Events after ``after`` (of one chat, or all), waiting up to ``timeout`` for the first."""
        found = self.events_after(after, chat_id)
        if found or timeout <= 0:
            return found
        arrived = self._arrivals.setdefault(chat_id, asyncio.Event())
        try:
            await asyncio.wait_for(arrived.wait(), timeout)
        except TimeoutError:
            pass
        return self.events_after(after, chat_id)

    def new_id(self) -> int:
        return next(self._ids)

    def store_file(self, data: bytes, name: str, mime: str, folder: str) -> StoredFile:
        digest = hashlib.sha1(data).hexdigest()[:16]
        serial = self.new_id()
        file_id = f"AgAC{folder[:3]}{serial:06d}{digest}"
        stored = StoredFile(
            file_id=file_id,
            unique_id=f"AQAD{digest[:12]}",
            path=f"{folder}/file_{serial}_{name}",
            data=data,
            name=name,
            mime=mime,
        )
        self.files[file_id] = stored
        return stored

    def fault_for(self, method: str) -> Fault | None:
        for fault in self.faults:
            if fault.applies(method, self.rng):
                return fault
        return None

    def count(self, section: str, key: str) -> None:
        bucket = self.stats[section]
        bucket[key] = bucket.get(key, 0) + 1

    def count_request(self, method: str) -> None:
        """A Bot API call; all but the polling ``getUpdates`` count as the bot's calls."""
        self.count("requests", method)
        if method != "getUpdates":
            self.stats["api_calls"] += 1

    def count_call_in_chat(self, method: str, params: dict[str, Any]) -> None:
        """Count a call towards the chat it acts in (a callback answer: the chat of the press)."""
        chat_id: int | None = None
        if method == "answerCallbackQuery":
            query = self.callbacks.get(str(params.get("callback_query_id")))
            chat_id = query.chat_id if query is not None else None
        elif params.get("chat_id") is not None:
            raw = str(params["chat_id"])
            if raw.lstrip("-").isdigit():
                chat_id = int(raw)
            else:
                with contextlib.suppress(ApiError):
                    chat_id = self.chat(raw).chat["id"]
        if chat_id is not None:
            self.count_in_chat(chat_id, "api_calls")

    def count_in_chat(self, chat_id: int, key: str) -> None:
        counters = self.chat_stats.setdefault(chat_id, {"api_calls": 0, "updates": 0})
        counters[key] += 1

    # --- callback queries -------------------------------------------------------------------
    def add_callback(self, query_id: str, chat_id: int, message_id: int) -> CallbackQueryState:
        query = CallbackQueryState(chat_id=chat_id, message_id=message_id, pressed_at=time.monotonic())
        self.callbacks[query_id] = query
        self._unedited_presses.setdefault((chat_id, message_id), []).append(query)
        return query

    def message_edited(self, chat_id: int, message_id: int) -> None:
        """The bot edited a message: presses on it that waited for an edit got one now."""
        now = time.monotonic()
        for query in self._unedited_presses.pop((chat_id, message_id), []):
            query.edited_at = now
            query.signal.set()

    def forget_callbacks(self) -> None:
        self.callbacks.clear()
        self._unedited_presses.clear()

    def unhandled_callbacks(self, window: float) -> dict[int, int]:
        """Per chat, presses that got neither an answer nor an edit of their message within ``window`` s."""
        now = time.monotonic()
        found: dict[int, int] = {}
        for query in self.callbacks.values():
            if query.unhandled_within(window, now):
                found[query.chat_id] = found.get(query.chat_id, 0) + 1
        return found


def now_seconds() -> int:
    return int(time.time())
