"""Running the application inside an event loop we own (demo, tests, benchmarks).

``Application.run_polling`` owns its loop and is what ``auylnet run`` uses; everywhere the bot shares
a loop with the sandbox, this does the same steps in the same order.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import Update

from bot.app import AuylNetApp


@asynccontextmanager
async def polling(application: AuylNetApp, *, poll_interval: float = 0.0) -> AsyncIterator[AuylNetApp]:
    """Initialise, start and poll; on exit stop and shut down as ``run_polling`` would."""
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        assert application.updater is not None
        await application.updater.start_polling(
            poll_interval=poll_interval, timeout=1, allowed_updates=Update.ALL_TYPES
        )
        await application.start()
        try:
            yield application
        finally:
            if application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
    finally:
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


async def run_until_stopped(application: AuylNetApp, stop: asyncio.Event) -> None:
    async with polling(application):
        await stop.wait()
