"""Shared fixtures: the offline Telegram sandbox, its users, and the real bot running against it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.app import AuylNetApp, build_application
from bot.clock import Clock
from bot.config import Settings
from bot.runner import polling
from db.database import Database

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
BOTAPI_SPEC = SHARED / "data" / "botapi-10.0.json"
KATO_CSV = SHARED / "data" / "kato.csv"
BOT_TOKEN = "7000000001:" + "T" * 35

BotFactory = Callable[..., AbstractAsyncContextManager[AuylNetApp]]


def spec_path() -> Path | None:
    """The official Bot API spec when ../shared is there; the sandbox checks limits only without it."""
    return BOTAPI_SPEC if BOTAPI_SPEC.exists() else None


@pytest.fixture
async def sandbox() -> AsyncIterator[Any]:
    from bot.sandbox.server import run_sandbox

    async with run_sandbox(port=0, spec_path=spec_path()) as running:
        yield running


@pytest.fixture
async def client(sandbox: Any) -> AsyncIterator[Any]:
    from bot.sandbox.client import SandboxClient

    async with SandboxClient(sandbox.url) as sandbox_client:
        yield sandbox_client


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def bot_factory(sandbox: Any, tmp_path: Path, clock: Clock) -> BotFactory:
    """Start the real Application against the sandbox; leaving the block stops it.

    Entering again restarts the bot on the same database file, as a redeploy would.
    """
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
        async with polling(application) as running:
            yield running

    return start
