"""The sandbox chat page in headless Chromium: a villager chats with a small bot, as on Telegram."""

from __future__ import annotations

import asyncio
import re
import struct
import zlib
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.sandbox.limits import Limits
from bot.sandbox.server import RunningSandbox, run_sandbox
from tests.conftest import spec_path

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TOKEN = "123456:" + "A" * 30
STATIC = Path(__file__).resolve().parents[1] / "bot" / "sandbox" / "static"
SCREENSHOT = Path("/tmp/auylnet-page.png")
PHONE = {"width": 360, "height": 740}
WAIT_MS = 20_000
ALMATY = ZoneInfo("Asia/Almaty")

GREETING_BUTTON = "Күйін көру"
ALERT_BUTTON = "Жұмыс уақыты"
CONNECTED = "Шақат: талшықты-оптикалық байланыс қосылды"
MORE_BUTTON = "Барлық сабақтар"
LAST_BUTTON = "Соңғы сабақ"
LINK_BUTTON = "Шақыру батырмасы"
PRIVACY_TEXT = "Біз тек атыңыз бен ауылыңызды сақтаймыз."
LONG_LABEL = "«Основы смартфона» 1 декабря, 10:00, Баянаул — осталось 12 мест"


def browser_missing() -> str | None:
    if not CHROMIUM.exists():
        return "Debian's chromium is not installed at /usr/bin/chromium"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    reason = browser_missing()
    if reason:
        pytest.skip(reason)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


def tiny_png(width: int = 64, height: int = 40) -> bytes:
    """A small green-and-blue picture, so the page has a real image to show."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\x00" + (b"\x4c\xaf\x50" if y > height // 2 else b"\x3a\x8a\xd0") * width for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# ---- the test bot ------------------------------------------------------------------------------


async def greet(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: a formatted greeting with two inline buttons; /start <code> names the code."""
    assert update.effective_message is not None and update.effective_user is not None
    if context.args:
        await update.effective_message.reply_text(f"Шақыру коды: {context.args[0]}")
        return
    await update.effective_message.reply_html(
        f"<b>Сәлем, {update.effective_user.first_name}!</b> Ауылыңыз: <i>Шақат</i>",
        reply_markup=InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(GREETING_BUTTON, callback_data="status")],
                [InlineKeyboardButton(ALERT_BUTTON, callback_data="hours")],
            ]
        ),
    )


async def show_status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The status button: a short toast, and the greeting becomes the status."""
    query = update.callback_query
    assert query is not None
    await query.answer("Тексерілді")
    await query.edit_message_text(f"{CONNECTED} ✅")


async def show_hours(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The hours button: an alert the person has to dismiss."""
    query = update.callback_query
    assert query is not None
    await query.answer("Дүйсенбі–жұма, 09:00–18:00", show_alert=True)


async def offer_keyboard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/keys: a reply keyboard with yes / no and a location request."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        "Интернет жұмыс істей ме?",
        reply_markup=ReplyKeyboardMarkup(
            [
                [KeyboardButton("Иә"), KeyboardButton("Жоқ")],
                [KeyboardButton("Орналасқан жерім", request_location=True)],
            ],
            resize_keyboard=True,
        ),
    )


async def send_picture(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/photo: a 'please wait' that disappears once the photo is there."""
    assert update.effective_message is not None
    waiting = await update.effective_message.reply_text("Күте тұрыңыз…")
    await update.effective_message.reply_photo(tiny_png(), caption="Мұнара, Шақат")
    await waiting.delete()


async def offer_more(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/classes: one button that opens a long list of classes in the same message."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        "Сабақтар",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton(MORE_BUTTON, callback_data="more")]]),
    )


async def show_more(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The list grows in place: a dozen rows of buttons, the last one far below the first."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    rows = [[InlineKeyboardButton(f"Сабақ {n}", callback_data=f"class:{n}")] for n in range(1, 12)]
    rows.append([InlineKeyboardButton(LAST_BUTTON, callback_data="class:last")])
    await query.edit_message_text("Сабақтар: таңдаңыз", reply_markup=InlineKeyboardMarkup(rows))


async def send_links(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/invite: an invitation link in the text, another on a button, and a command to tap."""
    assert update.effective_message is not None
    username = context.bot.username
    await update.effective_message.reply_text(
        f"Шақыру: https://t.me/{username}?start=inv_42\nДеректеріңіз: /privacy",
        reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton(LINK_BUTTON, url=f"https://t.me/{username}?start=btn_7")]]
        ),
    )


