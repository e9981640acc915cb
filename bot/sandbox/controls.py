"""The user side: a JSON control API that plays any number of Telegram users."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from aiohttp import BodyPartReader, web

from bot.sandbox.botapi import commands_for, photo_sizes, sandbox_view
from bot.sandbox.spec import Upload
from bot.sandbox.state import ApiError, ChatState, Fault, World, now_seconds

_COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?")


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


def _user_message(
    world: World, state: ChatState, user: dict[str, Any], content: dict[str, Any]
) -> dict[str, Any]:
    message_id = state.next_message_id
    state.next_message_id += 1
    message = {"message_id": message_id, "from": user, "date": now_seconds(), "chat": state.chat, **content}
    state.messages[message_id] = {**message, "_from_bot": False, "_edited": False}
    return message


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

    async def send(request: web.Request, world: World) -> web.Response:
        body = await _body(request)
        bot = world.default_bot(_int(body["bot_id"], "bot_id") if body.get("bot_id") else None)
        user_id = _int(body.get("user_id"), "user_id")
        user = world.users.get(user_id)
        if user is None:
            raise ApiError.bad_request("unknown user")
        state = world.chat(_int(body.get("chat_id", user_id), "chat_id"))
        if user_id not in state.members:
            raise ApiError.bad_request("the user is not a member of that chat")
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
            command = _COMMAND.match(str(text))
            if command and key == "text":
                content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command.group(0))}]
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
        update_id = world.push_update(bot, "message", message)
        return _json({"update_id": update_id, "message": message})

    async def press(request: web.Request, world: World) -> web.Response:
        body = await _body(request)
        bot = world.default_bot(_int(body["bot_id"], "bot_id") if body.get("bot_id") else None)
        user_id = _int(body.get("user_id"), "user_id")
        user = world.users.get(user_id)
        if user is None:
            raise ApiError.bad_request("unknown user")
        state = world.chat(_int(body.get("chat_id", user_id), "chat_id"))
        stored = state.messages.get(_int(body.get("message_id"), "message_id"))
        if stored is None:
            raise ApiError.bad_request("message not found")
        query_id = str(world.new_id() * 7919 + 10_000_000)
        query = {
            "id": query_id,
            "from": user,
            "message": {k: v for k, v in stored.items() if not k.startswith("_")},
            "chat_instance": str(abs(hash((bot.id, state.chat["id"]))) % 10**18),
            "data": str(body.get("callback_data", "")),
        }
        world.callbacks[query_id] = {
            "answered": False,
            "text": None,
            "show_alert": False,
            "chat_id": state.chat["id"],
            "signal": asyncio.Event(),
        }
        update_id = world.push_update(bot, "callback_query", query)
        return _json({"update_id": update_id, "callback_query_id": query_id})

    async def callback_answer(request: web.Request, world: World) -> web.Response:
        query = world.callbacks.get(request.match_info["query_id"])
        if query is None:
            raise ApiError(404, "unknown callback query")
        wait = float(request.query.get("wait", 0))
        if wait and not query["answered"]:
            try:
                await asyncio.wait_for(query["signal"].wait(), min(wait, 30))
            except TimeoutError:
                pass
        answer = {"answered": query["answered"]}
        if query["answered"]:
            answer.update(text=query["text"], show_alert=query["show_alert"])
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
        for bot in world.bots.values():
            if request.match_info["action"] == "block":
                bot.blocked_by.add(user_id)
            else:
                bot.blocked_by.discard(user_id)
        return _json({"ok": True})

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
        return _json(world.stats)

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
        world.callbacks.clear()
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
        ("POST", "/sandbox/api/press", press),
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
