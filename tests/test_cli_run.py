"""`auylnet run` is the same bot: pointed at the sandbox by one setting, it answers like in the demo."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from bot.sandbox.client import SandboxClient, wait_until
from tests.conftest import BOT_TOKEN


async def test_auylnet_run_serves_a_resident_and_stops_cleanly(
    sandbox, client: SandboxClient, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "AUYLNET_BOT_TOKEN": BOT_TOKEN,
        "AUYLNET_API_BASE_URL": sandbox.api_url,
        "AUYLNET_DB_PATH": str(tmp_path / "live.db"),
        "AUYLNET_DEFAULT_LANGUAGE": "ru",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        await wait_until(lambda: sandbox.state.bots, timeout=30)  # the bot process has connected
        person = await client.user("Дана", language_code="en")
        await person.send("/start")
        prompt = await person.next_message(timeout=30)
        # Telegram says "en": the configured default language (ru) is suggested first.
        assert prompt.text.splitlines()[:2] == ["Выберите язык:", "Тілді таңдаңыз:"]
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, output.decode()
    assert (tmp_path / "live.db").exists()


async def test_auylnet_sandbox_runs_alone(tmp_path: Path) -> None:
    import aiohttp

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "sandbox",
        "--port",
        "18093",
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        assert process.stdout is not None
        banner = await asyncio.wait_for(process.stdout.readline(), 30)
        while b"sandbox on" not in banner:
            banner = await asyncio.wait_for(process.stdout.readline(), 30)
        assert b"http://127.0.0.1:18093/" in banner
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:18093/bot{BOT_TOKEN}/getMe") as response:
                me = await response.json()
            async with http.get("http://127.0.0.1:18093/") as page:
                assert "<title>AuylNet · sandbox chat</title>" in await page.text()
        assert me["ok"] and me["result"]["is_bot"]
    finally:
        process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0