async def send_alert(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/alert: three buttons in a row, and one label far too long for a phone."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        "Ақау: Шақат",
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton("🙋 Алу", callback_data="take"),
                    InlineKeyboardButton("🔧 Жөнделуде", callback_data="progress"),
                    InlineKeyboardButton("✅ Шешілді", callback_data="resolved"),
                ],
                [InlineKeyboardButton(LONG_LABEL, callback_data="class:1")],
            ]
        ),
    )


async def show_privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/privacy: what the bot keeps."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(PRIVACY_TEXT)


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other text is repeated back."""
    assert update.effective_message is not None and update.effective_message.text
    await update.effective_message.reply_text(f"Сіз жаздыңыз: {update.effective_message.text}")


async def thank_for_location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A shared location is confirmed and the keyboard goes away."""
    assert update.effective_message is not None and update.effective_message.location
    place = update.effective_message.location
    await update.effective_message.reply_text(
        f"Координаттар: {place.latitude:.4f}, {place.longitude:.4f}", reply_markup=ReplyKeyboardRemove()
    )


def build_test_bot(api_url: str) -> Application[Any, Any, Any, Any, Any, Any]:
    app = ApplicationBuilder().token(TOKEN).base_url(api_url).build()
    app.add_handler(CommandHandler("start", greet))
    app.add_handler(CommandHandler("keys", offer_keyboard))
    app.add_handler(CommandHandler("photo", send_picture))
    app.add_handler(CommandHandler("classes", offer_more))
    app.add_handler(CommandHandler("invite", send_links))
    app.add_handler(CommandHandler("privacy", show_privacy))
    app.add_handler(CommandHandler("alert", send_alert))
    app.add_handler(CallbackQueryHandler(show_more, pattern="^more$"))
    app.add_handler(CallbackQueryHandler(show_status, pattern="^status$"))
    app.add_handler(CallbackQueryHandler(show_hours, pattern="^hours$"))
    app.add_handler(MessageHandler(filters.LOCATION, thank_for_location))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    return app


@pytest.fixture
async def sandbox() -> AsyncIterator[RunningSandbox]:
    async with run_sandbox(port=0, spec_path=spec_path(), limits=Limits(enabled=False)) as running:
        yield running


@pytest.fixture
async def test_bot(sandbox: RunningSandbox) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    app = build_test_bot(sandbox.api_url)
    await app.initialize()
    await app.bot.set_my_commands([("start", "Бастау"), ("keys", "Жауап батырмалары"), ("photo", "Сурет")])
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def send_text(page: Any, text: str) -> None:
    await page.fill("#text", text)
    await page.press("#text", "Enter")


def bot_bubble(page: Any, text: str) -> Any:
    return page.locator(".message.in .bubble", has_text=text)


# ---- stories ---------------------------------------------------------------------------------------


