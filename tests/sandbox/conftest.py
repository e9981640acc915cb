"""Fixtures for the sandbox's own tests: the Bot API spec from ../shared, and sandboxes to run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import Bot

from bot.sandbox.limits import Limits
from bot.sandbox.server import RunningSandbox, run_sandbox

SPEC_PATH = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "botapi-10.0.json"
TOKEN = "123456:" + "A" * 35


@pytest.fixture(scope="session")
def botapi_spec() -> Path:
    """The official Bot API 10.0 spec; tests that check against it skip when ../shared is absent."""
    if not SPEC_PATH.exists():
        pytest.skip(f"the Bot API spec is not at {SPEC_PATH.resolve()} (../shared is absent)")
    return SPEC_PATH


@pytest.fixture
async def strict_sandbox(botapi_spec: Path) -> AsyncIterator[RunningSandbox]:
    """The sandbox checking every call against the spec, flood control off."""
    async with run_sandbox(port=0, spec_path=botapi_spec, limits=Limits(enabled=False)) as sandbox:
        yield sandbox


@pytest.fixture
async def limits_only_sandbox() -> AsyncIterator[RunningSandbox]:
    """The sandbox without the spec file: it checks Telegram's limits only (flood control on)."""
    async with run_sandbox(port=0, spec_path=None) as sandbox:
        yield sandbox


def make_bot(sandbox: RunningSandbox) -> Bot:
    return Bot(TOKEN, base_url=sandbox.api_url, base_file_url=sandbox.url + "/file/bot")
