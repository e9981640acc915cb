"""Running the application inside an event loop we own (demo, tests, benchmarks).

The same start and stop as ``auylnet run`` (``bot.serve``): updates through the inbox, polling
unless ``webhook_url`` is set in the settings (tests of webhook mode use ``bot.serve.running``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.app import AuylNetApp
from bot.serve import running


@asynccontextmanager
async def polling(application: AuylNetApp, *, poll_interval: float = 0.0) -> AsyncIterator[AuylNetApp]:
    """Initialise, start and poll; on exit stop gracefully (handlers finish, the outbox stops)."""
    async with running(application, mode="polling", poll_timeout=1.0, poll_interval=poll_interval):
        yield application


async def run_until_stopped(application: AuylNetApp, stop: asyncio.Event) -> None:
    async with polling(application):
        await stop.wait()
