"""Build the PTB Application from settings."""

from __future__ import annotations

import logging
from typing import Any

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults

from bot.clock import Clock
from bot.config import Settings
from bot.context import BotContext, Services
from bot.persistence import SQLitePersistence
from bot.telegram_api import build_bot, file_base_url
from bot.updates import PerChatUpdateProcessor
from handlers import register_all, shutdown_all, startup_all
from handlers.start import set_default_commands

log = logging.getLogger(__name__)

AuylNetApp = Application[Any, BotContext, dict[Any, Any], dict[Any, Any], Services, Any]


__all__ = ["AuylNetApp", "build_application", "file_base_url"]


def build_application(settings: Settings, *, clock: Clock | None = None) -> AuylNetApp:
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
    await services.open_database()
    await startup_all(application)
    await set_default_commands(application)
    log.info("AuylNet is up as @%s", application.bot.username)


async def _post_shutdown(application: AuylNetApp) -> None:
    await shutdown_all(application)
    await application.bot_data.close_database()
