"""The bot side: Bot API methods as Telegram answers them."""

from __future__ import annotations

import asyncio
import json
import re
import struct
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot.sandbox.entities import EntityParseError, parse, to_html, utf16_len
from bot.sandbox.spec import Upload
from bot.sandbox.state import ApiError, BotState, ChatState, Webhook, World, now_seconds

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_ANSWER_TEXT = 200
MAX_INLINE_BUTTONS = 100
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same"
    " as a current content and reply markup of the message"
)
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
_CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}

Method = Callable[[World, BotState, dict[str, Any]], Awaitable[Any]]
METHODS: dict[str, Method] = {}


def method(name: str) -> Callable[[Method], Method]:
    def register(function: Method) -> Method:
        METHODS[name] = function
        return function

    return register


# --- helpers ------------------------------------------------------------------------------------
def _formatted(
    text: str,
    parse_mode: str | None,
    entities: list[dict[str, Any]] | None,
    limit: int,
    *,
    caption: bool = False,
) -> tuple[str, list[dict[str, Any]]]:
    try:
        plain, found = parse(text, parse_mode) if parse_mode else (text, list(entities or []))
    except EntityParseError as error:
        raise ApiError.bad_request(f"can't parse entities: {error}") from None
    if not caption and not plain.strip():
        raise ApiError.bad_request("message text is empty")
    if utf16_len(plain) > limit:
        raise ApiError.bad_request("message caption is too long" if caption else "message is too long")
    return plain, found


def _check_markup(markup: dict[str, Any] | None) -> None:
    if not markup or "inline_keyboard" not in markup:
        return
    buttons = [button for row in markup["inline_keyboard"] for button in row]
    if len(buttons) > MAX_INLINE_BUTTONS:
        raise ApiError.bad_request("reply markup is too long")
    for button in buttons:
        if not button.get("text"):
            raise ApiError.bad_request("text buttons are unallowed in the inline keyboard")
        actions = [key for key in button if key not in ("text", "icon_custom_emoji_id", "style")]
        if len(actions) != 1:
            raise ApiError.bad_request(
                "can't parse inline keyboard button: exactly one action field is required"
            )
        data = button.get("callback_data")
        if data is not None and not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA:
            raise ApiError.bad_request("BUTTON_DATA_INVALID")
        url = button.get("url")
        if url is not None and not re.match(r"^(https?|tg)://", url):
            raise ApiError.bad_request("BUTTON_URL_INVALID")


def _target(world: World, bot: BotState, chat_id: int | str) -> ChatState:
    """The chat a method acts in, refused as Telegram refuses it when the bot is not there."""
    state = world.chat(chat_id)
    if not state.has_bot(bot):
        if not state.is_group:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if state.is_channel:
            raise ApiError(403, "Forbidden: bot is not a member of the channel chat")
        raise ApiError(403, "Forbidden: bot was kicked from the group chat")
    return state


def _flood(world: World, bot: BotState, state: ChatState) -> None:
    retry_after = world.flood.check(bot.id, state.chat["id"], group=state.is_group)
    if retry_after:
        raise ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


def _reply_to(state: ChatState, params: dict[str, Any]) -> dict[str, Any] | None:
    reply = params.get("reply_parameters")
    if not reply:
        return None
    original = state.messages.get(reply["message_id"])
    if original is None:
        if reply.get("allow_sending_without_reply"):
            return None
        raise ApiError.bad_request("message to be replied not found")
    return public(original)


async def _deliver(
    world: World, bot: BotState, state: ChatState, params: dict[str, Any], content: dict[str, Any]
) -> dict[str, Any]:
    """Store a bot message in the chat and tell the user side."""
    markup = params.get("reply_markup")
    _check_markup(markup)
    reply_to = _reply_to(state, params)
    _flood(world, bot, state)
    message_id = state.next_message_id
    state.next_message_id += 1
    # In a channel a post is the channel's own: no sender, the channel as sender_chat.
    sender = {"sender_chat": state.chat} if state.is_channel else {"from": bot.as_user()}
    message: dict[str, Any] = {
        "message_id": message_id,
        **sender,
        "date": now_seconds(),
        "chat": state.chat,
        **content,
    }
    if reply_to:
        message["reply_to_message"] = reply_to
    if markup and "inline_keyboard" in markup:
        message["reply_markup"] = markup
    elif markup and "keyboard" in markup:
        state.reply_keyboard = markup
    elif markup and markup.get("remove_keyboard"):
        state.reply_keyboard = None
    stored = {**message, "_from_bot": True, "_bot_id": bot.id, "_edited": False}
    if markup and "keyboard" in markup:
        stored["_reply_keyboard"] = markup
    state.messages[message_id] = stored
    world.stats["sent_messages"] += 1
    await world.emit("message", state.chat["id"], message=sandbox_view(stored))
    return message