async def test_a_villager_chats_with_the_bot_on_a_phone(
    browser: Any, sandbox: RunningSandbox, test_bot: Any
) -> None:
    page = await browser.new_page(viewport=PHONE)
    await page.goto(sandbox.url + "/")

    # First visit: nobody is chosen yet, so the page asks who is chatting.
    await page.locator("#persona-panel").wait_for(state="visible", timeout=WAIT_MS)
    await page.fill("input[name=first_name]", "Айгүл")
    await page.select_option("select[name=language_code]", "kk")
    await page.click("text=Create persona")
    await page.locator("#persona-panel").wait_for(state="hidden", timeout=WAIT_MS)
    assert "Айгүл (kk)" in await page.inner_text("#chat-subtitle")

    await send_text(page, "/start")
    await page.locator(".message.out .bubble", has_text="/start").wait_for(timeout=WAIT_MS)
    bold = page.locator(".message.in .bubble b", has_text="Сәлем, Айгүл!")
    await bold.wait_for(timeout=WAIT_MS)
    weight = await bold.evaluate("node => getComputedStyle(node).fontWeight")
    assert int(weight) >= 600
    assert await page.locator(".message.in .bubble i", has_text="Шақат").count() == 1

    # The status button: a toast, and the greeting turns into the status in place.
    greeting_id = await bold.evaluate("node => node.closest('.message').dataset.messageId")
    await page.click(f"button:has-text('{GREETING_BUTTON}')")
    await page.locator("#toast", has_text="Тексерілді").wait_for(timeout=WAIT_MS)
    edited = bot_bubble(page, CONNECTED)
    await edited.wait_for(timeout=WAIT_MS)
    assert await edited.evaluate("node => node.closest('.message').dataset.messageId") == greeting_id
    assert await edited.locator(".edited").inner_text() == "edited"
    assert await page.locator(f"button:has-text('{GREETING_BUTTON}')").count() == 0
    assert await page.locator(".message.in .bubble b", has_text="Сәлем").count() == 0

    # The command menu lists what the bot set with setMyCommands.
    await page.click("#commands-button")
    await page.locator("#command-menu .command", has_text="/photo").click(timeout=WAIT_MS)
    photo = page.locator(".message.in img.photo")
    await photo.wait_for(timeout=WAIT_MS)
    await bot_bubble(page, "Мұнара, Шақат").wait_for(timeout=WAIT_MS)
    await page.wait_for_function("() => document.querySelector('img.photo').naturalWidth === 64")
    await bot_bubble(page, "Күте тұрыңыз").wait_for(state="detached", timeout=WAIT_MS)

    # A reply keyboard replaces the buttons under the input; a tap sends its label.
    await send_text(page, "/keys")
    await page.locator("#reply-keyboard button", has_text="Иә").click(timeout=WAIT_MS)
    await page.locator(".message.out .bubble", has_text="Иә").wait_for(timeout=WAIT_MS)
    await bot_bubble(page, "Сіз жаздыңыз: Иә").wait_for(timeout=WAIT_MS)
    await page.screenshot(path=str(SCREENSHOT))

    # The location button shares the prefilled village; the bot then removes its keyboard.
    await page.locator("#reply-keyboard button", has_text="Орналасқан жерім").click()
    await page.locator(".message.out .location-card", has_text="52.2873, 76.9674").wait_for(timeout=WAIT_MS)
    await bot_bubble(page, "Координаттар: 52.2873, 76.9674").wait_for(timeout=WAIT_MS)
    await page.locator("#reply-keyboard").wait_for(state="hidden", timeout=WAIT_MS)

    # An answer with show_alert is a dialog to dismiss, not a passing toast.
    await send_text(page, "/start")
    await page.locator(f"button:has-text('{ALERT_BUTTON}')").last.click(timeout=WAIT_MS)
    alert = page.locator("#alert-dialog")
    await alert.wait_for(state="visible", timeout=WAIT_MS)
    assert "09:00–18:00" in await alert.inner_text()
    await alert.locator("button", has_text="OK").click()
    await alert.wait_for(state="hidden", timeout=WAIT_MS)

    # The attach menu: a photo with the typed text as its caption, a document, a location.
    await page.fill("#text", "Біздің мұнара")
    await page.click("#attach-button")
    await page.set_input_files(
        "#photo-input", files=[{"name": "tower.png", "mimeType": "image/png", "buffer": tiny_png()}]
    )
    sent_photo = page.locator(".message.out .bubble", has_text="Біздің мұнара")
    await sent_photo.locator("img.photo").wait_for(timeout=WAIT_MS)
    await page.wait_for_function(
        "() => [...document.querySelectorAll('.message.out img.photo')].some(img => img.naturalWidth === 64)"
    )
    await page.set_input_files(
        "#document-input",
        files=[{"name": "outage.csv", "mimeType": "text/csv", "buffer": "ауыл;күй\n".encode()}],
    )
    document_link = page.locator(".message.out a.document", has_text="outage.csv")
    await document_link.wait_for(timeout=WAIT_MS)
    href = await document_link.get_attribute("href")
    assert await page.evaluate("url => fetch(url).then(r => r.text())", href) == "ауыл;күй\n"
    await page.click("#attach-button")
    await page.click("[data-attach=location]")
    await page.fill("#location-form input[name=latitude]", "51.7236")
    await page.fill("#location-form input[name=longitude]", "75.3228")
    await page.click("#location-form button[type=submit]")
    await page.locator(".message.out .location-card", has_text="51.7236, 75.3228").wait_for(timeout=WAIT_MS)
    await bot_bubble(page, "Координаттар: 51.7236, 75.3228").wait_for(timeout=WAIT_MS)

    # Coming back later: the page remembers her and shows the conversation so far.
    await page.reload()
    await bot_bubble(page, CONNECTED).wait_for(timeout=WAIT_MS)
    assert "Айгүл" in await page.inner_text("#chat-subtitle")
    assert await page.locator("#persona-panel").is_hidden()


