"""getChat and getChatMember answer as Telegram does, with valid Bot API objects."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from telegram import ChatFullInfo, ChatMember
from telegram.error import BadRequest

from bot.sandbox.client import SandboxClient
from bot.sandbox.server import RunningSandbox
from bot.sandbox.spec import Spec
from tests.sandbox.conftest import make_bot
from tests.sandbox.test_contract import RawBot


async def test_a_group_and_its_members_as_valid_objects(
    strict_sandbox: RunningSandbox, botapi_spec: Path
) -> None:
    spec = Spec.load(botapi_spec)
    assert spec is not None
    async with aiohttp.ClientSession() as http, SandboxClient(strict_sandbox.url) as client:
        call = RawBot(http, strict_sandbox)
        me = await call("getMe")
        aigul = await client.user("Айгүл", language_code="kk")
        olga = await client.user("Ольга", language_code="ru")
        group = await client.group("AuylNet staff", [aigul])

        chat = await call("getChat", chat_id=group.id)
        spec.check_object("ChatFullInfo", chat)
        assert (chat["id"], chat["type"], chat["title"]) == (group.id, "group", "AuylNet staff")
        spec.check_object("ChatFullInfo", await call("getChat", chat_id=aigul.id))

        bot_member = await call("getChatMember", chat_id=group.id, user_id=me["id"])
        spec.check_object("ChatMember", bot_member)
        assert (bot_member["status"], bot_member["user"]["id"]) == ("member", me["id"])
        member = await call("getChatMember", chat_id=group.id, user_id=aigul.id)
        spec.check_object("ChatMember", member)
        assert member["status"] == "member"
        outsider = await call("getChatMember", chat_id=group.id, user_id=olga.id)
        spec.check_object("ChatMember", outsider)
        assert outsider["status"] == "left"


async def test_ptb_reads_them_and_an_unknown_chat_is_not_found(strict_sandbox: RunningSandbox) -> None:
    async with SandboxClient(strict_sandbox.url) as client, make_bot(strict_sandbox) as bot:
        aigul = await client.user("Айгүл")
        group = await client.group("AuylNet staff", [aigul])
        chat = await bot.get_chat(group.id)
        assert isinstance(chat, ChatFullInfo) and chat.title == "AuylNet staff"
        member = await bot.get_chat_member(group.id, bot.id)
        assert member.status == ChatMember.MEMBER
        with pytest.raises(BadRequest, match=r"[Cc]hat not found"):
            await bot.get_chat(-100999)
        with pytest.raises(BadRequest, match=r"[Cc]hat not found"):
            await bot.get_chat_member(-100999, bot.id)
        with pytest.raises(BadRequest, match=r"[Uu]ser not found"):
            await bot.get_chat_member(group.id, 424242)