def public(stored: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in stored.items() if not key.startswith("_")}


def sandbox_view(stored: dict[str, Any]) -> dict[str, Any]:
    """A message as the user side sees it: the Bot API object plus display helpers."""
    view = public(stored)
    view["from_bot"] = stored.get("_from_bot", False)
    view["edited"] = stored.get("_edited", False)
    text = stored.get("text", stored.get("caption", ""))
    entities = stored.get("entities", stored.get("caption_entities", []))
    view["text_html"] = to_html(text, entities) if text else ""
    if "_reply_keyboard" in stored:
        view["reply_keyboard"] = stored["_reply_keyboard"]
    if "_file_url" in stored:
        view["file_url"] = stored["_file_url"]
    return view


def _image_size(data: bytes) -> tuple[int, int]:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data[:2] == b"\xff\xd8":
        index = 2
        while index + 9 < len(data):
            if data[index] != 0xFF:
                break
            marker = data[index + 1]
            length = struct.unpack(">H", data[index + 2 : index + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):
                height, width = struct.unpack(">HH", data[index + 5 : index + 9])
                return width, height
            index += 2 + length
    return 800, 600


def photo_sizes(world: World, data: bytes, name: str) -> tuple[list[dict[str, Any]], str]:
    stored = world.store_file(data, name or "photo.jpg", "image/jpeg", "photos")
    width, height = _image_size(data)
    scale = min(1.0, 320 / max(width, height, 1))
    thumb = {
        "file_id": stored.file_id + "s",
        "file_unique_id": stored.unique_id + "s",
        "width": max(1, int(width * scale)),
        "height": max(1, int(height * scale)),
        "file_size": len(data),
    }
    world.files[stored.file_id + "s"] = stored
    full = {
        "file_id": stored.file_id,
        "file_unique_id": stored.unique_id,
        "width": width,
        "height": height,
        "file_size": len(data),
    }
    return [thumb, full], stored.file_id


def _existing_file(world: World, file_id: str) -> Any:
    stored = world.files.get(file_id)
    if stored is None:
        raise ApiError.bad_request("wrong file identifier/HTTP URL specified")
    return stored


# --- methods ------------------------------------------------------------------------------------
@method("getMe")
async def get_me(world: World, bot: BotState, params: dict[str, Any]) -> Any:
    return bot.as_user()


@method("logOut")
@method("close")
async def log_out(world: World, bot: BotState, params: dict[str, Any]) -> Any:
    return True


@method("getUpdates")
async def get_updates(world: World, bot: BotState, params: dict[str, Any]) -> Any:
    if bot.webhook is not None:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active;"
            " use deleteWebhook to delete the webhook first",
        )
    offset = params.get("offset")
    if offset is not None and offset > 0:
        # Confirming: everything before offset is delivered for good.
        bot.updates = [u for u in bot.updates if u["update_id"] >= offset]
    elif offset is not None and offset < 0:
        # Telegram's "the last -offset updates": all earlier ones are forgotten.
        bot.updates = bot.updates[offset:]
    limit = max(1, min(100, params.get("limit", 100)))
    timeout = max(0, min(50, params.get("timeout", 0)))
    allowed = params.get("allowed_updates")
    if not bot.updates and timeout:
        bot.arrived.clear()
        try:
            await asyncio.wait_for(bot.arrived.wait(), timeout)
        except TimeoutError:
            pass
    updates = bot.updates
    if allowed:
        updates = [u for u in updates if any(kind in u for kind in allowed)]
    return updates[:limit]


