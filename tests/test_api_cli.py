"""The API from the command line: keys and webhooks for an operator, and ``auylnet api`` serving."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.cli import main

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cli.db"
    monkeypatch.setenv("AUYLNET_DB_PATH", str(path))
    monkeypatch.chdir(tmp_path)  # no stray .env
    return path


def test_keys_are_created_listed_and_revoked(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apikey", "create", "e-Akimat Pavlodar", "--scope", "write", "--area", "55"]) == 0
    created = capsys.readouterr().out.splitlines()
    assert created[0] == "key 1 for e-Akimat Pavlodar: write, area 55"
    token = created[1].removeprefix("token (shown only now): ")
    assert token.startswith("aun_")

    assert main(["apikey", "list"]) == 0
    listed = capsys.readouterr().out
    assert "e-Akimat Pavlodar" in listed and "write\t55" in listed and "active" in listed
    assert token not in listed and token[:10] in listed

    assert main(["apikey", "revoke", "1"]) == 0
    assert capsys.readouterr().out == "key 1 revoked\n"
    assert main(["apikey", "revoke", "1"]) == 1
    assert "no active key 1" in capsys.readouterr().err
    assert main(["apikey", "create", "X", "--scope", "read", "--area", "Pavlodar"]) == 2
    assert "KATO prefix" in capsys.readouterr().err


def test_webhooks_are_added_with_a_secret_shown_once(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "webhook",
                "add",
                "https://akimat.example.kz/auylnet",
                "--events",
                "stage_changed,incident_opened",
            ]
        )
        == 0
    )
    added = capsys.readouterr().out.splitlines()
    assert added[0] == "webhook 1: https://akimat.example.kz/auylnet ← stage_changed, incident_opened"
    secret = added[1].removeprefix("signing secret (shown only now): ")
    assert len(secret) == 64
    assert main(["webhook", "list"]) == 0
    listed = capsys.readouterr().out
    assert "stage_changed,incident_opened\t0 waiting" in listed and secret not in listed
    assert main(["webhook", "add", "https://x.kz", "--events", "rain"]) == 2
    assert "unknown event kinds 'rain'" in capsys.readouterr().err
    assert main(["webhook", "remove", "1"]) == 0
    assert main(["webhook", "remove", "1"]) == 1


async def test_auylnet_api_serves_until_stopped(database: Path) -> None:
    env = {**os.environ, "AUYLNET_DB_PATH": str(database), "AUYLNET_API_PORT": "0"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "api", env=env, cwd=database.parent, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        assert line.startswith("AuylNet API on http://127.0.0.1:"), line
        base = line.split()[3].rstrip("/")
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{base}/open311/v2/services.json?locale=kk") as response,
        ):
            services = json.loads(await response.read())
        assert services[0]["service_name"] == "Үй интернетіндегі ақау"
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
