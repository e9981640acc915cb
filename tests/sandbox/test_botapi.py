"""A real PTB bot against the sandbox: conversations, strictness, flood control, faults, redelivery."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.sandbox.client import SandboxClient, wait_until
from bot.sandbox.limits import Limits
from bot.sandbox.server import RunningSandbox, run_sandbox
from tests.sandbox.conftest import TOKEN, make_bot


async def start_chat(sandbox: RunningSandbox, bot: Bot) -> tuple[SandboxClient, Any]:
    await bot.get_me()  # the bot connects first, as a real one would
    client = SandboxClient(sandbox.url)
    user = await client.user("Айгүл", language_code="kk")
    return client, user


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_html(
        "<b>Сәлем!</b> Choose:",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Fibre", callback_data="tech:fibre")]]),
    )


async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("Saved")
    await query.edit_message_text(f"You chose {query.data}")


async def on_keyboard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        "Share?", reply_markup=ReplyKeyboardMarkup([[KeyboardButton("📍 Here", request_location=True)]])
    )


async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Download the person's photo through getFile and the file URL, and say how big it was."""
    message = update.effective_message
    assert message is not None and message.photo
    file = await message.photo[-1].get_file()
    data = await file.download_as_bytearray()
    await message.reply_text(f"{len(data)} bytes, {message.photo[-1].width}×{message.photo[-1].height}")


def echo_app(sandbox: RunningSandbox) -> Application[Any, Any, Any, Any, Any, Any]:
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(sandbox.api_url)
        .base_file_url(sandbox.url + "/file/bot")
        .build()
    )
    app.add_handler(CommandHandler("start", on_start))
    app.add_handler(CommandHandler("kb", on_keyboard))
    app.add_handler(CallbackQueryHandler(on_press))
    app.add_handler(MessageHandler(filters.PHOTO, on_photo))
    return app


PNG_64x48 = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8 + (64).to_bytes(4, "big") + (48).to_bytes(4, "big")


async def test_a_conversation_with_buttons_and_edits(strict_sandbox: RunningSandbox) -> None:
    app = echo_app(strict_sandbox)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        async with SandboxClient(strict_sandbox.url) as client:
            aigul = await client.user("Айгүл", language_code="kk")
            await aigul.send("/start")
            hello = await aigul.next_message()
            assert hello.text == "Сәлем! Choose:"
            assert hello.html == "<b>Сәлем!</b> Choose:"
            assert hello.buttons == [[("Fibre", "tech:fibre")]]
            assert await aigul.press("Fibre") == "Saved"
            edited = await aigul.wait_for(lambda m: m.edited)
            assert edited.message_id == hello.message_id
            assert edited.text == "You chose tech:fibre" and edited.buttons == []
            await aigul.send("/kb")
            keyboard = await aigul.next_message()
            assert keyboard.keyboard == [["📍 Here"]]
            await aigul.send_photo(PNG_64x48, caption="the pole")
            assert (await aigul.next_message()).text == f"{len(PNG_64x48)} bytes, 64×48"
            with pytest.raises(TimeoutError):
                await aigul.next_message(timeout=0.2)
        await app.updater.stop()
        await app.stop()


