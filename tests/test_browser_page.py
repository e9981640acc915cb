"""The sandbox chat page in headless Chromium: a person chats with a small bot."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup, Update
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.sandbox.limits import Limits
from bot.sandbox.server import run_sandbox
from tests.conftest import spec_path

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
TOKEN = "555000:" + "C" * 35
SCREENSHOTS = Path("/tmp")


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


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_html(
        "<b>Сәлем!</b> Ауылыңыз: <i>Шақат</i>",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Күйін көру", callback_data="status")]]),
    )


async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("OK")
    await query.edit_message_text("Шақат: талшықты-оптикалық байланыс қосылды ✅")


async def on_keyboard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        "Таңдаңыз", reply_markup=ReplyKeyboardMarkup([[KeyboardButton("Иә"), KeyboardButton("Жоқ")]])
    )


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None and update.effective_message.text
    await update.effective_message.reply_text(f"Сіз жаздыңыз: {update.effective_message.text}")


async def test_a_person_chats_with_a_bot_in_the_page(browser: Any) -> None:
    async with run_sandbox(spec_path=spec_path(), limits=Limits(enabled=False)) as sandbox:
        app = ApplicationBuilder().token(TOKEN).base_url(sandbox.api_url).build()
        app.add_handler(CommandHandler("start", on_start))
        app.add_handler(CommandHandler("keys", on_keyboard))
        app.add_handler(CallbackQueryHandler(on_press))
        app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0, timeout=1)
            page = await browser.new_page(viewport={"width": 360, "height": 740})
            await page.goto(sandbox.url + "/")
            await page.fill("input[name=first_name]", "Айгүл")
            await page.select_option("select[name=language_code]", "kk")
            await page.click("text=Create persona")
            await page.fill("#text", "/start")
            await page.press("#text", "Enter")

            bold = page.locator(".message.bot .bubble b", has_text="Сәлем!")
            await bold.wait_for(timeout=20_000)
            await page.click("button:has-text('Күйін көру')")
            edited = page.locator(".message.bot .bubble", has_text="талшықты-оптикалық байланыс қосылды")
            await edited.wait_for(timeout=20_000)
            assert "edited" in await edited.inner_text()
            assert await page.locator("button:has-text('Күйін көру')").count() == 0

            await page.fill("#text", "/keys")
            await page.press("#text", "Enter")
            await page.locator("#reply-keyboard button:has-text('Иә')").click(timeout=20_000)
            await page.locator(".message.bot .bubble", has_text="Сіз жаздыңыз: Иә").wait_for(timeout=20_000)
            await page.screenshot(path=str(SCREENSHOTS / "auylnet-page.png"))
            await app.updater.stop()
            await app.stop()


def test_the_page_has_no_external_resources() -> None:
    static = Path(__file__).resolve().parents[1] / "bot" / "sandbox" / "static"
    for path in static.iterdir():
        text = path.read_text(encoding="utf-8")
        assert "http://" not in text.replace("http://127.0.0.1", "") or path.suffix == ".js"
        assert "cdn" not in text.lower(), path
    assert shutil.which("true")  # the check above ran over real files


async def test_the_demo_page_reaches_the_main_menu(browser: Any, tmp_path: Path) -> None:
    """`auylnet demo`, as a newcomer uses it: open the page, /start, pick a language, see the menu."""
    import asyncio

    from bot.demo.run import run_demo

    stop = asyncio.Event()
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    demo = asyncio.create_task(
        run_demo(port=0, db_path=tmp_path / "demo.db", stop=stop, on_ready=ready.set_result)
    )
    try:
        url = await asyncio.wait_for(ready, 60)
        page = await browser.new_page(viewport={"width": 360, "height": 740})
        await page.goto(f"{url}/?user=1006")  # Ольга, a resident whose Telegram is in Russian
        await page.fill("#text", "/start")
        await page.press("#text", "Enter")
        await page.locator("button:has-text('Русский')").click(timeout=20_000)
        await page.locator(".message.bot .bubble", has_text="Что вы хотите сделать?").wait_for(timeout=20_000)
        for label in ("Интернет в моём селе", "Сообщить о сбое", "Занятия", "Настройки"):
            assert await page.locator(f".inline-row button:has-text('{label}')").count() == 1
        await page.screenshot(path=str(SCREENSHOTS / "auylnet-demo.png"))
        # The demo comes with a class to book in Ольга's village.
        await page.locator(".inline-row button:has-text('Занятия')").click()
        await page.locator(".inline-row button:has-text('Основы смартфона')").wait_for(timeout=20_000)
    finally:
        stop.set()
        assert await asyncio.wait_for(demo, 30) == 0