async def test_a_link_opens_the_chat_of_a_known_persona(
    browser: Any, sandbox: RunningSandbox, test_bot: Any
) -> None:
    async with aiohttp.ClientSession() as http:
        for person in (
            {"id": 5001, "first_name": "Болат", "language_code": "ru"},
            {"id": 5002, "first_name": "Ольга", "language_code": "ru"},
        ):
            async with http.post(f"{sandbox.url}/sandbox/api/users", json=person) as response:
                assert response.status == 200
        async with http.post(
            f"{sandbox.url}/sandbox/api/groups",
            json={"title": "Шақат тұрғындары", "member_ids": [5001, 5002]},
        ) as response:
            group = await response.json()

    page = await browser.new_page(viewport=PHONE)
    await page.goto(f"{sandbox.url}/?user=5001")
    await page.locator("#chat-subtitle", has_text="Болат (ru)").wait_for(timeout=WAIT_MS)
    assert await page.locator("#persona-panel").is_hidden()
    await page.locator(".empty button", has_text="START").click()
    await bot_bubble(page, "Сәлем, Болат!").wait_for(timeout=WAIT_MS)

    # His group is in the chat selector; what he writes there, others see with his name.
    await page.select_option("#chat-select", str(group["id"]))
    await page.locator("#chat-title", has_text="Шақат тұрғындары").wait_for(timeout=WAIT_MS)
    await send_text(page, "Кешке жарық болмайды")
    await page.locator(".message.out .bubble", has_text="Кешке жарық болмайды").wait_for(timeout=WAIT_MS)

    olga = await browser.new_page(viewport=PHONE)
    await olga.goto(f"{sandbox.url}/?user=5002")
    await olga.select_option("#chat-select", str(group["id"]))
    from_bolat = olga.locator(".message.in .bubble", has=olga.locator(".sender", has_text="Болат"))
    await from_bolat.wait_for(timeout=WAIT_MS)
    assert await from_bolat.locator(".text").inner_text() == "Кешке жарық болмайды"
    # The bot's echo quotes him, and is labelled with the bot's name.
    echo = olga.locator(".message.in .bubble", has_text="Сіз жаздыңыз: Кешке жарық болмайды")
    await echo.wait_for(timeout=WAIT_MS)
    assert await echo.locator(".reply-quote strong").inner_text() == "Болат"
    await olga.screenshot(path="/tmp/auylnet-group.png")


async def test_a_link_to_an_unknown_persona_offers_to_create_it(
    browser: Any, sandbox: RunningSandbox
) -> None:
    page = await browser.new_page(viewport=PHONE)
    await page.goto(f"{sandbox.url}/?user=7777")
    await page.locator("#persona-panel").wait_for(state="visible", timeout=WAIT_MS)
    assert await page.input_value("input[name=user_id]") == "7777"