async def test_getme_and_objects_parse_strictly(strict_sandbox: RunningSandbox) -> None:
    bot = make_bot(strict_sandbox)
    async with bot:
        me = await bot.get_me()
        assert me.is_bot and me.username == "auylnet_bot" and me.id == 123456
        client, user = await start_chat(strict_sandbox, bot)
        async with client:
            sent = await bot.send_message(
                user.id,
                "x",
                reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="a")]]),
            )
            assert sent.chat.id == user.id and sent.from_user is not None and sent.from_user.is_bot
            photo = await bot.send_photo(
                user.id,
                PNG_64x48,
                caption="<i>km</i>",
                parse_mode="HTML",
            )
            assert photo.photo[-1].width == 64 and photo.caption == "km"
            file = await bot.get_file(photo.photo[-1].file_id)
            assert (await file.download_as_bytearray())[:4] == b"\x89PNG"
            doc = await bot.send_document(user.id, b"kato;stage\n", filename="plan.csv")
            assert doc.document is not None and doc.document.file_name == "plan.csv"
            location = await bot.send_location(user.id, 52.28, 76.97)
            assert location.location is not None and location.location.latitude == 52.28
            assert await bot.send_chat_action(user.id, "typing")
            assert await bot.set_my_commands([("start", "Бастау")], language_code="kk")
            assert [c.command for c in await bot.get_my_commands(language_code="kk")] == ["start"]
            assert await bot.delete_message(user.id, sent.message_id)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda b, u: b.send_message(u, "x" * 4097), "Message is too long"),
        (lambda b, u: b.send_message(u, "   "), "Message text is empty"),
        (
            lambda b, u: b.send_message(u, "<b>bold", parse_mode="HTML"),
            "Can't parse entities: can't find end tag corresponding to start tag \"b\"",
        ),
        (
            lambda b, u: b.send_message(u, "<blink>x</blink>", parse_mode="HTML"),
            'Can\'t parse entities: unsupported start tag "blink" at byte offset 0',
        ),
        (
            lambda b, u: b.send_message(u, "2.5 Mbit/s", parse_mode="MarkdownV2"),
            "Can't parse entities: character '.' is reserved and must be escaped with the preceding '\\'",
        ),
        (
            lambda b, u: b.send_message(
                u,
                "x",
                reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="ж" * 33)]]),
            ),
            "Button_data_invalid",
        ),
        (
            lambda b, u: b.send_message(
                u,
                "x",
                reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="a" * 65)]]),
            ),
            "Button_data_invalid",
        ),
        (
            lambda b, u: b.send_message(
                u,
                "x",
                reply_markup=InlineKeyboardMarkup(
                    [[InlineKeyboardButton(str(i), callback_data=str(i))] for i in range(101)]
                ),
            ),
            "Reply markup is too long",
        ),
        (lambda b, u: b.send_photo(u, b"\xff\xd8photo", caption="c" * 1025), "Message caption is too long"),
        (
            lambda b, u: b.send_message(u, "x", api_kwargs={"colour": "red"}),
            'Unknown parameter "colour" for method sendmessage',
        ),
        (
            lambda b, u: b.send_message(u, "x", api_kwargs={"disable_notification": "maybe"}),
            'Parameter "disable_notification" must be of type boolean',
        ),
        (lambda b, u: b.send_message(999_999_999, "x"), "Chat not found"),
        (lambda b, u: b.edit_message_text("x", chat_id=u, message_id=4242), "Message to edit not found"),
    ],
)
async def test_spec_and_limit_violations_are_rejected(
    strict_sandbox: RunningSandbox, call: Any, error: str
) -> None:
    bot = make_bot(strict_sandbox)
    async with bot:
        client, user = await start_chat(strict_sandbox, bot)
        async with client:
            with pytest.raises(BadRequest) as raised:
                await call(bot, user.id)
    assert raised.value.message == error


async def test_missing_parameters_and_wrong_types_over_raw_http(strict_sandbox: RunningSandbox) -> None:
    async with aiohttp.ClientSession() as http:
        base = f"{strict_sandbox.api_url}{TOKEN}"
        async with http.post(f"{base}/sendMessage", data={"text": "hi"}) as response:
            body = await response.json()
        assert response.status == 400
        assert body == {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: chat_id is empty",
        }
        async with http.post(f"{base}/answerCallbackQuery", json={}) as response:
            assert (await response.json())["description"] == (
                'Bad Request: parameter "callback_query_id" is required'
            )
        broken_markup = {"chat_id": "1", "text": "x", "reply_markup": '{"inline_keyboard": [[{"text": "a"'}
        async with http.post(f"{base}/sendMessage", data=broken_markup) as response:
            assert (await response.json())["description"] == (
                "Bad Request: can't parse reply keyboard markup JSON object"
            )
        nested = {
            "chat_id": 1,
            "text": "x",
            "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "a", "colour": "red"}]]},
        }
        async with http.post(f"{base}/sendMessage", json=nested) as response:
            assert (await response.json())["description"] == (
                'Bad Request: unknown field "colour" in reply_markup.inline_keyboard[0][0]'
                " (InlineKeyboardButton)"
            )
        async with http.post(
            f"{base}/sendLocation", json={"chat_id": 1, "latitude": "north", "longitude": 1}
        ) as r:
            assert (await r.json())[
                "description"
            ] == 'Bad Request: parameter "latitude" must be of type Float'
        async with http.post(f"{base}/noSuchMethod", data={}) as response:
            assert response.status == 404 and (await response.json())["description"] == "Not Found"
        async with http.get(f"{strict_sandbox.api_url}nonsense/getMe") as response:
            assert response.status == 401


