"""A Python client for the sandbox's control API: tests act as Telegram users with it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import aiohttp

DEFAULT_TIMEOUT = 10.0


@dataclass
class SandboxMessage:
    """A message as the user sees it, edits applied."""

    raw: dict[str, Any]

    @property
    def message_id(self) -> int:
        return int(self.raw["message_id"])

    @property
    def text(self) -> str:
        return str(self.raw.get("text", self.raw.get("caption", "")))

    @property
    def html(self) -> str:
        return str(self.raw.get("text_html", ""))

    @property
    def from_bot(self) -> bool:
        return bool(self.raw.get("from_bot"))

    @property
    def edited(self) -> bool:
        return bool(self.raw.get("edited"))

    @property
    def buttons(self) -> list[list[tuple[str, str]]]:
        """Inline keyboard rows of (label, callback_data or url)."""
        markup = self.raw.get("reply_markup") or {}
        return [
            [(b["text"], b.get("callback_data") or b.get("url") or "") for b in row]
            for row in markup.get("inline_keyboard", [])
        ]

    @property
    def labels(self) -> list[str]:
        return [label for row in self.buttons for label, _ in row]

    @property
    def keyboard(self) -> list[list[str]]:
        markup = self.raw.get("reply_keyboard") or {}
        return [
            [b["text"] if isinstance(b, dict) else str(b) for b in row] for row in markup.get("keyboard", [])
        ]

    @property
    def photo(self) -> list[dict[str, Any]] | None:
        return self.raw.get("photo")

    @property
    def document(self) -> dict[str, Any] | None:
        return self.raw.get("document")

    @property
    def version(self) -> tuple[str, Any]:
        return self.text, self.raw.get("reply_markup")

    def __repr__(self) -> str:
        return f"SandboxMessage({self.message_id}, {self.text[:60]!r}, buttons={self.labels})"


class SandboxError(RuntimeError):
    """The control API refused a call: ``status`` is the HTTP status, ``error`` its explanation."""

    def __init__(self, verb: str, path: str, status: int, error: str) -> None:
        super().__init__(f"sandbox {verb} {path}: {status} {error}")
        self.status = status
        self.error = error


class SandboxClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SandboxClient:
        _ = self.session
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=90))
        return self._session

    async def call(self, verb: str, path: str, **kwargs: Any) -> Any:
        async with self.session.request(verb, f"{self.base_url}/sandbox/api/{path}", **kwargs) as response:
            data = await response.json()
            if response.status >= 400:
                error = data.get("error", str(data)) if isinstance(data, dict) else str(data)
                raise SandboxError(verb, path, response.status, error)
            return data

    async def user(
        self,
        first_name: str,
        *,
        id: int | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "kk",
    ) -> TestUser:
        created = await self.call(
            "POST",
            "users",
            json={
                "id": id,
                "first_name": first_name,
                "last_name": last_name,
                "username": username,
                "language_code": language_code,
            },
        )
        return TestUser(self, created, created["id"])

    async def group(
        self, title: str, members: list[TestUser] | list[int], *, id: int | None = None
    ) -> TestGroup:
        ids = [m.id if isinstance(m, TestUser) else int(m) for m in members]
        chat = await self.call("POST", "groups", json={"title": title, "member_ids": ids, "id": id})
        return TestGroup(self, chat["id"], chat["title"])

    async def channel(
        self,
        title: str,
        admins: list[TestUser] | list[int],
        *,
        id: int | None = None,
        username: str | None = None,
    ) -> TestGroup:
        """A channel with the bot as an administrator; ``admin.in_chat(channel).send(…)`` posts in it."""
        ids = [m.id if isinstance(m, TestUser) else int(m) for m in admins]
        chat = await self.call(
            "POST", "channels", json={"title": title, "member_ids": ids, "id": id, "username": username}
        )
        return TestGroup(self, chat["id"], chat["title"], kind="channel")

    async def remove_bot_from(self, chat: TestGroup | int, *, by: TestUser | int | None = None) -> list[int]:
        """A member removes the bot from a group or channel; returns the update ids the bot gets."""
        return await self._membership(chat, "remove_bot", by)

    async def add_bot_to(self, chat: TestGroup | int, *, by: TestUser | int | None = None) -> list[int]:
        """A member adds the bot back to a group or channel; returns the update ids the bot gets."""
        return await self._membership(chat, "add_bot", by)

    async def _membership(self, chat: TestGroup | int, action: str, by: TestUser | int | None) -> list[int]:
        chat_id = chat.id if isinstance(chat, TestGroup) else int(chat)
        body = {"user_id": _id(by)} if by is not None else {}
        answer = await self.call("POST", f"chats/{chat_id}/{action}", json=body)
        return [int(update_id) for update_id in answer["update_ids"]]

    async def bot(self) -> dict[str, Any] | None:
        """The bot the page talks to (a Bot API ``User``), or None before any bot connected."""
        found: dict[str, Any] | None = (await self.call("GET", "bot"))["bot"]
        return found

    async def chat_messages(self, chat_id: int) -> list[SandboxMessage]:
        data = await self.call("GET", f"chats/{chat_id}/messages")
        return [SandboxMessage(m) for m in data["messages"]]

    async def wait_events(self, after: int, chat_id: int, timeout: float) -> int:
        data = await self.call(
            "GET", "events", params={"after": after, "chat_id": chat_id, "timeout": round(timeout, 3)}
        )
        return int(data["last_seq"])

    async def block(self, user: TestUser | int) -> list[int]:
        """The user blocks the bot; returns the ids of the ``my_chat_member`` updates it caused."""
        answer = await self.call("POST", f"users/{_id(user)}/block")
        return [int(update_id) for update_id in answer["update_ids"]]

    async def unblock(self, user: TestUser | int) -> list[int]:
        answer = await self.call("POST", f"users/{_id(user)}/unblock")
        return [int(update_id) for update_id in answer["update_ids"]]

    async def fault(
        self,
        kind: str,
        share: float = 1.0,
        *,
        method: str | None = None,
        count: int | None = None,
        retry_after: int = 1,
        delay: float = 1.0,
    ) -> int:
        data = await self.call(
            "POST",
            "faults",
            json={
                "kind": kind,
                "share": share,
                "method": method,
                "count": count,
                "retry_after": retry_after,
                "delay": delay,
            },
        )
        return int(data["id"])

    async def clear_faults(self) -> None:
        await self.call("DELETE", "faults")

    async def limits(self, **limits: float | bool) -> dict[str, Any]:
        answer: dict[str, Any] = await self.call("POST", "limits", json=limits)
        return answer

    async def commands(self, language_code: str = "", chat_id: int | None = None) -> list[dict[str, str]]:
        """The command menu the bot set for that Telegram language (and chat)."""
        params: dict[str, Any] = {"language_code": language_code}
        if chat_id is not None:
            params["chat_id"] = chat_id
        commands: list[dict[str, str]] = (await self.call("GET", "commands", params=params))["commands"]
        return commands

    async def stats(self, *, callback_window: float | None = None) -> dict[str, Any]:
        """Counters; a press counts as unanswered after ``callback_window`` seconds (default 5)."""
        params = {"callback_window": callback_window} if callback_window is not None else {}
        answer: dict[str, Any] = await self.call("GET", "stats", params=params)
        return answer


def _id(user: TestUser | int) -> int:
    return user.id if isinstance(user, TestUser) else int(user)


@dataclass
class TestGroup:
    """A group (or, with ``kind="channel"``, a channel)."""

    client: SandboxClient
    id: int
    title: str
    kind: str = "group"


@dataclass
class TestUser:
    """One person, writing in one chat (their private chat unless made with ``in_chat``)."""

    __test__ = False  # not a pytest test class

    client: SandboxClient
    user: dict[str, Any]
    chat_id: int
    _cursor: int = 0  # the newest bot message handed out by next_message
    _seen_versions: dict[int, tuple[str, Any]] = field(default_factory=dict)
    _seq: int = 0

    @property
    def id(self) -> int:
        return int(self.user["id"])

    @property
    def first_name(self) -> str:
        return str(self.user["first_name"])

    def in_chat(self, chat: TestGroup | int) -> TestUser:
        chat_id = chat.id if isinstance(chat, TestGroup) else int(chat)
        return TestUser(self.client, self.user, chat_id)

    async def _call(self, verb: str, path: str, **kwargs: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self.client.call(verb, path, **kwargs)
        return result

    # --- acting ---------------------------------------------------------------------------------
    async def send(self, text: str, *, reply_to: int | None = None) -> dict[str, Any]:
        return await self._call(
            "POST",
            "send",
            json={
                "user_id": self.id,
                "chat_id": self.chat_id,
                "text": text,
                "reply_to_message_id": reply_to,
            },
        )

    async def edit(self, message: SandboxMessage | dict[str, Any] | int, new_text: str) -> dict[str, Any]:
        """Edit one of this person's earlier messages (or its caption): the bot gets ``edited_message``
        (``edited_channel_post`` in a channel). Accepts what ``send`` returned, a message or its id."""
        if isinstance(message, SandboxMessage):
            message_id = message.message_id
        elif isinstance(message, dict):
            message_id = int(message.get("message", message)["message_id"])
        else:
            message_id = int(message)
        return await self._call(
            "POST",
            "edit",
            json={"user_id": self.id, "chat_id": self.chat_id, "message_id": message_id, "text": new_text},
        )

    async def chat_stats(self, *, callback_window: float | None = None) -> dict[str, int]:
        """This chat's counters: ``api_calls``, ``updates`` and ``unanswered_callbacks``."""
        chats = (await self.client.stats(callback_window=callback_window))["chats"]
        found: dict[str, int] = chats.get(
            str(self.chat_id), {"api_calls": 0, "updates": 0, "unanswered_callbacks": 0}
        )
        return found

    async def tap(self, label: str) -> dict[str, Any]:
        """Tap a reply-keyboard button: Telegram sends its label as text."""
        return await self.send(label)

    async def send_location(self, latitude: float, longitude: float) -> dict[str, Any]:
        return await self._call(
            "POST",
            "send",
            json={
                "user_id": self.id,
                "chat_id": self.chat_id,
                "location": {"latitude": latitude, "longitude": longitude},
            },
        )

    async def send_sticker(self, emoji: str = "👍") -> dict[str, Any]:
        return await self._call(
            "POST",
            "send",
            json={
                "user_id": self.id,
                "chat_id": self.chat_id,
                "sticker": emoji,
            },
        )

    async def send_contact(self, phone_number: str, first_name: str | None = None) -> dict[str, Any]:
        return await self._call(
            "POST",
            "send",
            json={
                "user_id": self.id,
                "chat_id": self.chat_id,
                "contact": {"phone_number": phone_number, "first_name": first_name or self.first_name},
            },
        )

    async def _send_file(
        self, part: str, name: str, data: bytes, content_type: str, caption: str | None
    ) -> dict[str, Any]:
        form = aiohttp.FormData()
        form.add_field("user_id", str(self.id))
        form.add_field("chat_id", str(self.chat_id))
        if caption:
            form.add_field("caption", caption)
        form.add_field(part, data, filename=name, content_type=content_type)
        return await self._call("POST", "send", data=form)

    async def send_photo(
        self, data: bytes, caption: str | None = None, name: str = "photo.jpg"
    ) -> dict[str, Any]:
        return await self._send_file("photo", name, data, "image/jpeg", caption)

    async def send_document(
        self,
        name: str,
        data: bytes,
        caption: str | None = None,
        content_type: str = "application/octet-stream",
    ) -> dict[str, Any]:
        return await self._send_file("document", name, data, content_type, caption)

    async def press_data(self, message_id: int, data: str, *, wait: float = 5.0) -> str | None:
        """Press a button with any callback_data (even a forged one); returns the bot's answer text."""
        pressed = await self.client.call(
            "POST",
            "press",
            json={
                "user_id": self.id,
                "chat_id": self.chat_id,
                "message_id": message_id,
                "callback_data": data,
            },
        )
        answer = await self.client.call(
            "GET", f"callback_answers/{pressed['callback_query_id']}", params={"wait": wait}
        )
        return answer.get("text") if answer["answered"] else None

    async def press(self, label: str, *, wait: float = 5.0) -> str | None:
        """Press the button with this label on the newest bot message that has one."""
        for message in reversed(await self.messages()):
            for row in message.buttons:
                for text, data in row:
                    if text == label:
                        return await self.press_data(message.message_id, data, wait=wait)
        raise LookupError(f"no button {label!r} in chat {self.chat_id}")

    async def press_on(self, message: SandboxMessage, label: str, *, wait: float = 5.0) -> str | None:
        """Press the button with this label on one particular message (as it looks now)."""
        current = next((m for m in await self.messages() if m.message_id == message.message_id), message)
        for row in current.buttons:
            for text, data in row:
                if text == label:
                    return await self.press_data(current.message_id, data, wait=wait)
        raise LookupError(f"no button {label!r} on message {message.message_id}")

    # --- reading ----------------------------------------------------------------------------------
    async def messages(self) -> list[SandboxMessage]:
        """Every bot message in this chat, as it looks now."""
        return [m for m in await self.client.chat_messages(self.chat_id) if m.from_bot]

    async def last_message(self) -> SandboxMessage | None:
        found = await self.messages()
        return found[-1] if found else None

    async def next_message(self, timeout: float = DEFAULT_TIMEOUT) -> SandboxMessage:
        """The oldest bot message this user has not been handed yet."""
        return await self._wait(lambda m: True, timeout, edits=False)

    async def wait_for(
        self, predicate: Callable[[SandboxMessage], bool], timeout: float = DEFAULT_TIMEOUT
    ) -> SandboxMessage:
        """A new (or newly edited) bot message matching ``predicate``."""
        return await self._wait(predicate, timeout, edits=True)

    async def _wait(
        self, predicate: Callable[[SandboxMessage], bool], timeout: float, *, edits: bool
    ) -> SandboxMessage:
        deadline = time.monotonic() + timeout
        while True:
            seq_before = self._seq
            found = self._pick(await self.messages(), predicate, edits=edits)
            if found is not None:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{self.first_name}: no matching bot message in chat {self.chat_id}")
            self._seq = await self.client.wait_events(seq_before, self.chat_id, min(remaining, 5.0))

    def _pick(
        self, messages: list[SandboxMessage], predicate: Callable[[SandboxMessage], bool], *, edits: bool
    ) -> SandboxMessage | None:
        for message in messages:
            if message.message_id > self._cursor:
                if predicate(message):
                    for earlier in messages:
                        if self._cursor < earlier.message_id <= message.message_id:
                            self._seen_versions[earlier.message_id] = earlier.version
                    self._cursor = message.message_id
                    return message
            elif edits and message.edited and self._seen_versions.get(message.message_id) != message.version:
                if predicate(message):
                    self._seen_versions[message.message_id] = message.version
                    return message
        return None


async def wait_until(
    condition: Callable[[], Any], timeout: float = DEFAULT_TIMEOUT, step: float = 0.02
) -> Any:
    """Poll an (async or plain) condition until it is truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(step)
