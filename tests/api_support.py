"""Running the open API against a real SQLite file, for tests and benchmarks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.api import keys
from bot.api.config import ApiSettings
from bot.api.server import build_api
from bot.clock import Clock
from bot.config import Settings
from db.database import Database

SHAKAT = "556069100"  # Pavlodar region, under construction: no network yet
BAYANAUL = "553630100"  # Pavlodar region, connected by fibre
AKTOBE_VILLAGE = "154630100"  # Aktobe region, connected


def bot_settings(db_path: Path, **overrides: Any) -> Settings:
    return Settings(bot_token="1:x", db_path=db_path, _env_file=None, **overrides)  # type: ignore[arg-type, call-arg]


def api_settings(**overrides: Any) -> ApiSettings:
    values: dict[str, Any] = {"anonymous_per_minute": 100_000, "key_per_minute": 100_000, **overrides}
    return ApiSettings(_env_file=None, **values)  # type: ignore[call-arg]


async def seeded_database(path: Path) -> Database:
    from bot.demo.seed import seed_demo

    db = await Database.open(path)
    await seed_demo(db)
    return db


@dataclass
class RunningApi:
    url: str
    db: Database
    http: aiohttp.ClientSession
    clock: Clock
    settings: Settings

    async def key(self, name: str, scope: str, area: str = "", per_minute: int | None = None) -> str:
        made = await keys.create_key(
            self.db,
            name=name,
            scope=scope,
            area=area,
            per_minute=per_minute,
            now=self.clock.now(),  # type: ignore[arg-type]
        )
        return made.token

    async def get(self, path: str, **params: str) -> aiohttp.ClientResponse:
        response = await self.http.get(self.url + path, params=params)
        await response.read()
        return response

    async def post(
        self, path: str, data: dict[str, str], headers: dict[str, str] | None = None
    ) -> aiohttp.ClientResponse:
        response = await self.http.post(self.url + path, data=data, headers=headers)
        await response.read()
        return response


@asynccontextmanager
async def running_api(
    db: Database, settings: Settings, clock: Clock | None = None, **overrides: Any
) -> AsyncIterator[RunningApi]:
    """The API served on a free port over ``db``, and a client session for it."""
    clock = clock or Clock()
    app = build_api(db, settings, api_settings(**overrides), clock)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as http:
            yield RunningApi(f"http://127.0.0.1:{port}", db, http, clock, settings)
    finally:
        await runner.cleanup()