async def test_not_modified_and_answer_length(strict_sandbox: RunningSandbox) -> None:
    bot = make_bot(strict_sandbox)
    async with bot:
        client, user = await start_chat(strict_sandbox, bot)
        async with client:
            sent = await bot.send_message(user.id, "Stage: design")
            with pytest.raises(BadRequest, match="Message is not modified"):
                await bot.edit_message_text("Stage: design", chat_id=user.id, message_id=sent.message_id)
            edited = await bot.edit_message_text(
                "Stage: construction", chat_id=user.id, message_id=sent.message_id
            )
            assert isinstance(edited, type(sent)) and edited.text == "Stage: construction"
            pressed = await client.call(
                "POST",
                "press",
                json={
                    "user_id": user.id,
                    "chat_id": user.id,
                    "message_id": sent.message_id,
                    "callback_data": "x",
                },
            )
            with pytest.raises(BadRequest, match="Message_too_long"):
                await bot.answer_callback_query(pressed["callback_query_id"], "я" * 201)
            assert await bot.answer_callback_query(pressed["callback_query_id"], "я" * 200)


async def test_flood_control_raises_retry_after() -> None:
    async with run_sandbox(spec_path=None, limits=Limits(private_per_second=1, private_burst=3)) as sandbox:
        bot = make_bot(sandbox)
        async with bot:
            client, user = await start_chat(sandbox, bot)
            async with client:
                for n in range(3):
                    await bot.send_message(user.id, f"burst {n}")
                with pytest.raises(RetryAfter) as raised:
                    await bot.send_message(user.id, "one too many")
                assert raised.value.retry_after == 1
                group = await client.group("Staff", [user])
                await client.limits(group_per_minute=2)
                await bot.send_message(group.id, "1")
                await bot.send_message(group.id, "2")
                with pytest.raises(RetryAfter) as raised:
                    await bot.send_message(group.id, "3")
                assert raised.value.retry_after == 30


async def test_a_blocked_user_gives_forbidden(limits_only_sandbox: RunningSandbox) -> None:
    bot = make_bot(limits_only_sandbox)
    async with bot:
        client, user = await start_chat(limits_only_sandbox, bot)
        async with client:
            await client.block(user)
            with pytest.raises(Forbidden, match="bot was blocked by the user"):
                await bot.send_message(user.id, "hello")
            await client.unblock(user)
            assert (await bot.send_message(user.id, "hello")).text == "hello"


async def test_fault_injection(strict_sandbox: RunningSandbox) -> None:
    bot = make_bot(strict_sandbox)
    async with bot:
        client, user = await start_chat(strict_sandbox, bot)
        async with client:
            await client.fault("500", method="sendMessage", count=1)
            with pytest.raises(TelegramError):
                await bot.send_message(user.id, "a")
            assert (await bot.send_message(user.id, "b")).text == "b"
            await client.fault("429", method="sendMessage", count=1, retry_after=7)
            with pytest.raises(RetryAfter) as raised:
                await bot.send_message(user.id, "c")
            assert raised.value.retry_after == 7
            await client.fault("drop", method="sendMessage", count=1)
            with pytest.raises(NetworkError):
                await bot.send_message(user.id, "d")
            await client.fault("delay", method="getMe", count=1, delay=0.3)
            started = asyncio.get_running_loop().time()
            await bot.get_me()
            assert asyncio.get_running_loop().time() - started >= 0.3
            await client.clear_faults()
            stats = await client.stats()
            assert stats["requests"]["sendMessage"] == 4