async def test_only_telegram_formatting_survives_rendering(browser: Any, sandbox: RunningSandbox) -> None:
    page = await browser.new_page(viewport=PHONE)
    await page.goto(sandbox.url + "/")
    hostile = (
        '<b onclick="window.hit=1">bold</b> <img src=x onerror="window.hit=1">'
        '<a href="javascript:window.hit=1">trap</a> <a href="https://auylnet.kz/x">site</a> '
        '<script>window.hit=1</script><span class="tg-spoiler">secret</span> '
        '<tg-spoiler>also</tg-spoiler> <span style="color:red">plain</span>'
        '<pre><code class="language-python">x = 1</code></pre><iframe src="https://auylnet.kz"></iframe>'
    )
    rendered = await page.evaluate(
        """html => {
            const box = document.createElement('div');
            box.append(window.auylnetSandbox.telegramHtml(html));
            document.body.append(box);
            return box.innerHTML;
        }""",
        hostile,
    )
    await asyncio.sleep(0.2)
    assert await page.evaluate("() => window.hit") is None
    assert "<b>bold</b>" in rendered
    assert "<img" not in rendered and "<script" not in rendered and "<iframe" not in rendered
    assert "javascript" not in rendered and "onclick" not in rendered and "style=" not in rendered
    assert 'href="https://auylnet.kz/x"' in rendered and "trap" in rendered
    assert rendered.count('class="spoiler"') == 2
    assert "<pre><code>x = 1</code></pre>" in rendered
    assert "plain" in rendered


def test_the_page_needs_nothing_from_the_internet() -> None:
    files = {path.name: path.read_text(encoding="utf-8") for path in STATIC.iterdir()}
    assert {"index.html", "app.js", "style.css"} <= set(files)
    for name, text in files.items():
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.IGNORECASE), name
        assert "@import" not in text and "@font-face" not in text, name
    linked = re.findall(r'(?:src|href)="(/[^"]*)"', files["index.html"])
    assert sorted(linked) == ["/static/app.js", "/static/style.css"]


async def test_the_demo_page_reaches_the_main_menu(browser: Any, tmp_path: Path) -> None:
    """`auylnet demo` as a newcomer uses it: open a printed link, /start, pick a language, see the menu."""
    from bot.demo.run import run_demo

    stop = asyncio.Event()
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    demo = asyncio.create_task(
        run_demo(port=0, db_path=tmp_path / "demo.db", stop=stop, on_ready=ready.set_result)
    )
    try:
        url = await asyncio.wait_for(ready, 60)
        page = await browser.new_page(viewport=PHONE)
        await page.goto(f"{url}/?user=1006")  # Ольга, a resident whose Telegram is in Russian
        await send_text(page, "/start")
        await page.locator(".inline-button", has_text="Русский").click(timeout=WAIT_MS)
        await bot_bubble(page, "Что вы хотите сделать?").wait_for(timeout=WAIT_MS)
        for label in ("Интернет в моём селе", "Сообщить о сбое", "Занятия", "Настройки"):
            assert await page.locator(".inline-button", has_text=label).count() == 1
        await page.screenshot(path="/tmp/auylnet-demo.png")
        # The demo comes with a class to book in Ольга's village.
        await page.locator(".inline-button", has_text="Занятия").click()
        # The list names the class in its text; its button is the short «1. 2 декабря, 10:00».
        await bot_bubble(page, "Основы смартфона").wait_for(timeout=WAIT_MS)
        await page.locator(".inline-button", has_text="1. ").first.click()
        await page.locator(".inline-button", has_text="Записаться").first.wait_for(timeout=WAIT_MS)
    finally:
        stop.set()
        assert await asyncio.wait_for(demo, 30) == 0


# ---- following the conversation, links, the title and the clock -----------------------------------


async def in_view(page: Any, locator: Any) -> bool:
    """Whether the element is wholly inside the visible part of the message list."""
    box = await locator.bounding_box()
    area = await page.locator("#messages").bounding_box()
    assert box is not None and area is not None
    return bool(box["y"] >= area["y"] - 1 and box["y"] + box["height"] <= area["y"] + area["height"] + 1)


async def open_as(browser: Any, sandbox: RunningSandbox, person: dict[str, Any], **options: Any) -> Any:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{sandbox.url}/sandbox/api/users", json=person) as response:
            assert response.status == 200
    page = await browser.new_page(viewport=PHONE, **options)
    await page.goto(f"{sandbox.url}/?user={person['id']}")
    await page.locator("#chat-subtitle", has_text=person["first_name"]).wait_for(timeout=WAIT_MS)
    return page


