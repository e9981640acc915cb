"""Build the PTB Application from settings: the one place where the parts are put together.

At start (``post_init``): the database is opened and migrated, the village search index loaded,
the outbox worker started (woken after every commit that queued a notification) and the periodic
checks scheduled. At stop (``post_shutdown``) the same in reverse.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults

from bot.api.events import start_event_delivery
from bot.classes import service as classes
from bot.clock import Clock
from bot.config import Settings
from bot.context import BotContext, Services
from bot.i18n import use_zone
from bot.outages import service as outages
from bot.outbox import OutboxWorker
from bot.persistence import SQLitePersistence
from bot.stats import offload
from bot.telegram_api import build_bot, file_base_url
from bot.updates import PerChatUpdateProcessor
from db.database import Database
from handlers import register_all
from handlers.start import set_default_commands

log = logging.getLogger(__name__)

AuylNetApp = Application[Any, BotContext, dict[Any, Any], dict[Any, Any], Services, Any]


__all__ = ["AuylNetApp", "build_application", "file_base_url"]


@dataclass(frozen=True)
class PeriodicCheck:
    """A rule that runs on a timer: due reminders, offers that expired, outages nobody took."""

    name: str
    every: timedelta
    run: Callable[[Database, Settings, datetime], Awaitable[object]]


PERIODIC_CHECKS = (
    PeriodicCheck("class-checks", timedelta(seconds=30), classes.run_checks),
    PeriodicCheck("outage-service-levels", timedelta(seconds=60), outages.run_service_levels),
)


def build_application(settings: Settings, *, clock: Clock | None = None) -> AuylNetApp:
    use_zone(settings.zone)
    persistence = SQLitePersistence()
    defaults = Defaults(
        parse_mode=ParseMode.HTML,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    application = (
        ApplicationBuilder()
        # Timeouts, Telegram's limits and button answers: bot/telegram_api.py.
        .bot(build_bot(settings, defaults=defaults))
        # Updates come through the inbox (bot/inbox.py), not PTB's Updater: see bot/serve.py.
        .updater(None)
        .context_types(ContextTypes(context=BotContext, bot_data=Services))
        .persistence(persistence)
        .concurrent_updates(PerChatUpdateProcessor())
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    # PTB creates bot_data from the Services class; configure that instance.
    services: Services = application.bot_data
    services.settings = settings
    if clock is not None:
        services.clock = clock
    persistence.attach(services)
    register_all(application)
    return application


async def _post_init(application: AuylNetApp) -> None:
    services = application.bot_data
    db = await services.open_database()
    await services.reload_villages()
    worker = OutboxWorker(application.bot, db, services.config, services.clock)
    db.on_commit(worker.wake)
    services.outbox = worker
    await worker.start()
    services.events = await start_event_delivery(db, services.clock, zone=services.config.zone)
    if application.job_queue is not None:
        for check in PERIODIC_CHECKS:
            application.job_queue.run_repeating(
                # The first run soon after start catches up with what fell due while the bot was down.
                _periodic(check),
                interval=check.every,
                first=timedelta(seconds=1),
                name=check.name,
            )
    await set_default_commands(application)
    log.info("AuylNet is up as @%s", application.bot.username)


def _periodic(check: PeriodicCheck) -> Callable[[BotContext], Coroutine[Any, Any, None]]:
    async def run(context: BotContext) -> None:
        services = context.bot_data
        await check.run(services.db, services.config, services.clock.now())

    run.__name__ = check.name
    return run


async def _post_shutdown(application: AuylNetApp) -> None:
    services = application.bot_data
    if services.events is not None:
        await services.events.stop()
        services.events = None
    if services.outbox is not None:
        await services.outbox.stop()
        services.outbox = None
    await services.close_database()
    # The chart and file worker process, if anything started it.
    await asyncio.to_thread(offload.shutdown)
