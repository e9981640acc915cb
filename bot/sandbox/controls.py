"""The user side: a JSON control API that plays any number of Telegram users."""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

from aiohttp import BodyPartReader, web

from bot.sandbox.botapi import commands_for, photo_sizes, sandbox_view
from bot.sandbox.spec import Upload
from bot.sandbox.state import ApiError, BotState, ChatState, Fault, World, now_seconds

_COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?")
# Seconds a pressed button may wait for an answer or an edit before the stats count it as unanswered.
DEFAULT_CALLBACK_WINDOW = 5.0


# How long a press waiter keeps listening for a notice after the pressed message was edited.
EDIT_THEN_ANSWER_GRACE = 0.5


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(data, ensure_ascii=False), status=status, content_type="application/json"
    )


def _error(error: ApiError) -> web.Response:
    return _json({"ok": False, "error": error.description}, status=error.code)


async def _body(request: web.Request) -> dict[str, Any]:
    if request.content_type == "multipart/form-data":
        params: dict[str, Any] = {}
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.filename is not None:
                params[part.name] = Upload(
                    part.filename, part.headers.get("Content-Type", ""), bytes(await part.read(decode=False))
                )
            else:
                text = await part.text()
                try:
                    params[part.name] = json.loads(text) if text[:1] in "{[" else text
                except json.JSONDecodeError:
                    params[part.name] = text
        return params
    if not request.can_read_body:
        return {}
    body = await request.json()
    if not isinstance(body, dict):
        raise ApiError.bad_request("expected a JSON object")
    return body


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError.bad_request(f"{name} must be an integer") from None


def _command_entities(text: str) -> list[dict[str, Any]]:
    command = _COMMAND.match(text)
    return [{"type": "bot_command", "offset": 0, "length": len(command.group(0))}] if command else []


def _user_message(
    world: World, state: ChatState, user: dict[str, Any], content: dict[str, Any]
) -> dict[str, Any]:
    message_id = state.next_message_id
    state.next_message_id += 1
    # A channel post has no sender: it is the channel's, whoever of its admins wrote it.
    sender = {"sender_chat": state.chat} if state.is_channel else {"from": user}
    message = {"message_id": message_id, **sender, "date": now_seconds(), "chat": state.chat, **content}
    state.messages[message_id] = {**message, "_from_bot": False, "_author": user["id"], "_edited": False}
    return message


def _member_status(bot: BotState, state: ChatState, present: bool) -> dict[str, Any]:
    """The bot as a ChatMember of this chat: in it, or out of it as Telegram words each case."""
    user = bot.as_user()
    if not state.is_group:  # a private chat: blocking the bot bans it there for good
        if not present:
            return {"status": "kicked", "user": user, "until_date": 0}
        return {"status": "member", "user": user}
    if not present:
        return {"status": "left", "user": user}
    if state.is_channel:
        return {"status": "administrator", "user": user, **_CHANNEL_ADMIN_RIGHTS}
    return {"status": "member", "user": user}


_CHANNEL_ADMIN_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": False,
    "can_restrict_members": False,
    "can_promote_members": False,
    "can_change_info": False,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_post_messages": True,
    "can_edit_messages": True,
}


def _my_chat_member(
    world: World, bot: BotState, state: ChatState, actor: dict[str, Any], present: bool
) -> int:
    """Tell the bot its membership in this chat changed (``present``: it is in the chat now)."""
    update = {
        "chat": state.chat,
        "from": actor,
        "date": now_seconds(),
        "old_chat_member": _member_status(bot, state, not present),
        "new_chat_member": _member_status(bot, state, present),
    }
    return world.push_update(bot, "my_chat_member", update, state.chat["id"])


