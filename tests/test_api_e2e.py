"""Another system files a report through the API; the staff group works it in Telegram; the API and a
webhook follow it to the end."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any

import aiohttp
from aiohttp import web

from bot.api import keys, service
from bot.api.server import start_api
from bot.clock import Clock
from db import users
from tests.api_support import BAYANAUL, api_settings
from tests.conftest import BotFactory

STAFF_ID = 620001


async def test_a_report_from_another_system_reaches_the_staff_group_and_reads_closed_when_resolved(
    client: Any, bot_factory: BotFactory, clock: Clock
) -> None:
    received: list[tuple[bytes, str]] = []
    all_three = asyncio.Event()

    async def hook(request: web.Request) -> web.Response:
        received.append((await request.read(), request.headers["X-AuylNet-Signature"]))
        if len(received) >= 3:
            all_three.set()
        return web.Response(status=200)

    receiver = web.Application()
    receiver.router.add_post("/events", hook)
    receiver_runner = web.AppRunner(receiver)
    await receiver_runner.setup()
    await web.TCPSite(receiver_runner, "127.0.0.1", 0).start()
    hook_url = f"http://127.0.0.1:{receiver_runner.addresses[0][1]}/events"

    bolat = await client.user("Болат", id=STAFF_ID, language_code="kk")
    group = await client.group("AuylNet staff", [bolat])
    async with bot_factory(seed=True, staff_chat_id=group.id) as app:
        db = app.bot_data.db
        async with db.transaction() as tx:
            await users.grant_role(
                tx, user_id=STAFF_ID, role="staff", scope="55", actor_id=None, now=clock.now()
            )
        await bolat.send("/start")
        await bolat.next_message()
        await bolat.press("Қазақша")
        await bolat.wait_for(lambda m: bool(m.buttons))

        hook_made = await service.add_webhook(
            db,
            url=hook_url,
            kinds=["incident_opened", "incident_taken", "incident_resolved"],
            now=clock.now(),
        )
        assert app.bot_data.events is not None  # the bot delivers events itself
        runner = await start_api(app, "127.0.0.1", 0, api_settings=api_settings())
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        key = await keys.create_key(
            db, name="e-Akimat Pavlodar", scope="write", area="55", per_minute=None, now=clock.now()
        )
        try:
            async with aiohttp.ClientSession() as http:
                form = {
                    "api_key": key.token,
                    "service_code": "village",
                    "address_id": BAYANAUL,
                    "description": "Интернета нет во всём селе",
                    "first_name": "Гульнара",
                    "phone": "+77011234567",
                }
                async with http.post(f"{base}/open311/v2/requests.json", data=form) as response:
                    assert response.status == 201
                    [filed] = await response.json()
                number = filed["service_request_id"]

                in_group = bolat.in_chat(group)
                alert = await in_group.wait_for(lambda m: "Баянауыл" in m.text and "Ақау:" in m.text)
                assert "Гульнара" not in alert.text and "+7701" not in alert.text
                private = await bolat.wait_for(lambda m: "Баянауыл" in m.text)
                assert "бүкіл ауыл" in private.text

                async with http.get(
                    f"{base}/open311/v2/requests/{number}.json", params={"locale": "kk"}
                ) as response:
                    [seen] = await response.json()
                assert (seen["status"], seen["status_notes"]) == ("open", "Жаңа: инженерлерге хабар берілді.")

                assert await in_group.press_on(alert, "🙋 Қолға алу · Взять") == "Сіз қолға алдыңыз."
                await in_group.wait_for(
                    lambda m: m.message_id == alert.message_id and "Инженер: Болат" in m.text
                )
                await in_group.press_on(alert, "✅ Шешілді · Решено", wait=0)
                await in_group.wait_for(
                    lambda m: m.message_id == alert.message_id and "Жөнделді · Исправлено" in m.labels
                )
                await in_group.press_on(alert, "Жөнделді · Исправлено")

                async def closed() -> dict[str, Any]:
                    while True:
                        async with http.get(
                            f"{base}/open311/v2/requests/{number}.json", params={"locale": "ru"}
                        ) as response:
                            [found] = await response.json()
                        if found["status"] == "closed":
                            return found  # type: ignore[no-any-return]
                        await asyncio.sleep(0.05)

                done = await asyncio.wait_for(closed(), 10)
                assert done["status_notes"] == "Решено: сбой устранён."

            await asyncio.wait_for(all_three.wait(), 10)
        finally:
            await runner.cleanup()
            await receiver_runner.cleanup()

    bodies = [json.loads(body) for body, _ in received]
    assert [(b["kind"], b["subject"]) for b in bodies] == [
        ("incident_opened", "incident:1"),
        ("incident_taken", "incident:1"),
        ("incident_resolved", "incident:1"),
    ]
    assert bodies[0]["data"] == {"incident": 1, "village": BAYANAUL, "service_code": "village", "reopened": 0}
    assert bodies[2]["data"]["resolution"] == "fixed"
    for body, signature in received:
        expected = "sha256=" + hmac.new(hook_made.secret.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(signature, expected)
        assert b"Gul" not in body and "Гульнара".encode() not in body and b"+7701" not in body