async def test_unconfirmed_updates_are_delivered_again(strict_sandbox: RunningSandbox) -> None:
    bot = make_bot(strict_sandbox)
    async with bot:
        client, user = await start_chat(strict_sandbox, bot)
        async with client:
            await user.send("first")
            await user.send("second")
            seen = await bot.get_updates(timeout=1)
            assert [u.message.text for u in seen if u.message] == ["first", "second"]
            # The client "crashes" before confirming: a fresh one gets the same updates again.
            async with make_bot(strict_sandbox) as restarted:
                again = await restarted.get_updates(timeout=1)
            assert [u.update_id for u in again] == [u.update_id for u in seen]
            confirmed = await bot.get_updates(offset=seen[-1].update_id + 1, timeout=0)
            assert confirmed == ()
            # A long poll returns as soon as something arrives.
            polls = strict_sandbox.state.stats["requests"]["getUpdates"]
            waiting = asyncio.create_task(bot.get_updates(offset=seen[-1].update_id + 1, timeout=5))
            await wait_until(lambda: strict_sandbox.state.stats["requests"]["getUpdates"] > polls)
            await user.send("third")
            assert [u.message.text for u in await waiting if u.message] == ["third"]


def _delivered(bot: Bot) -> Any:
    async def check() -> Any:
        info = await bot.get_webhook_info()
        return info if info.pending_update_count == 0 else None

    return check


async def test_webhook_delivery_with_the_secret_header(strict_sandbox: RunningSandbox) -> None:
    received: asyncio.Queue[tuple[str | None, dict[str, Any]]] = asyncio.Queue()
    failures = [1]

    async def hook(request: web.Request) -> web.Response:
        if failures:
            failures.pop()
            return web.Response(status=500)  # the first delivery fails and must be retried
        received.put_nowait((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response(text="ok")

    receiver = web.Application()
    receiver.router.add_post("/hook", hook)
    runner = web.AppRunner(receiver)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        bot = make_bot(strict_sandbox)
        async with bot:
            client, user = await start_chat(strict_sandbox, bot)
            async with client:
                assert await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
                with pytest.raises(TelegramError, match="webhook is active"):
                    await bot.get_updates()
                await user.send("via webhook")
                secret, update = await asyncio.wait_for(received.get(), timeout=5)
                assert secret == "s3cret"
                assert update["message"]["text"] == "via webhook"
                # The update counts as delivered once the receiver's 200 is back.
                info = await wait_until(_delivered(bot))
                assert info.url.endswith("/hook")
                assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
                assert await bot.delete_webhook()
    finally:
        await runner.cleanup()


async def test_limits_only_without_the_spec() -> None:
    async with run_sandbox(spec_path=None, limits=Limits(enabled=False)) as sandbox:
        bot = make_bot(sandbox)
        async with bot:
            client, user = await start_chat(sandbox, bot)
            async with client:
                # No spec: an unknown parameter passes, but Telegram's limits still hold.
                assert await bot.send_message(user.id, "x", api_kwargs={"colour": "red"})
                with pytest.raises(BadRequest, match="Message is too long"):
                    await bot.send_message(user.id, "x" * 4097)


async def test_without_the_spec_required_parameters_and_method_names_still_hold(
    limits_only_sandbox: RunningSandbox,
) -> None:
    base = f"{limits_only_sandbox.api_url}{TOKEN}"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/sendmessage", data={"text": "hi"}) as response:
            assert response.status == 400
            assert (await response.json())["description"] == "Bad Request: chat_id is empty"
        async with http.post(f"{base}/getUpdatez") as response:
            assert response.status == 404
    assert limits_only_sandbox.state.stats["requests"]["sendMessage"] == 1