async def test_the_page_follows_new_and_grown_messages(
    browser: Any, sandbox: RunningSandbox, test_bot: Any
) -> None:
    page = await open_as(browser, sandbox, {"id": 5101, "first_name": "Айгүл", "language_code": "kk"})
    for n in range(1, 9):  # enough talk to fill the phone's screen
        await send_text(page, f"Сұрақ {n}")
        await bot_bubble(page, f"Сіз жаздыңыз: Сұрақ {n}").wait_for(timeout=WAIT_MS)
    assert await in_view(page, bot_bubble(page, "Сіз жаздыңыз: Сұрақ 8"))

    # A one-button message grows into a long list when pressed: its last button comes into view.
    await send_text(page, "/classes")
    await page.locator(".inline-button", has_text=MORE_BUTTON).click(timeout=WAIT_MS)
    last = page.locator(".inline-button", has_text=LAST_BUTTON)
    await last.wait_for(timeout=WAIT_MS)
    await page.wait_for_timeout(300)
    assert await in_view(page, last)
    await page.screenshot(path="/tmp/auylnet-grown.png")

    # Scrolled up to re-read: a new message does not pull her down; a hint offers the way back.
    await page.evaluate("() => { document.getElementById('messages').scrollTop = 0; }")
    await page.wait_for_timeout(200)
    await test_bot.bot.send_message(5101, "Жаңа хабар: сабақ ертең")
    fresh = bot_bubble(page, "Жаңа хабар")
    await fresh.wait_for(timeout=WAIT_MS)
    hint = page.locator("#new-hint")
    await hint.wait_for(state="visible", timeout=WAIT_MS)
    assert await page.evaluate("() => document.getElementById('messages').scrollTop") < 50
    assert not await in_view(page, fresh)
    await hint.click()
    await hint.wait_for(state="hidden", timeout=WAIT_MS)
    assert await in_view(page, fresh)

    # Scrolled up to an older list and pressing on it: that message is shown down to its last button.
    await send_text(page, "/classes")
    offer = page.locator(".message", has=page.locator(".inline-button", has_text=MORE_BUTTON))
    await offer.wait_for(timeout=WAIT_MS)
    older = page.locator(f".message[data-message-id='{await offer.get_attribute('data-message-id')}']")
    for n in range(1, 5):
        await send_text(page, f"Тағы {n}")
        await bot_bubble(page, f"Сіз жаздыңыз: Тағы {n}").wait_for(timeout=WAIT_MS)
    more = older.locator(".inline-button", has_text=MORE_BUTTON)
    await more.evaluate("node => node.scrollIntoView({block: 'end'})")
    await page.wait_for_timeout(200)
    assert (
        await page.evaluate(
            "() => { const l = document.getElementById('messages'); "
            "return l.scrollHeight - l.scrollTop - l.clientHeight; }"
        )
        > 150
    )
    await more.click()
    grown_last = older.locator(".inline-button", has_text=LAST_BUTTON)
    await grown_last.wait_for(timeout=WAIT_MS)
    await page.wait_for_timeout(300)
    assert await in_view(page, grown_last)


async def test_the_title_is_the_bots_name_before_any_message(browser: Any, sandbox: RunningSandbox) -> None:
    page = await open_as(browser, sandbox, {"id": 5201, "first_name": "Ольга", "language_code": "ru"})
    assert await page.locator(".message").count() == 0
    # The bot has not connected yet; once it has, its name is the title, with no message in the chat.
    bot = build_test_bot(sandbox.api_url).bot
    async with bot:
        await page.locator("#chat-title", has_text="AuylNet").wait_for(timeout=WAIT_MS)
    assert await page.locator(".message").count() == 0
    assert await page.title() == "AuylNet · sandbox chat"
    again = await browser.new_page(viewport=PHONE)
    await again.goto(f"{sandbox.url}/?user=5201")
    await again.locator("#chat-subtitle", has_text="Ольга").wait_for(timeout=WAIT_MS)
    assert await again.inner_text("#chat-title") == "AuylNet"


