"""The staff group's alert on a phone-sized chat page in headless Chromium: every button of the alert
and of its reasons for «Resolved», in Kazakh and Russian side by side, reads whole, none cut."""

from __future__ import annotations

from typing import Any

import pytest

from bot.clock import Clock
from tests.conftest import BotFactory
from tests.test_browser_page import PHONE, WAIT_MS, browser  # noqa: F401  (the fixture)
from tests.test_outages_staff_e2e import BAYANAUL, report
from tests.test_outages_story_e2e import grant_staff, greet, live_in, shows

pytestmark = pytest.mark.browser

BOLAT, ADMIN = 641001, 641002

CUT_LABELS = """() => [...document.querySelectorAll('.inline-button')]
    .map(button => button.querySelector('.label'))
    .filter(label => label.scrollWidth > label.clientWidth)
    .map(label => label.textContent)"""


async def test_the_groups_bilingual_reasons_for_resolved_are_not_cut_on_a_phone(
    browser: Any,  # noqa: F811
    sandbox: Any,
    client: Any,
    bot_factory: BotFactory,
    clock: Clock,
) -> None:
    bolat = await client.user("Болат", id=BOLAT, language_code="kk")
    admin = await client.user("Азамат", id=ADMIN, language_code="ru")
    resident = await client.user("Гүлнар", language_code="kk")
    group = await client.group("AuylNet staff", [bolat, admin])
    async with bot_factory(seed=True, staff_chat_id=group.id, admin_ids={ADMIN}) as app:
        for person, label in ((bolat, "Қазақша"), (admin, "Русский"), (resident, "Қазақша")):
            await greet(person, label)
        await grant_staff(app, BOLAT, "55", clock)
        await live_in(app, resident, BAYANAUL)
        await report(resident, ("Мектеп", "Бүгіннен бері", "📨 Қазір жіберу"))
        in_group = bolat.in_chat(group)
        alert = await in_group.wait_for(lambda m: "Ақау: Баянауыл" in m.text and "Сбой: Баянаул" in m.text)
        await in_group.press_on(alert, "✅ Шешілді · Решено", wait=0)
        reasons = await shows(in_group, alert.message_id, lambda m: "Жөнделді · Исправлено" in m.labels)
        assert len(reasons.labels) == 6

        page = await browser.new_page(viewport=PHONE)
        await page.goto(f"{sandbox.url}/?user={BOLAT}")
        await page.locator("#chat-subtitle", has_text="Болат").wait_for(timeout=WAIT_MS)
        await page.select_option("#chat-select", str(group.id))
        for label in reasons.labels:
            await page.locator(".inline-button", has_text=label).wait_for(timeout=WAIT_MS)
        assert await page.evaluate(CUT_LABELS) == []
        await page.screenshot(path="/tmp/auylnet-group-reasons.png")
