"""Webhook mode: the same stories as polling, with Telegram (the sandbox) posting each update.

The stories of first contact and of an outage are imported from their modules and run here against
a ``bot_factory`` that starts the bot in webhook mode: the sandbox learns the URL and the secret
token from ``setWebhook`` and POSTs every update with the ``X-Telegram-Bot-Api-Secret-Token`` header.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import AuylNetApp, build_application
from bot.clock import Clock
from bot.config import Settings
from bot.sandbox.client import SandboxClient, wait_until
from bot.serve import SECRET_HEADER, running
from db import outbox
from db.database import Database
from tests.conftest import BOT_TOKEN, BotFactory

# The stories, run here in webhook mode (pytest collects them again in this module).
from tests.test_first_contact import (  # noqa: F401
    test_a_button_that_fails_after_answering_still_gets_an_apology,
    test_a_resident_sees_and_deletes_their_data,
    test_an_admin_sees_notification_delivery,
    test_an_error_is_told_to_the_person_and_the_bot_goes_on,
    test_an_invite_makes_staff_once_and_expires,
    test_first_contact_in_kazakh,
    test_first_contact_in_russian_survives_a_restart,
    test_help_explains_by_role,
    test_language_can_be_changed_any_time,
    test_odd_input_gets_a_clear_answer,
    test_resident_is_refused_admin_commands_and_forged_buttons,
    test_the_command_menu_speaks_each_language,
)
from tests.test_outages_e2e import test_neighbours_report_staff_resolve_and_one_says_no  # noqa: F401

HOOK_PATH = "/telegram/7f3c"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def webhook_port() -> int:
    return free_port()


@pytest.fixture
def bot_factory(sandbox: Any, tmp_path: Path, clock: Clock, webhook_port: int) -> BotFactory:
    """Like the polling ``bot_factory`` in conftest, but the bot runs in webhook mode."""
    db_path = tmp_path / "auylnet.db"
    seeded: list[bool] = []

    @asynccontextmanager
    async def start(
        *,
        admin_ids: frozenset[int] | set[int] = frozenset(),
        staff_chat_id: int | None = None,
        seed: bool = False,
        **overrides: Any,
    ) -> AsyncIterator[AuylNetApp]:
        settings = Settings(
            bot_token=BOT_TOKEN,  # type: ignore[arg-type]
            api_base_url=sandbox.api_url,
            db_path=db_path,
            admin_ids=frozenset(admin_ids),
            staff_chat_id=staff_chat_id,
            webhook_url=f"http://127.0.0.1:{webhook_port}{HOOK_PATH}",
            webhook_port=webhook_port,
            _env_file=None,  # type: ignore[call-arg]
            **overrides,
        )
        if seed and not seeded:
            from bot.demo.seed import seed_demo

            database = await Database.open(db_path)
            try:
                await seed_demo(database)
            finally:
                await database.close()
            seeded.append(True)
        application = build_application(settings, clock=clock)
        async with running(application) as serving:
            assert serving.mode == "webhook"
            yield application

    return start


async def test_the_bot_registers_its_webhook_with_a_secret_and_every_update_kind(
    sandbox: Any, client: SandboxClient, bot_factory: BotFactory, webhook_port: int
) -> None:
    async with bot_factory() as app:
        bot_state = next(iter(sandbox.state.bots.values()))
        hook = bot_state.webhook
        assert hook is not None and hook.url == f"http://127.0.0.1:{webhook_port}{HOOK_PATH}"
        assert hook.secret_token and len(hook.secret_token) >= 32
        assert set(hook.allowed_updates) >= {"message", "callback_query", "my_chat_member"}
        aigul = await client.user("Айгүл", language_code="kk")
        await aigul.send("/start")
        assert "Тілді таңдаңыз:" in (await aigul.next_message()).text
        async with app.bot_data.db.read() as conn:
            rows = await conn.execute_fetchall("SELECT outcome, payload FROM inbox")
        # Stored, handled, and its contents (names, what was typed) not kept after handling.
        assert [tuple(row) for row in rows] == [("ok", None)]


async def test_a_request_without_the_secret_is_refused_and_changes_nothing(
    sandbox: Any, client: SandboxClient, bot_factory: BotFactory, webhook_port: int
) -> None:
    olga = await client.user("Ольга", language_code="ru")
    forged = {
        "update_id": 990001,
        "message": {
            "message_id": 1,
            "date": 1_790_000_000,
            "chat": {"id": olga.id, "type": "private", "first_name": "Ольга"},
            "from": {"id": olga.id, "is_bot": False, "first_name": "Ольга", "language_code": "ru"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    url = f"http://127.0.0.1:{webhook_port}{HOOK_PATH}"
    async with bot_factory() as app, aiohttp.ClientSession() as http:
        async with http.post(url, json=forged) as response:
            assert response.status == 403
        async with http.post(url, json=forged, headers={SECRET_HEADER: "not-the-secret"}) as response:
            assert response.status == 403
        await asyncio.sleep(0.5)
        async with app.bot_data.db.read() as conn:
            stored = await conn.execute_fetchall("SELECT update_id FROM inbox")
            known = await conn.execute_fetchall("SELECT id FROM users WHERE id = ?", (olga.id,))
        assert list(stored) == [] and list(known) == []
        assert await olga.messages() == []

        # With the secret the same request is an update like any other, handled once even if
        # Telegram sends it twice.
        bot_state = next(iter(sandbox.state.bots.values()))
        headers = {SECRET_HEADER: bot_state.webhook.secret_token}
        for _ in range(2):
            async with http.post(url, json=forged, headers=headers) as response:
                assert response.status == 200
        prompt = await olga.next_message()
        assert prompt.text.splitlines()[0] == "Выберите язык:"
        await asyncio.sleep(0.5)
        assert len(await olga.messages()) == 1


async def health(port: int) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/healthz", timeout=aiohttp.ClientTimeout(total=10)) as response,
    ):
        return response.status, json.loads(await response.text())


async def test_health_turns_unhealthy_while_the_database_is_locked_and_back_after(
    client: SandboxClient, bot_factory: BotFactory, webhook_port: int, tmp_path: Path
) -> None:
    async with bot_factory():
        status, body = await health(webhook_port)
        assert status == 200, body
        assert body["status"] == "ok" and body["database"] == "ok" and body["mode"] == "webhook"
        assert body["outbox_backlog"] == 0 and body["oldest_pending_age_seconds"] is None
        assert body["inbox_backlog"] == 0 and body["outbox_worker"] == "running"

        # Another process holds the database's write lock: the bot could not commit anything.
        locker = sqlite3.connect(tmp_path / "auylnet.db", isolation_level=None, timeout=5)
        locker.execute("BEGIN EXCLUSIVE")
        try:
            status, body = await health(webhook_port)
            assert status == 503
            assert body["status"] == "unhealthy" and body["problems"] == ["database"]
            assert body["database"].startswith("unavailable: OperationalError: database is locked")
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        status, body = await health(webhook_port)
        assert status == 200 and body["database"] == "ok"


async def test_health_reports_a_stuck_outbox(
    client: SandboxClient, bot_factory: BotFactory, webhook_port: int, clock: Clock
) -> None:
    aigul = await client.user("Айгүл", language_code="kk")
    async with bot_factory() as app:
        services = app.bot_data
        # Nothing delivers: the worker is stopped while a notification waits.
        await services.outbox.stop()
        async with services.db.transaction() as conn:
            await outbox.enqueue(conn, chat_id=aigul.id, kind="outbox.test", params={}, now=clock.now())
        status, body = await health(webhook_port)
        assert status == 503 and body["problems"] == ["outbox"]
        assert body["outbox_backlog"] == 1 and body["outbox_worker"] == "stopped"
        await services.outbox.start()
        await wait_until(lambda: services.outbox.running)
        # Running again; the row is young, so a busy queue is not a stuck one.
        assert (await health(webhook_port))[0] == 200
