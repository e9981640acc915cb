"""What the sandbox answers is itself valid Bot API: every result checked against the spec's types."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp

from bot.sandbox.client import SandboxClient
from bot.sandbox.server import RunningSandbox
from bot.sandbox.spec import Spec
from tests.sandbox.conftest import TOKEN

JPEG_HEADER = b"\xff\xd8\xff\xc0\x00\x11\x08\x00\x30\x00\x40" + b"\x00" * 16


class RawBot:
    """Calls the Bot API as PTB does: a form with every non-string value JSON-encoded."""

    def __init__(self, http: aiohttp.ClientSession, sandbox: RunningSandbox) -> None:
        self.http = http
        self.base = f"{sandbox.api_url}{TOKEN}"

    async def __call__(self, method: str, **params: Any) -> Any:
        form = aiohttp.FormData()
        for name, value in params.items():
            if isinstance(value, bytes):
                form.add_field(name, value, filename=f"{name}.bin")
            else:
                form.add_field(name, value if isinstance(value, str) else json.dumps(value))
        async with self.http.post(f"{self.base}/{method}", data=form) as response:
            body = await response.json()
        assert body["ok"], body
        return body["result"]


async def test_every_answer_is_a_valid_bot_api_object(
    strict_sandbox: RunningSandbox, botapi_spec: Path
) -> None:
    spec = Spec.load(botapi_spec)
    assert spec is not None
    async with aiohttp.ClientSession() as http, SandboxClient(strict_sandbox.url) as client:
        call = RawBot(http, strict_sandbox)
        spec.check_object("User", await call("getMe"))
        aigul = await client.user("Айгүл", username="aigul", language_code="kk")
        await aigul.send("/start")
        keyboard = {
            "inline_keyboard": [
                [{"text": "Иә", "callback_data": "yes"}, {"text": "Сайт", "url": "https://example.kz"}]
            ]
        }
        sent = await call(
            "sendMessage",
            chat_id=aigul.id,
            text="<b>Сәлем</b> 😀 <a href='https://example.kz'>сілтеме</a>",
            parse_mode="HTML",
            reply_markup=keyboard,
            link_preview_options={"is_disabled": True},
        )
        spec.check_object("Message", sent)
        assert sent["entities"] == [
            {"type": "bold", "offset": 0, "length": 5},
            {"type": "text_link", "offset": 9, "length": 7, "url": "https://example.kz"},
        ]
        await aigul.press("Иә", wait=0)
        spec.check_object(
            "Message",
            await call("editMessageText", chat_id=aigul.id, message_id=sent["message_id"], text="Жақсы"),
        )
        spec.check_object(
            "Message", await call("sendPhoto", chat_id=aigul.id, photo=JPEG_HEADER, caption="c")
        )
        document = await call("sendDocument", chat_id=aigul.id, document=b"kato;stage\n")
        spec.check_object("Message", document)
        spec.check_object(
            "Message", await call("sendLocation", chat_id=aigul.id, latitude=52.3, longitude=76.9)
        )
        spec.check_object("File", await call("getFile", file_id=document["document"]["file_id"]))
        await aigul.send_photo(JPEG_HEADER, caption="бағана")
        await aigul.send_document("plan.csv", b"a;b\n")
        await aigul.send_location(52.28, 76.97)
        await aigul.send_contact("+77010000000")
        await aigul.send_sticker("👍")
        group = await client.group("Staff", [aigul])
        said = await aigul.in_chat(group).send("/report@auylnet_bot")
        await aigul.in_chat(group).edit(said, "/report@auylnet_bot Шақат")
        news = await client.channel("AuylNet news", [aigul], username="auylnet_news")
        post = await aigul.in_chat(news).send("Шақат қосылды")
        await aigul.in_chat(news).edit(post, "Шақат қосылды!")
        spec.check_object("Message", await call("sendMessage", chat_id=news.id, text="Құттықтаймыз"))
        await client.block(aigul)
        await client.unblock(aigul)
        await client.remove_bot_from(group)
        await client.add_bot_to(group)
        await client.remove_bot_from(news)
        updates = await call("getUpdates", timeout=0)
        kinds = [next(key for key in update if key != "update_id") for update in updates]
        assert kinds == [
            "message",  # /start
            "callback_query",
            *["message"] * 6,  # five sends and the group command
            "edited_message",
            "channel_post",
            "edited_channel_post",
            *["my_chat_member"] * 2,  # blocked, unblocked
            "my_chat_member",  # removed from the group, with its service message
            "message",
            "my_chat_member",  # added back, with its service message
            "message",
            "my_chat_member",  # removed from the channel
        ]
        for update in updates:
            spec.check_object("Update", update)
        spec.check_object("WebhookInfo", await call("getWebhookInfo"))
        await call("setChatMenuButton", menu_button={"type": "commands"})
        spec.check_object("MenuButton", await call("getChatMenuButton", chat_id=aigul.id))


async def test_the_command_menu_is_resolved_as_telegram_does(strict_sandbox: RunningSandbox) -> None:
    async with aiohttp.ClientSession() as http, SandboxClient(strict_sandbox.url) as client:
        call = RawBot(http, strict_sandbox)
        await call("getMe")
        aigul = await client.user("Айгүл")
        group = await client.group("Staff", [aigul])
        await call("setMyCommands", commands=[{"command": "start", "description": "Start"}])
        await call(
            "setMyCommands", commands=[{"command": "start", "description": "Бастау"}], language_code="kk"
        )
        await call(
            "setMyCommands",
            commands=[{"command": "outages", "description": "Outages"}],
            scope={"type": "all_group_chats"},
        )
        await call(
            "setMyCommands",
            commands=[{"command": "mine", "description": "Mine"}],
            scope={"type": "chat", "chat_id": aigul.id},
        )
        assert await client.commands("ru") == [{"command": "start", "description": "Start"}]
        assert await client.commands("kk") == [{"command": "start", "description": "Бастау"}]
        assert await client.commands("kk", chat_id=group.id) == [
            {"command": "outages", "description": "Outages"}
        ]
        assert await client.commands("kk", chat_id=aigul.id) == [{"command": "mine", "description": "Mine"}]
        scoped = await call("getMyCommands", scope={"type": "chat", "chat_id": aigul.id})
        assert scoped == [{"command": "mine", "description": "Mine"}]
