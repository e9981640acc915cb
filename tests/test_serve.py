"""`auylnet run` as an operator runs it: webhook or polling, the health check, SIGTERM, a bad token."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.sandbox.client import SandboxClient, wait_until
from tests.conftest import BOT_TOKEN
from tests.test_webhook_e2e import free_port

pytestmark = pytest.mark.timeout(120)


async def auylnet_run(tmp_path: Path, *args: str, **env: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        *args,
        env={**os.environ, "AUYLNET_DB_PATH": str(tmp_path / "live.db"), **env},
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def healthz(port: int) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}/healthz", timeout=aiohttp.ClientTimeout(total=10)) as response,
    ):
        return response.status, json.loads(await response.text())


async def stop(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = await asyncio.wait_for(process.communicate(), 30)
    return output.decode()


async def test_webhook_mode_from_the_command_line(
    sandbox: Any, client: SandboxClient, tmp_path: Path
) -> None:
    port = free_port()
    process = await auylnet_run(
        tmp_path,
        "--webhook",
        f"http://127.0.0.1:{port}/hook",
        "--port",
        str(port),
        AUYLNET_BOT_TOKEN=BOT_TOKEN,
        AUYLNET_API_BASE_URL=sandbox.api_url,
    )
    try:
        await wait_until(
            lambda: any(bot.webhook is not None for bot in sandbox.state.bots.values()), timeout=30
        )
        person = await client.user("Дана", language_code="ru")
        await person.send("/start")
        assert (await person.next_message(timeout=30)).text.splitlines()[0] == "Выберите язык:"
        status, body = await healthz(port)
        assert status == 200 and body["mode"] == "webhook" and body["database"] == "ok"
        secret = next(iter(sandbox.state.bots.values())).webhook.secret_token
    finally:
        output = await stop(process)
    assert process.returncode == 0, output
    assert "generated a secret token" in output and secret not in output
    assert BOT_TOKEN not in output


async def test_polling_mode_serves_the_health_check_on_its_own_port(
    sandbox: Any, client: SandboxClient, tmp_path: Path
) -> None:
    port = free_port()
    process = await auylnet_run(
        tmp_path,
        AUYLNET_BOT_TOKEN=BOT_TOKEN,
        AUYLNET_API_BASE_URL=sandbox.api_url,
        AUYLNET_HEALTH_PORT=str(port),
    )
    try:
        await wait_until(lambda: sandbox.state.bots, timeout=30)

        async def answering() -> bool:
            try:
                return (await healthz(port))[0] == 200
            except aiohttp.ClientError:
                return False

        await wait_until(answering, timeout=30)
        _, body = await healthz(port)
        assert body["mode"] == "polling" and body["outbox_backlog"] == 0 and body["inbox_backlog"] == 0
    finally:
        output = await stop(process)
    assert process.returncode == 0, output


async def test_a_rejected_token_stops_the_bot_with_one_line_and_never_shows_it(
    sandbox: Any, tmp_path: Path
) -> None:
    rejected = "7000000001:" + "W" * 35  # the sandbox knows this bot by another token
    async with aiohttp.ClientSession() as http:
        await http.get(f"{sandbox.api_url}{BOT_TOKEN}/getMe")
    process = await auylnet_run(
        tmp_path, AUYLNET_BOT_TOKEN=rejected, AUYLNET_API_BASE_URL=sandbox.api_url, AUYLNET_HEALTH_PORT="0"
    )
    output, _ = await asyncio.wait_for(process.communicate(), 30)
    text = output.decode()
    assert process.returncode == 2  # an invalid setting (README: exit statuses)
    assert "invalid setting AUYLNET_BOT_TOKEN: Telegram rejected it" in text
    assert rejected not in text and "W" * 35 not in text