def add_routes(app: web.Application, world_key: web.AppKey[World]) -> None:
    def world_of(request: web.Request) -> World:
        return request.app[world_key]

    def guarded(handler: Any) -> Any:
        async def run(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request, world_of(request))  # type: ignore[no-any-return]
            except ApiError as error:
                return _error(error)

        return run

    def bot_of(world: World, body: dict[str, Any]) -> BotState:
        return world.default_bot(_int(body["bot_id"], "bot_id") if body.get("bot_id") else None)

    def member_in(world: World, body: dict[str, Any]) -> tuple[dict[str, Any], ChatState]:
        """The user acting and the chat they act in; refused unless they are a member of it."""
        user_id = _int(body.get("user_id"), "user_id")
        user = world.users.get(user_id)
        if user is None:
            raise ApiError.bad_request(f"unknown user {user_id}")
        chat_id = _int(body.get("chat_id") or user_id, "chat_id")
        state = world.chat(chat_id)
        if user_id not in state.members:
            raise ApiError(403, f"user {user_id} is not a member of chat {chat_id}")
        return user, state

    def reaching(bot: BotState, state: ChatState, user: dict[str, Any]) -> None:
        """Refuse writing to a bot the person has blocked: Telegram offers only "Unblock" then."""
        if not state.is_group and user["id"] in bot.blocked_by:
            raise ApiError(403, f"user {user['id']} has blocked the bot: unblock it first")

    async def create_user(request: web.Request, world: World) -> web.Response:
        return _json(world.add_user(await _body(request)))

    async def list_users(request: web.Request, world: World) -> web.Response:
        return _json({"users": list(world.users.values())})

    async def create_group(request: web.Request, world: World) -> web.Response:
        body = await _body(request)
        members = [_int(member, "member_ids") for member in body.get("member_ids", [])]
        group_id = _int(body["id"], "id") if body.get("id") else None
        return _json(world.add_group(str(body.get("title") or "Group"), members, group_id))

    async def list_chats(request: web.Request, world: World) -> web.Response:
        user_id = _int(request.query.get("user_id"), "user_id") if request.query.get("user_id") else None
        chats = [s.chat for s in world.chats.values() if user_id is None or user_id in s.members]
        return _json({"chats": chats})

    async def create_channel(request: web.Request, world: World) -> web.Response:
        body = await _body(request)
        admins = [_int(member, "member_ids") for member in body.get("member_ids", [])]
        channel_id = _int(body["id"], "id") if body.get("id") else None
        username = str(body["username"]).removeprefix("@") if body.get("username") else None
        return _json(world.add_channel(str(body.get("title") or "Channel"), admins, channel_id, username))

    async def bot_info(request: web.Request, world: World) -> web.Response:
        bot = next(iter(world.bots.values()), None)
        return _json({"bot": bot.as_user() if bot is not None else None})

    async def send(request: web.Request, world: World) -> web.Response:
        body = await _body(request)
        bot = bot_of(world, body)
        user, state = member_in(world, body)
        user_id = user["id"]
        reaching(bot, state, user)
        content: dict[str, Any] = {}
        if isinstance(body.get("photo"), Upload):
            upload = body["photo"]
            content["photo"], _ = photo_sizes(world, upload.data, upload.filename)
        elif isinstance(body.get("document"), Upload):
            upload = body["document"]
            stored = world.store_file(
                upload.data, upload.filename, upload.content_type or "application/octet-stream", "documents"
            )
            content["document"] = {
                "file_id": stored.file_id,
                "file_unique_id": stored.unique_id,
                "file_name": stored.name,
                "mime_type": stored.mime,
                "file_size": len(stored.data),
            }
        elif body.get("location"):
            location = body["location"]
            content["location"] = {
                "latitude": float(location["latitude"]),
                "longitude": float(location["longitude"]),
            }
        elif body.get("sticker"):
            emoji = str(body["sticker"])
            content["sticker"] = {
                "file_id": f"CAACAgI{world.new_id():08d}",
                "file_unique_id": f"AgAD{world.new_id()}",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": emoji,
            }
        elif body.get("contact"):
            contact = body["contact"]
            content["contact"] = {
                "phone_number": str(contact["phone_number"]),
                "first_name": str(contact.get("first_name") or user["first_name"]),
                "user_id": user_id,
            }
        text = body.get("caption") if content else body.get("text")
        if text:
            key = "caption" if content else "text"
            content[key] = str(text)
            if key == "text" and _command_entities(str(text)):
                content["entities"] = _command_entities(str(text))
        if not content:
            raise ApiError.bad_request("nothing to send")
        if body.get("reply_to_message_id"):
            original = state.messages.get(_int(body["reply_to_message_id"], "reply_to_message_id"))
            if original is not None:
                content["reply_to_message"] = {k: v for k, v in original.items() if not k.startswith("_")}
        message = _user_message(world, state, user, content)
        await world.emit(
            "message", state.chat["id"], message=sandbox_view(state.messages[message["message_id"]])
        )
        # A group the bot was removed from goes on without it: the message is there, the bot hears nothing.
        update_id = None
        if state.has_bot(bot):
            kind = "channel_post" if state.is_channel else "message"
            update_id = world.push_update(bot, kind, message, state.chat["id"])
        return _json({"update_id": update_id, "message": message})

    async def edit(request: web.Request, world: World) -> web.Response:
        body = await _body(request)
        bot = bot_of(world, body)
        user, state = member_in(world, body)
        reaching(bot, state, user)
        message_id = _int(body.get("message_id"), "message_id")
        stored = state.messages.get(message_id)
        if stored is None:
            raise ApiError(404, f"message {message_id} not found in chat {state.chat['id']}")
        # Anyone may edit their own message; in a channel, any of its admins may edit a post.
        if stored.get("_from_bot") or (stored.get("_author") != user["id"] and not state.is_channel):
            raise ApiError(403, "only the author can edit a message")
        key = "text" if "text" in stored else "caption"
        if key == "caption" and not any(kind in stored for kind in ("photo", "document")):
            raise ApiError.bad_request("there is no text in the message to edit")
        text = str(body.get("text") or body.get("caption") or "")
        if not text.strip():
            raise ApiError.bad_request("message text is empty")
        if stored.get(key) == text:
            raise ApiError.bad_request("message is not modified")
        stored[key] = text
        if key == "text":
            stored.pop("entities", None)
            if _command_entities(text):
                stored["entities"] = _command_entities(text)
        stored["edit_date"] = now_seconds()
        stored["_edited"] = True
        await world.emit("edit", state.chat["id"], message=sandbox_view(stored))
        message = {k: v for k, v in stored.items() if not k.startswith("_")}
        update_id = None
        if state.has_bot(bot):
            kind = "edited_channel_post" if state.is_channel else "edited_message"
            update_id = world.push_update(bot, kind, message, state.chat["id"])
        return _json({"update_id": update_id, "message": message})

    async def press(request: web.Request, world: World) -> web.Response:
        body = await _body(request)
        bot = bot_of(world, body)
        user, state = member_in(world, body)
        chat_id = state.chat["id"]
        message_id = _int(body.get("message_id"), "message_id")
        stored = state.messages.get(message_id)
        if stored is None:
            raise ApiError(404, f"message {message_id} not found in chat {chat_id}")
        reaching(bot, state, user)
        if not state.has_bot(bot):
            raise ApiError(403, f"the bot is no longer in chat {chat_id}")
        query_id = str(world.new_id() * 7919 + 10_000_000)
        query = {
            "id": query_id,
            "from": user,
            "message": {k: v for k, v in stored.items() if not k.startswith("_")},
            "chat_instance": str(abs(hash((bot.id, chat_id))) % 10**18),
            "data": str(body.get("callback_data", "")),
        }
        world.add_callback(query_id, chat_id, message_id)
        update_id = world.push_update(bot, "callback_query", query, chat_id)
        return _json({"update_id": update_id, "callback_query_id": query_id})

    async def callback_answer(request: web.Request, world: World) -> web.Response:
        query = world.callbacks.get(request.match_info["query_id"])
        if query is None:
            raise ApiError(404, "unknown callback query")
        wait = min(float(request.query.get("wait", 0)), 30)
        deadline = time.monotonic() + wait
        while wait:
            query.signal.clear()  # nothing runs between this and the checks below: no wake-up is lost
            if query.answered:
                break
            # An edit of the pressed message settles the press as Telegram's apps show it; a short
            # notice may still follow the edit, so wait a moment longer for it.
            remaining = deadline - time.monotonic()
            if query.edited_at is not None:
                remaining = min(remaining, query.edited_at + EDIT_THEN_ANSWER_GRACE - time.monotonic())
            if remaining <= 0:
                break
            try:
                await asyncio.wait_for(query.signal.wait(), remaining)
            except TimeoutError:
                pass
        answer: dict[str, Any] = {"answered": query.answered, "edited": query.edited_at is not None}
        if query.answered:
            answer.update(text=query.text, show_alert=query.show_alert)
        return _json(answer)

    async def chat_messages(request: web.Request, world: World) -> web.Response:
        state = world.chat(_int(request.match_info["chat_id"], "chat_id"))
        after = _int(request.query.get("after", 0), "after")
        messages = [sandbox_view(m) for i, m in sorted(state.messages.items()) if i > after]
        return _json({"messages": messages, "reply_keyboard": state.reply_keyboard})

    async def events(request: web.Request, world: World) -> web.Response:
        after = _int(request.query.get("after", 0), "after")
        timeout = min(float(request.query.get("timeout", 0)), 60)
        chat_id = _int(request.query["chat_id"], "chat_id") if request.query.get("chat_id") else None

        found = await world.wait_for_events(after, chat_id, timeout)
        return _json({"events": found, "last_seq": len(world.events)})

    async def block(request: web.Request, world: World) -> web.Response:
        user_id = _int(request.match_info["user_id"], "user_id")
        user = world.users.get(user_id)
        if user is None:
            raise ApiError(404, f"unknown user {user_id}")
        blocking = request.match_info["action"] == "block"
        update_ids = []
        for bot in world.bots.values():
            if (user_id in bot.blocked_by) == blocking:
                continue  # no change, nothing to tell
            if blocking:
                bot.blocked_by.add(user_id)
            else:
                bot.blocked_by.discard(user_id)
            update_ids.append(_my_chat_member(world, bot, world.chat(user_id), user, present=not blocking))
        return _json({"ok": True, "update_ids": update_ids})

    async def bot_membership(request: web.Request, world: World) -> web.Response:
        body = await _body(request)
        bot = bot_of(world, body)
        state = world.chat(_int(request.match_info["chat_id"], "chat_id"))
        chat_id = state.chat["id"]
        if not state.is_group:
            raise ApiError.bad_request("a private chat has no members to change: block or unblock the bot")
        actor_id = _int(body["user_id"], "user_id") if body.get("user_id") else min(state.members, default=0)
        actor = world.users.get(actor_id)
        if actor is None or actor_id not in state.members:
            raise ApiError(403, f"user {actor_id} is not a member of chat {chat_id}")
        adding = request.match_info["action"] == "add_bot"
        if state.has_bot(bot) == adding:
            raise ApiError.bad_request(f"the bot is {'already' if adding else 'not'} in chat {chat_id}")
        if adding:
            state.removed_bots.discard(bot.id)
        else:
            state.removed_bots.add(bot.id)
        update_ids = [_my_chat_member(world, bot, state, actor, present=adding)]
        if not state.is_channel:
            # The group shows who added or removed the bot, and the bot gets that service message too.
            change = {"new_chat_members": [bot.as_user()]} if adding else {"left_chat_member": bot.as_user()}
            message = _user_message(world, state, actor, change)
            await world.emit("message", chat_id, message=sandbox_view(state.messages[message["message_id"]]))
            update_ids.append(world.push_update(bot, "message", message, chat_id))
        return _json({"ok": True, "update_ids": update_ids})

    async def add_fault(request: web.Request, world: World) -> web.Response:
        body = await _body(request)
        kind = str(body.get("kind"))
        if kind not in ("429", "500", "delay", "slow", "drop"):
            raise ApiError.bad_request("kind must be 429, 500, delay, slow or drop")
        fault = Fault(
            id=world.new_id(),
            kind=kind,
            share=float(body.get("share", 1.0)),
            method=body.get("method"),
            count=_int(body["count"], "count") if body.get("count") is not None else None,
            retry_after=_int(body.get("retry_after", 1), "retry_after"),
            delay=float(body.get("delay", 1.0)),
        )
        world.faults.append(fault)
        return _json({"id": fault.id})

    async def clear_faults(request: web.Request, world: World) -> web.Response:
        world.faults.clear()
        return _json({"ok": True})

    async def limits(request: web.Request, world: World) -> web.Response:
        body = await _body(request)
        allowed = {"enabled", "private_per_second", "private_burst", "group_per_minute", "global_per_second"}
        unknown = set(body) - allowed
        if unknown:
            raise ApiError.bad_request(f"unknown limits: {sorted(unknown)}")
        world.flood.configure(**body)
        return _json(world.flood.limits.as_dict())

    async def stats(request: web.Request, world: World) -> web.Response:
        window = float(request.query.get("callback_window", DEFAULT_CALLBACK_WINDOW))
        unhandled = world.unhandled_callbacks(window)
        chats: dict[str, dict[str, int]] = {}
        for chat_id in sorted({*world.chat_stats, *unhandled}):
            counters = world.chat_stats.get(chat_id, {"api_calls": 0, "updates": 0})
            chats[str(chat_id)] = {**counters, "unanswered_callbacks": unhandled.get(chat_id, 0)}
        return _json(
            {
                **world.stats,
                "callback_window": window,
                "unanswered_callbacks": sum(unhandled.values()),
                "chats": chats,
            }
        )

    async def commands(request: web.Request, world: World) -> web.Response:
        bot = world.default_bot()
        chat_id = request.query.get("chat_id")
        chat = world.chat(_int(chat_id, "chat_id")) if chat_id else None
        return _json({"commands": commands_for(bot, request.query.get("language_code", ""), chat)})

    async def reset(request: web.Request, world: World) -> web.Response:
        # Users stay, and so do their private chats (emptied); groups are forgotten.
        world.chats = {chat_id: state for chat_id, state in world.chats.items() if not state.is_group}
        for state in world.chats.values():
            state.messages.clear()
            state.next_message_id = 1
            state.reply_keyboard = None
        for bot in world.bots.values():
            bot.updates.clear()
        world.forget_callbacks()
        world.faults.clear()
        return _json({"ok": True})

    async def download(request: web.Request, world: World) -> web.StreamResponse:
        stored = world.files.get(request.match_info["file_id"])
        if stored is None:
            raise web.HTTPNotFound()
        return web.Response(body=stored.data, content_type=stored.mime)

    routes = [
        ("POST", "/sandbox/api/users", create_user),
        ("GET", "/sandbox/api/users", list_users),
        ("POST", "/sandbox/api/groups", create_group),
        ("GET", "/sandbox/api/chats", list_chats),
        ("POST", "/sandbox/api/send", send),
        ("POST", "/sandbox/api/edit", edit),
        ("POST", "/sandbox/api/press", press),
        ("POST", "/sandbox/api/channels", create_channel),
        ("POST", "/sandbox/api/chats/{chat_id}/{action:remove_bot|add_bot}", bot_membership),
        ("GET", "/sandbox/api/bot", bot_info),
        ("GET", "/sandbox/api/callback_answers/{query_id}", callback_answer),
        ("GET", "/sandbox/api/chats/{chat_id}/messages", chat_messages),
        ("GET", "/sandbox/api/events", events),
        ("POST", "/sandbox/api/users/{user_id}/{action:block|unblock}", block),
        ("POST", "/sandbox/api/faults", add_fault),
        ("DELETE", "/sandbox/api/faults", clear_faults),
        ("POST", "/sandbox/api/limits", limits),
        ("GET", "/sandbox/api/stats", stats),
        ("GET", "/sandbox/api/commands", commands),
        ("POST", "/sandbox/api/reset", reset),
        ("GET", "/sandbox/files/{file_id}", download),
    ]
    for verb, path, handler in routes:
        app.router.add_route(verb, path, guarded(handler))