@method("setWebhook")
async def set_webhook(world: World, bot: BotState, params: dict[str, Any]) -> Any:
    from bot.sandbox.webhook import start_delivery

    url = params["url"]
    if not url:
        return await delete_webhook(world, bot, params)
    if not url.startswith(("http://", "https://")):
        raise ApiError.bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = params.get("secret_token")
    if secret is not None and not re.match(r"^[A-Za-z0-9_-]{1,256}$", secret):
        raise ApiError.bad_request("bad webhook: secret token contains unallowed characters")
    if params.get("drop_pending_updates"):
        bot.updates.clear()
    bot.webhook = Webhook(
        url=url,
        secret_token=secret,
        max_connections=params.get("max_connections", 40),
        allowed_updates=params.get("allowed_updates"),
    )
    start_delivery(world, bot)
    return True


@method("deleteWebhook")
async def delete_webhook(world: World, bot: BotState, params: dict[str, Any]) -> Any:
    if params.get("drop_pending_updates"):
        bot.updates.clear()
    bot.webhook = None
    if bot.webhook_task is not None:
        bot.webhook_task.cancel()
        bot.webhook_task = None
    return True


@method("getWebhookInfo")
async def get_webhook_info(world: World, bot: BotState, params: dict[str, Any]) -> Any:
    info: dict[str, Any] = {
        "url": "",
        "has_custom_certificate": False,
        "pending_update_count": len(bot.updates),
    }
    hook = bot.webhook
    if hook is not None:
        info.update(url=hook.url, max_connections=hook.max_connections)
        if hook.allowed_updates:
            info["allowed_updates"] = hook.allowed_updates
        if hook.last_error_date:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
    return info


@method("sendMessage")
async def send_message(world: World, bot: BotState, params: dict[str, Any]) -> Any:
    state = _target(world, bot, params["chat_id"])
    text, entities = _formatted(params["text"], params.get("parse_mode"), params.get("entities"), MAX_TEXT)
    content: dict[str, Any] = {"text": text}
    if entities:
        content["entities"] = entities
    if params.get("link_preview_options"):
        content["link_preview_options"] = params["link_preview_options"]
    return await _deliver(world, bot, state, params, content)


def _caption(params: dict[str, Any]) -> dict[str, Any]:
    if params.get("caption") is None:
        return {}
    caption, entities = _formatted(
        params["caption"], params.get("parse_mode"), params.get("caption_entities"), MAX_CAPTION, caption=True
    )
    return {"caption": caption, **({"caption_entities": entities} if entities else {})}


@method("sendPhoto")
async def send_photo(world: World, bot: BotState, params: dict[str, Any]) -> Any:
    state = _target(world, bot, params["chat_id"])
    photo = params["photo"]
    if isinstance(photo, Upload):
        sizes, file_id = photo_sizes(world, photo.data, photo.filename)
    else:
        stored = _existing_file(world, photo)
        sizes, file_id = photo_sizes(world, stored.data, stored.name)
    content = {"photo": sizes, **_caption(params)}
    message = await _deliver(world, bot, state, params, content)
    state.messages[message["message_id"]]["_file_url"] = f"/sandbox/files/{file_id}"
    return message


@method("sendDocument")
async def send_document(world: World, bot: BotState, params: dict[str, Any]) -> Any:
    state = _target(world, bot, params["chat_id"])
    document = params["document"]
    if isinstance(document, Upload):
        stored = world.store_file(
            document.data,
            document.filename or "file",
            document.content_type or "application/octet-stream",
            "documents",
        )
    else:
        stored = _existing_file(world, document)
    content = {
        "document": {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "file_name": stored.name,
            "mime_type": stored.mime,
            "file_size": len(stored.data),
        },
        **_caption(params),
    }
    message = await _deliver(world, bot, state, params, content)
    state.messages[message["message_id"]]["_file_url"] = f"/sandbox/files/{stored.file_id}"
    return message


@method("sendLocation")
async def send_location(world: World, bot: BotState, params: dict[str, Any]) -> Any:
    state = _target(world, bot, params["chat_id"])
    latitude, longitude = params["latitude"], params["longitude"]
    if not -90 <= latitude <= 90 or not -180 <= longitude <= 180:
        raise ApiError.bad_request("wrong location")
    return await _deliver(
        world, bot, state, params, {"location": {"latitude": latitude, "longitude": longitude}}
    )