async def test_start_links_and_commands_in_texts_are_tapped_in_the_chat(
    browser: Any, sandbox: RunningSandbox, test_bot: Any
) -> None:
    page = await open_as(browser, sandbox, {"id": 5301, "first_name": "Болат", "language_code": "kk"})
    address = page.url
    await send_text(page, "/invite")
    invitation = bot_bubble(page, "Шақыру:")
    await invitation.wait_for(timeout=WAIT_MS)

    # The link in the text: sent as /start with its code by the person, and the bot answers it.
    await invitation.locator("a", has_text="start=inv_42").click()
    await page.locator(".message.out .bubble", has_text="/start inv_42").wait_for(timeout=WAIT_MS)
    await bot_bubble(page, "Шақыру коды: inv_42").wait_for(timeout=WAIT_MS)
    # The same from a URL button.
    await page.locator("a.inline-button", has_text=LINK_BUTTON).click()
    await page.locator(".message.out .bubble", has_text="/start btn_7").wait_for(timeout=WAIT_MS)
    await bot_bubble(page, "Шақыру коды: btn_7").wait_for(timeout=WAIT_MS)
    # A command in the text sends that command.
    await invitation.locator("a.bot-command", has_text="/privacy").click()
    await page.locator(".message.out .bubble", has_text="/privacy").wait_for(timeout=WAIT_MS)
    await bot_bubble(page, PRIVACY_TEXT).wait_for(timeout=WAIT_MS)
    # Nothing left the page.
    assert page.url == address and len(page.context.pages) == 1


async def test_times_are_almaty_time_on_a_24_hour_clock(
    browser: Any, sandbox: RunningSandbox, test_bot: Any
) -> None:
    page = await open_as(
        browser, sandbox, {"id": 5401, "first_name": "Ерлан", "language_code": "ru"}, timezone_id="UTC"
    )
    assert await page.evaluate("() => Intl.DateTimeFormat().resolvedOptions().timeZone") == "UTC"
    await send_text(page, "/start")
    greeting = bot_bubble(page, "Сәлем, Ерлан!")
    await greeting.wait_for(timeout=WAIT_MS)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{sandbox.url}/sandbox/api/chats/5401/messages") as response:
            messages = (await response.json())["messages"]
    sent_at = datetime.fromtimestamp(messages[-1]["date"], tz=ALMATY)
    shown = (await greeting.locator(".meta").inner_text()).strip()
    assert shown == sent_at.strftime("%H:%M"), (shown, sent_at)
    # And the clock is 24-hour at any hour: 21:05 UTC is 02:05 in Almaty, 14:30 UTC is 19:30.
    for utc, almaty in (("2026-01-01T21:05:00Z", "02:05"), ("2026-07-01T14:30:00Z", "19:30")):
        seconds = int(datetime.fromisoformat(utc.replace("Z", "+00:00")).timestamp())
        assert await page.evaluate("s => window.auylnetSandbox.clockTime(s)", seconds) == almaty


async def test_button_labels_stay_on_one_line_inside_their_buttons(
    browser: Any, sandbox: RunningSandbox, test_bot: Any
) -> None:
    """As Telegram's apps do: a label too long for its button is cut with "…", never spills over."""
    page = await open_as(browser, sandbox, {"id": 5501, "first_name": "Бауыржан", "language_code": "kk"})
    await send_text(page, "/alert")
    await page.locator(".inline-button", has_text="Шешілді").wait_for(timeout=WAIT_MS)
    labels = await page.evaluate(
        """() => [...document.querySelectorAll('.inline-button')].map(button => {
            const label = button.querySelector('.label');
            const outer = button.getBoundingClientRect(), inner = label.getBoundingClientRect();
            return {
                text: label.textContent, title: button.title,
                inside: inner.left >= outer.left - 0.5 && inner.right <= outer.right + 0.5,
                lines: Math.round(inner.height / parseFloat(getComputedStyle(label).lineHeight || 20)),
                cut: label.scrollWidth > label.clientWidth,
            };
        })"""
    )
    assert [label["text"] for label in labels] == ["🙋 Алу", "🔧 Жөнделуде", "✅ Шешілді", LONG_LABEL]
    for label in labels:
        assert label["inside"] and label["lines"] <= 1, label
        assert label["title"] == label["text"]
    assert labels[3]["cut"] and not labels[0]["cut"]
    await page.screenshot(path="/tmp/auylnet-labels.png")
