"""A resident's screens on the sandbox's phone-sized chat page, in Kazakh and Russian: every button
label shows whole, none cut with «…» because its row is too crowded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bot.classes import service
from bot.classes.service import NewLesson
from bot.clock import Clock
from bot.sandbox.client import TestUser
from db import users
from tests.conftest import BotFactory
from tests.test_browser_page import CHROMIUM, CHROMIUM_ARGS, PHONE, WAIT_MS, browser_missing
from tests.test_classes_e2e import SHAKAT, greet
from tests.test_outages_story_e2e import live_in

pytestmark = pytest.mark.browser

CUT_LABELS = """() => [...document.querySelectorAll('.inline-button .label, .reply-button .label')]
    .filter(label => label.scrollWidth > label.clientWidth).map(label => label.textContent)"""
CHOICES = {"kk": "Қазақша", "ru": "Русский"}
TRAINER_ID = 660001


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


async def phone_of(browser: Any, sandbox: Any, person: TestUser) -> Any:
    """The person's chat, open on a phone-sized page that follows the conversation as it goes."""
    page = await browser.new_page(viewport=PHONE)
    await page.goto(f"{sandbox.url}/?user={person.id}")
    return page


async def cut_once_shown(page: Any, label: str) -> list[str]:
    """The labels cut on the page once the button ``label`` is on it."""
    await page.locator(".inline-button", has_text=label).last.wait_for(timeout=WAIT_MS)
    cut: list[str] = await page.evaluate(CUT_LABELS)
    return cut


@pytest.mark.parametrize(("language", "settings"), [("kk", "⚙️ Баптаулар"), ("ru", "⚙️ Настройки")])
async def test_the_main_menu_shows_every_label_whole(
    browser: Any, sandbox: Any, client: Any, bot_factory: BotFactory, language: str, settings: str
) -> None:
    person = await client.user("Айгүл" if language == "kk" else "Ольга", language_code=language)
    async with bot_factory(seed=True):
        page = await phone_of(browser, sandbox, person)
        await greet(person, CHOICES[language])
        assert await cut_once_shown(page, settings) == []


@pytest.mark.parametrize(("language", "near"), [("kk", "📍 Жанымдағы ауылдар"), ("ru", "📍 Сёла рядом")])
async def test_the_village_search_shows_every_label_whole(
    browser: Any, sandbox: Any, client: Any, bot_factory: BotFactory, language: str, near: str
) -> None:
    person = await client.user("Нұржан" if language == "kk" else "Иван", language_code=language)
    async with bot_factory(seed=True):
        page = await phone_of(browser, sandbox, person)
        await greet(person, CHOICES[language])
        menu = await person.last_message()
        assert menu is not None
        await person.press_on(menu, menu.labels[0], wait=0)  # «📶 My village's internet», none chosen yet
        assert await cut_once_shown(page, near) == []


async def open_a_class_in_shakat(app: Any, clock: Clock, person: Any, language: str) -> None:
    """A class in Шақат, where ``person`` lives (language chosen), opened from /classes."""
    async with app.bot_data.db.transaction() as tx:
        await users.ensure_account(tx, TRAINER_ID, clock.now())
        await service.create_lesson(
            tx,
            NewLesson(SHAKAT, "Кітапхана", clock.now() + timedelta(days=2), 90, "smartphone", "kk", 12),
            trainer_id=TRAINER_ID,
            now=clock.now(),
        )
    await greet(person, CHOICES[language])
    await live_in(app, person, SHAKAT)
    await person.send("/classes")
    listing = await person.wait_for(lambda m: bool(m.labels) and "🎓" in m.text)
    await person.press_on(listing, listing.labels[0], wait=0)


@pytest.mark.parametrize(
    ("language", "me", "oldest"),
    [("kk", "🙋 Өзімді жазу", "60 жастан бастап"), ("ru", "🙋 Записаться", "60 лет и старше")],
)
async def test_the_age_question_of_a_booking_shows_every_label_whole(
    browser: Any,
    sandbox: Any,
    client: Any,
    bot_factory: BotFactory,
    clock: Clock,
    language: str,
    me: str,
    oldest: str,
) -> None:
    person = await client.user("Айгүл" if language == "kk" else "Ольга", language_code=language)
    async with bot_factory(seed=True) as app:
        page = await phone_of(browser, sandbox, person)
        await open_a_class_in_shakat(app, clock, person, language)
        card = await person.wait_for(lambda m: me in m.labels)
        await person.press_on(card, me, wait=0)
        assert await cut_once_shown(page, oldest) == []
        await page.screenshot(path=f"/tmp/auylnet-age-question-{language}.png")


@pytest.mark.parametrize(
    ("language", "relative", "calendar"),
    [
        ("kk", "👵 Туысымды жазу", "📅 Күнтізбеге қосу"),
        ("ru", "👵 Записать родственника", "📅 Добавить в календарь"),
    ],
)
async def test_a_class_card_with_a_booking_shows_every_label_whole(
    browser: Any,
    sandbox: Any,
    client: Any,
    bot_factory: BotFactory,
    clock: Clock,
    language: str,
    relative: str,
    calendar: str,
) -> None:
    person = await client.user("Сәуле" if language == "kk" else "Ирина", language_code=language)
    async with bot_factory(seed=True) as app:
        page = await phone_of(browser, sandbox, person)
        await open_a_class_in_shakat(app, clock, person, language)
        card = await person.wait_for(lambda m: relative in m.labels)
        await person.press_on(card, relative, wait=0)
        await person.wait_for(lambda m: m.message_id == card.message_id and len(m.labels) == 1)  # the name?
        await person.send("Апам Күлән")
        asked = await person.wait_for(lambda m: any(label.startswith("60") for label in m.labels))
        await person.press_on(asked, next(label for label in asked.labels if label.startswith("60")), wait=0)
        assert await cut_once_shown(page, calendar) == []
        await page.screenshot(path=f"/tmp/auylnet-class-card-{language}.png")