@method("sendChatAction")
async def send_chat_action(world: World, bot: BotState, params: dict[str, Any]) -> Any:
    _target(world, bot, params["chat_id"])
    if params["action"] not in _CHAT_ACTIONS:
        raise ApiError.bad_request("wrong parameter action in request")
    return True


def _editable(world: World, bot: BotState, params: dict[str, Any]) -> tuple[ChatState, dict[str, Any]]:
    if params.get("inline_message_id"):
        raise ApiError.bad_request("message to edit not found")
    if params.get("chat_id") is None or params.get("message_id") is None:
        raise ApiError.bad_request("message to edit not found")
    state = _target(world, bot, params["chat_id"])
    stored = state.messages.get(params["message_id"])
    if stored is None or stored.get("_bot_id") != bot.id:
        raise ApiError.bad_request("message to edit not found")
    return state, stored


async def _apply_edit(
    world: World,
    state: ChatState,
    stored: dict[str, Any],
    changes: dict[str, Any],
    markup: dict[str, Any] | None,
) -> dict[str, Any]:
    before = {key: stored.get(key) for key in (*changes, "reply_markup")}
    new_markup = markup if markup and "inline_keyboard" in markup else None
    after = {**changes, "reply_markup": new_markup}
    if all(before.get(key) == after.get(key) for key in after):
        raise ApiError.bad_request(NOT_MODIFIED)
    for key, value in changes.items():
        if value:
            stored[key] = value
        else:
            stored.pop(key, None)
    if new_markup:
        stored["reply_markup"] = new_markup
    else:
        stored.pop("reply_markup", None)
    stored["edit_date"] = now_seconds()
    stored["_edited"] = True
    world.message_edited(state.chat["id"], stored["message_id"])
    await world.emit("edit", state.chat["id"], message=sandbox_view(stored))
    return public(stored)


@method("editMessageText")
async def edit_message_text(world: World, bot: BotState, params: dict[str, Any]) -> Any:
    state, stored = _editable(world, bot, params)
    if "text" not in stored:
        raise ApiError.bad_request("there is no text in the message to edit")
    text, entities = _formatted(params["text"], params.get("parse_mode"), params.get("entities"), MAX_TEXT)
    markup = params.get("reply_markup")
    _check_markup(markup)
    return await _apply_edit(world, state, stored, {"text": text, "entities": entities or None}, markup)


@method("editMessageCaption")
async def edit_message_caption(world: World, bot: BotState, params: dict[str, Any]) -> Any:
    state, stored = _editable(world, bot, params)
    changes = _caption(params) or {"caption": None}
    changes.setdefault("caption_entities", None)
    markup = params.get("reply_markup")
    _check_markup(markup)
    return await _apply_edit(world, state, stored, changes, markup)


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(world: World, bot: BotState, params: dict[str, Any]) -> Any:
    state, stored = _editable(world, bot, params)
    markup = params.get("reply_markup")
    _check_markup(markup)
    return await _apply_edit(world, state, stored, {}, markup)


@method("deleteMessage")
async def delete_message(world: World, bot: BotState, params: dict[str, Any]) -> Any:
    state = _target(world, bot, params["chat_id"])
    if state.messages.pop(params["message_id"], None) is None:
        raise ApiError.bad_request("message to delete not found")
    await world.emit("delete", state.chat["id"], message_id=params["message_id"])
    return True


@method("answerCallbackQuery")
async def answer_callback_query(world: World, bot: BotState, params: dict[str, Any]) -> Any:
    query = world.callbacks.get(params["callback_query_id"])
    if query is None or query.answered:
        raise ApiError.bad_request("query is too old and response timeout expired or query ID is invalid")
    text = params.get("text")
    if text is not None and len(text) > MAX_ANSWER_TEXT:
        raise ApiError.bad_request("MESSAGE_TOO_LONG")
    query.answered, query.answered_at = True, time.monotonic()
    query.text, query.show_alert, query.url = text, bool(params.get("show_alert")), params.get("url")
    query.signal.set()
    await world.emit(
        "callback_answer",
        query.chat_id,
        callback_answer={
            "callback_query_id": params["callback_query_id"],
            "text": text,
            "show_alert": bool(params.get("show_alert")),
        },
    )
    return True


