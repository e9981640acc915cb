"""The user side of the sandbox: who may do what, and the updates people cause besides messages."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Bot, ChatMember, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import Forbidden

from bot.sandbox.client import SandboxClient, SandboxError, TestUser
from bot.sandbox.server import RunningSandbox
from tests.sandbox.conftest import make_bot

KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Иә", callback_data="yes")]])


async def updates_since(bot: Bot, seen: list[Update]) -> list[Update]:
    """The updates the bot has not confirmed yet, confirming the ones handed out before."""
    offset = seen[-1].update_id + 1 if seen else None
    fresh = list(await bot.get_updates(offset=offset, timeout=0))
    seen.extend(fresh)
    return fresh


async def people(sandbox: RunningSandbox, bot: Bot) -> tuple[SandboxClient, TestUser, TestUser]:
    await bot.get_me()  # the bot connects first, as a real one would
    client = SandboxClient(sandbox.url)
    return client, await client.user("Айгүл"), await client.user("Болат", language_code="ru")


async def test_nobody_acts_in_a_chat_they_are_not_in(strict_sandbox: RunningSandbox) -> None:
    bot = make_bot(strict_sandbox)
    async with bot:
        client, aigul, bolat = await people(strict_sandbox, bot)
        async with client:
            staff = await client.group("Staff", [aigul])
            card = await bot.send_message(aigul.id, "Шақат", reply_markup=KEYBOARD)
            seen: list[Update] = []
            await updates_since(bot, seen)

            # Болат pressing a button in Айгүл's chat, or writing into it or into a group he is not in.
            with pytest.raises(SandboxError) as refused:
                await bolat.in_chat(aigul.id).press_data(card.message_id, "yes")
            assert refused.value.status == 403
            assert refused.value.error == f"user {bolat.id} is not a member of chat {aigul.id}"
            with pytest.raises(SandboxError) as refused:
                await bolat.in_chat(aigul.id).send("hi")
            assert refused.value.status == 403
            with pytest.raises(SandboxError) as refused:
                await bolat.in_chat(staff).send("hi")
            assert (refused.value.status, refused.value.error) == (
                403,
                f"user {bolat.id} is not a member of chat {staff.id}",
            )
            # Айгүл pressing on a message that does not exist in her chat.
            with pytest.raises(SandboxError) as refused:
                await aigul.press_data(card.message_id + 50, "yes")
            assert (refused.value.status, refused.value.error) == (
                404,
                f"message {card.message_id + 50} not found in chat {aigul.id}",
            )
            # Nothing of it reached the bot; her own press does.
            assert await updates_since(bot, seen) == []
            await aigul.press_data(card.message_id, "yes", wait=0)
            [press] = await updates_since(bot, seen)
            assert press.callback_query is not None and press.callback_query.from_user.id == aigul.id


async def test_a_person_edits_their_message(strict_sandbox: RunningSandbox) -> None:
    bot = make_bot(strict_sandbox)
    async with bot:
        client, aigul, bolat = await people(strict_sandbox, bot)
        async with client:
            group = await client.group("Шақат", [aigul, bolat])
            sent = await aigul.in_chat(group).send("Интернет жоқ")
            seen: list[Update] = []
            await updates_since(bot, seen)

            edited = await aigul.in_chat(group).edit(sent, "Интернет жоқ /report")
            [update] = await updates_since(bot, seen)
            assert update.update_id == edited["update_id"]
            assert update.edited_message is not None and update.message is None
            assert update.edited_message.message_id == sent["message"]["message_id"]
            assert update.edited_message.text == "Интернет жоқ /report"
            assert update.edited_message.edit_date is not None
            assert (
                update.edited_message.from_user is not None and update.edited_message.from_user.id == aigul.id
            )
            # The chat shows the new text, marked edited.
            [shown] = await client.chat_messages(group.id)
            assert (shown.text, shown.edited) == ("Интернет жоқ /report", True)

            with pytest.raises(SandboxError) as refused:
                await bolat.in_chat(group).edit(sent, "мен")
            assert (refused.value.status, refused.value.error) == (403, "only the author can edit a message")
            with pytest.raises(SandboxError) as refused:
                await aigul.in_chat(group).edit(sent, "Интернет жоқ /report")
            assert refused.value.error == "Bad Request: message is not modified"
            bot_message = await bot.send_message(group.id, "Қабылданды")
            with pytest.raises(SandboxError) as refused:
                await aigul.in_chat(group).edit(bot_message.message_id, "x")
            assert refused.value.status == 403
            assert await updates_since(bot, seen) == []


async def test_channel_posts_reach_the_bot_as_channel_posts(strict_sandbox: RunningSandbox) -> None:
    bot = make_bot(strict_sandbox)
    async with bot:
        client, aigul, bolat = await people(strict_sandbox, bot)
        async with client:
            news = await client.channel("AuylNet жаңалықтары", [aigul], username="auylnet_news")
            assert news.kind == "channel" and news.id < -1_000_000_000_000
            post = await aigul.in_chat(news).send("Шақат қосылды")
            seen: list[Update] = []
            [update] = await updates_since(bot, seen)
            assert update.channel_post is not None and update.message is None
            assert update.channel_post.chat.type == "channel"
            assert (
                update.channel_post.sender_chat is not None and update.channel_post.sender_chat.id == news.id
            )
            assert update.channel_post.from_user is None  # a post is the channel's, not its author's
            await aigul.in_chat(news).edit(post, "Шақат қосылды 🎉")
            [update] = await updates_since(bot, seen)
            assert update.edited_channel_post is not None
            assert update.edited_channel_post.text == "Шақат қосылды 🎉"

            # The bot posts too (by the channel's username as well); its posts are the channel's.
            reply = await bot.send_message("@auylnet_news", "Құттықтаймыз!")
            assert reply.from_user is None and reply.sender_chat is not None
            assert reply.sender_chat.id == news.id
            edited = await bot.edit_message_text(
                "Құттықтаймыз!!", chat_id=news.id, message_id=reply.message_id
            )
            assert not isinstance(edited, bool) and edited.text == "Құттықтаймыз!!"
            with pytest.raises(SandboxError) as refused:
                await bolat.in_chat(news).send("мен де")
            assert refused.value.status == 403


async def test_blocking_the_bot_and_removing_it_from_a_group(strict_sandbox: RunningSandbox) -> None:
    bot = make_bot(strict_sandbox)
    async with bot:
        client, aigul, bolat = await people(strict_sandbox, bot)
        async with client:
            group = await client.group("AuylNet staff", [aigul, bolat])
            seen: list[Update] = []

            # Айгүл blocks the bot: it hears so, and cannot write to her or hear from her.
            [blocked_id] = await client.block(aigul)
            [update] = await updates_since(bot, seen)
            assert update.update_id == blocked_id and update.my_chat_member is not None
            change = update.my_chat_member
            assert (change.chat.id, change.from_user.id) == (aigul.id, aigul.id)
            assert change.old_chat_member.status == ChatMember.MEMBER
            assert change.new_chat_member.status == ChatMember.BANNED  # "kicked"
            assert change.new_chat_member.user.id == bot.id
            assert await client.block(aigul) == []  # blocking twice changes nothing
            with pytest.raises(Forbidden, match="bot was blocked by the user"):
                await bot.send_message(aigul.id, "сәлем")
            with pytest.raises(SandboxError) as refused:
                await aigul.send("/start")
            assert refused.value.status == 403 and "blocked the bot" in refused.value.error
            await client.unblock(aigul)
            [update] = await updates_since(bot, seen)
            assert update.my_chat_member is not None
            assert update.my_chat_member.new_chat_member.status == ChatMember.MEMBER
            assert (await bot.send_message(aigul.id, "сәлем")).text == "сәлем"

            # Болат removes the bot from the staff group: it hears so, as a service message too.
            alert = await bot.send_message(group.id, "Ақау: Шақат", reply_markup=KEYBOARD)
            await client.remove_bot_from(group, by=bolat)
            member_update, service = await updates_since(bot, seen)
            assert member_update.my_chat_member is not None
            assert member_update.my_chat_member.chat.id == group.id
            assert member_update.my_chat_member.from_user.id == bolat.id
            assert member_update.my_chat_member.old_chat_member.status == ChatMember.MEMBER
            assert member_update.my_chat_member.new_chat_member.status == ChatMember.LEFT
            assert service.message is not None and service.message.left_chat_member is not None
            assert service.message.left_chat_member.id == bot.id
            # Sends, edits and chat actions there fail as on Telegram; the group's talk goes on unheard.
            with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
                await bot.send_message(group.id, "Ақау: Баянауыл")
            with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
                await bot.edit_message_text("Шешілді", chat_id=group.id, message_id=alert.message_id)
            said = await aigul.in_chat(group).send("бот қайда?")
            assert said["update_id"] is None
            assert [m.text for m in await client.chat_messages(group.id)][-1] == "бот қайда?"
            with pytest.raises(SandboxError) as refused:
                await aigul.in_chat(group).press_data(alert.message_id, "yes")
            assert (refused.value.status, refused.value.error) == (
                403,
                f"the bot is no longer in chat {group.id}",
            )
            assert await updates_since(bot, seen) == []
            with pytest.raises(SandboxError):
                await client.remove_bot_from(group)  # it is not there any more

            # Back in the group: it hears so, and hears the group again.
            await client.add_bot_to(group, by=aigul)
            member_update, service = await updates_since(bot, seen)
            assert member_update.my_chat_member is not None
            assert member_update.my_chat_member.new_chat_member.status == ChatMember.MEMBER
            assert service.message is not None and [u.id for u in service.message.new_chat_members] == [
                bot.id
            ]
            await aigul.in_chat(group).send("қайта келді")
            [update] = await updates_since(bot, seen)
            assert update.message is not None and update.message.text == "қайта келді"
            assert (await bot.send_message(group.id, "Сәлем")).text == "Сәлем"


async def test_stats_count_calls_updates_and_unanswered_presses(strict_sandbox: RunningSandbox) -> None:
    bot = make_bot(strict_sandbox)
    async with bot:
        client, aigul, bolat = await people(strict_sandbox, bot)
        async with client:
            before = await client.stats()
            menus = [await bot.send_message(aigul.id, f"{n}", reply_markup=KEYBOARD) for n in range(4)]
            presses: list[str] = []
            for menu in menus:
                pressed = await client.call(
                    "POST",
                    "press",
                    json={
                        "user_id": aigul.id,
                        "chat_id": aigul.id,
                        "message_id": menu.message_id,
                        "callback_data": "yes",
                    },
                )
                presses.append(pressed["callback_query_id"])
            await bot.answer_callback_query(presses[0], text="Жарайды")  # answered
            await bot.edit_message_text("өзгерді", chat_id=aigul.id, message_id=menus[1].message_id)  # edited
            # The third press is never answered; the fourth is answered, but only after the window.
            await asyncio.sleep(0.4)
            await bot.answer_callback_query(presses[3])
            await bolat.send("/start")

            stats = await client.stats(callback_window=0.3)
            assert stats["callback_window"] == 0.3
            assert stats["unanswered_callbacks"] == 2
            assert stats["api_calls"] - before["api_calls"] == 4 + 1 + 1 + 1  # sends, answers, edit
            assert stats["updates"] - before["updates"] == 5  # four presses and Болат's /start
            assert stats["chats"][str(aigul.id)] == {"api_calls": 7, "updates": 4, "unanswered_callbacks": 2}
            assert await bolat.chat_stats() == {"api_calls": 0, "updates": 1, "unanswered_callbacks": 0}
            # With the default window of 5 s, none has waited long enough to count yet.
            assert (await client.stats())["unanswered_callbacks"] == 0
            # Polling is not counted as the bot's calls.
            await bot.get_updates(timeout=0)
            assert (await client.stats())["api_calls"] == stats["api_calls"]


async def test_the_page_learns_the_bots_name_before_any_message(strict_sandbox: RunningSandbox) -> None:
    async with SandboxClient(strict_sandbox.url) as client:
        assert await client.bot() is None
        async with make_bot(strict_sandbox) as bot:
            await bot.get_me()
            found = await client.bot()
        assert found is not None and (found["id"], found["first_name"]) == (bot.id, "AuylNet")
        assert found["username"] == "auylnet_bot"
