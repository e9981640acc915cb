"""Build the PTB Application from settings."""

from __future__ import annotations

import logging
from typing import Any

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, Defaults

from bot.clock import Clock
from bot.config import Settings
from bot.context import BotContext, Services
from bot.i18n import use_zone
from bot.persistence import SQLitePersistence
from bot.updates import PerChatUpdateProcessor
from handlers import register_all, shutdown_all, startup_all
from handlers.start import set_default_commands

log = logging.getLogger(__name__)

AuylNetApp = Application[Any, BotContext, dict[Any, Any], dict[Any, Any], Services, Any]


def file_base_url(api_base_url: str) -> str:
    """``…/bot`` → ``…/file/bot``, as Telegram and the sandbox lay out file downloads."""
    root, _, _ = api_base_url.rpartition("/bot")
    return f"{root}/file/bot"


def build_application(settings: Settings, *, clock: Clock | None = None) -> AuylNetApp:
    use_zone(settings.zone)
    persistence = SQLitePersistence()
    application = (
        ApplicationBuilder()
        .token(settings.bot_token.get_secret_value())
        .base_url(settings.api_base_url)
        .base_file_url(file_base_url(settings.api_base_url))
        .context_types(ContextTypes(context=BotContext, bot_data=Services))
        .persistence(persistence)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .rate_limiter(
            AIORateLimiter(
                overall_max_rate=settings.rate_global_per_second,
                group_max_rate=settings.rate_group_per_minute,
                group_time_period=60,
                max_retries=2,
            )
        )
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