@method("getFile")
async def get_file(world: World, bot: BotState, params: dict[str, Any]) -> Any:
    stored = world.files.get(params["file_id"])
    if stored is None:
        raise ApiError.bad_request("invalid file_id")
    return {
        "file_id": params["file_id"],
        "file_unique_id": stored.unique_id,
        "file_size": len(stored.data),
        "file_path": stored.path,
    }


def _scope_key(params: dict[str, Any]) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), params.get("language_code") or ""


def commands_for(bot: BotState, language_code: str, chat: ChatState | None) -> list[dict[str, str]]:
    """The command menu a user sees, resolved as Telegram does: the narrowest scope first, and
    within a scope the user's language before the commands set for all languages."""
    scopes: list[dict[str, Any]] = []
    if chat is not None:
        scopes.append({"type": "chat", "chat_id": chat.chat["id"]})
        scopes.append({"type": "all_group_chats" if chat.is_group else "all_private_chats"})
    scopes.append({"type": "default"})
    for scope in scopes:
        for language in dict.fromkeys((language_code, "")):
            found = bot.commands.get(_scope_key({"scope": scope, "language_code": language}))
            if found is not None:
                return found
    return []


@method("setMyCommands")
async def set_my_commands(world: World, bot: BotState, params: dict[str, Any]) -> Any:
    commands = params["commands"]
    if len(commands) > 100:
        raise ApiError.bad_request("too many commands")
    for command in commands:
        if not _COMMAND.match(command["command"]):
            raise ApiError.bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(command["description"]) <= 256:
            raise ApiError.bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    language = params.get("language_code")
    if language and not re.match(r"^[a-z]{2}$", language):
        raise ApiError.bad_request("invalid language code specified")
    bot.commands[_scope_key(params)] = [
        {"command": c["command"], "description": c["description"]} for c in commands
    ]
    return True


@method("getMyCommands")
async def get_my_commands(world: World, bot: BotState, params: dict[str, Any]) -> Any:
    return bot.commands.get(_scope_key(params), [])


@method("setChatMenuButton")
async def set_chat_menu_button(world: World, bot: BotState, params: dict[str, Any]) -> Any:
    chat_id = params.get("chat_id")
    if chat_id is not None:
        world.chat(chat_id)
    bot.menu_buttons[chat_id] = params.get("menu_button") or {"type": "default"}
    return True


@method("getChatMenuButton")
async def get_chat_menu_button(world: World, bot: BotState, params: dict[str, Any]) -> Any:
    chat_id = params.get("chat_id")
    return bot.menu_buttons.get(chat_id) or bot.menu_buttons.get(None) or {"type": "commands"}


@method("deleteMyCommands")
async def delete_my_commands(world: World, bot: BotState, params: dict[str, Any]) -> Any:
    bot.commands.pop(_scope_key(params), None)
    return True


@method("getChat")
async def get_chat(world: World, bot: BotState, params: dict[str, Any]) -> Any:
    """The chat as ChatFullInfo; like Telegram, only chats the bot is in (all sandbox groups)."""
    state = _target(world, bot, params["chat_id"])
    info: dict[str, Any] = {**state.chat, "accent_color_id": 0, "max_reaction_count": 11}
    info["accepted_gift_types"] = {
        "unlimited_gifts": False,
        "limited_gifts": False,
        "unique_gifts": False,
        "premium_subscription": False,
        "gifts_from_channels": False,
    }
    if state.is_group:
        info["permissions"] = {"can_send_messages": True}
    return info


@method("getChatMember")
async def get_chat_member(world: World, bot: BotState, params: dict[str, Any]) -> Any:
    """A member's status: the bot is a plain member of every sandbox group; users as they joined."""
    state = _target(world, bot, params["chat_id"])
    user_id = params["user_id"]
    if user_id == bot.id:
        return {"status": "member", "user": bot.as_user()}
    user = world.users.get(user_id)
    if user is None:
        raise ApiError.bad_request("user not found")
    return {"status": "member" if user_id in state.members else "left", "user": user}
