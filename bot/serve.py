"""Running the bot: polling or webhook, the health check, and a graceful stop.

``auylnet run`` calls :func:`serve`; tests, the demo and the benchmarks enter :func:`running`
(through ``bot.runner.polling``) inside an event loop they own. Either way updates come in through
the inbox (``bot.inbox``): stored before Telegram is told they arrived, handled from there.

Stopping (SIGTERM or SIGINT, or leaving ``running``) goes in this order, so nothing is half-written:

1. stop fetching: the long poll is cancelled / the webhook server stops taking requests (a request
   being stored finishes first; a refused one is retried by Telegram later);
2. let running handlers finish, for at most ``stop_timeout`` seconds; those cut short and those not
   started stay undone in the inbox and are handled after the next start;
3. save the done marks and conversation states (persistence flush);
4. stop the Application (job queue), then the outbox worker (its rows stay pending);
5. close the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import secrets
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from aiohttp import web
from telegram.error import InvalidToken

from bot.api.config import ApiSettings
from bot.api.server import start_api
from bot.app import AuylNetApp, build_application
from bot.config import Settings
from bot.health import HealthCheck, add_health_route
from bot.inbox import ALLOWED_UPDATES, Inbox, confirm_fetched, poll
from bot.stats import offload

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
Mode = Literal["polling", "webhook"]


@dataclass
class Serving:
    """What :func:`running` started."""

    application: AuylNetApp
    inbox: Inbox
    mode: Mode
    health: HealthCheck
    # Set when fetching ended for good (a rejected token): the process should stop.
    failed: asyncio.Event = field(default_factory=asyncio.Event)
    webhook_secret: str | None = None
    bound_port: int | None = None


def webhook_secret(settings: Settings) -> str:
    """The configured secret token, or a fresh one for this run (its value is never logged)."""
    if settings.webhook_secret is not None:
        return settings.webhook_secret.get_secret_value()
    log.info("AUYLNET_WEBHOOK_SECRET is not set: generated a secret token for this run")
    return secrets.token_urlsafe(32)


class WebhookReceiver:
    """``POST <path>``: check the secret token, store the update in the inbox, then answer 200."""

    def __init__(self, inbox: Inbox, secret: str) -> None:
        self._inbox = inbox
        self._secret = secret.encode()
        self._refused = 0
        self._refused_logged_at = 0.0

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            self._note_refusal(request)
            return web.Response(status=403, text="forbidden")
        if not self._inbox.accepting:
            return web.Response(status=503, text="stopping")  # Telegram tries again later
        raw = await request.text()
        try:
            payload = json.loads(raw)
            if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
                raise ValueError("not an update")
        except ValueError:
            return web.Response(status=400, text="not an update")
        try:
            await self._inbox.receive_json(payload, raw)
        except Exception:
            log.exception(
                "webhook: could not store update %s; Telegram will send it again", payload["update_id"]
            )
            return web.Response(status=503, text="try again")
        return web.Response(status=200)

    def _note_refusal(self, request: web.Request) -> None:
        # Counted, and logged at most once a minute: refused requests must not flood the log.
        self._refused += 1
        if time.monotonic() - self._refused_logged_at > 60:
            self._refused_logged_at = time.monotonic()
            log.warning(
                "webhook: refused %d request(s) without the right secret token (latest from %s)",
                self._refused,
                request.remote,
            )
            self._refused = 0


async def _start_site(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=5.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound = int(runner.addresses[0][1]) if runner.addresses else port
    return runner, bound


@asynccontextmanager
async def running(
    application: AuylNetApp,
    *,
    mode: Mode | None = None,
    health_server: bool = False,
    poll_timeout: float = 25.0,
    poll_interval: float = 0.0,
) -> AsyncIterator[Serving]:
    """Start the Application and take updates (polling, or webhook when ``webhook_url`` is set).

    ``health_server``: in polling mode, also serve ``/healthz`` on ``health_listen:health_port``
    (webhook mode always serves it on the webhook server).
    """
    settings = application.bot_data.config
    chosen: Mode = mode or ("webhook" if settings.webhook_url else "polling")
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        inbox = Inbox(application)
        health = HealthCheck(application, mode=chosen)
        serving = Serving(application, inbox, chosen, health)
        await application.start()
        fetcher: asyncio.Task[None] | None = None
        site: web.AppRunner | None = None
        try:
            await inbox.start()
            if chosen == "webhook":
                site = await _serve_webhook(serving, settings)
            else:
                await application.bot.delete_webhook(drop_pending_updates=False)
                fetcher = asyncio.create_task(
                    poll(inbox, application, timeout=poll_timeout, poll_interval=poll_interval),
                    name="getUpdates",
                )
                fetcher.add_done_callback(lambda task: _note_end(task, serving))
                if health_server and settings.health_port:
                    site = await _serve_health(serving, settings)
            yield serving
        finally:
            if fetcher is not None:
                fetcher.cancel()
                with contextlib.suppress(BaseException):
                    await fetcher
            if site is not None:
                await site.cleanup()
            await inbox.stop(settings.stop_timeout)
            if fetcher is not None:
                await confirm_fetched(application)
            await health.close()
            if application.running:
                await application.stop()
    finally:
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


async def _serve_webhook(serving: Serving, settings: Settings) -> web.AppRunner:
    assert settings.webhook_url is not None
    secret = webhook_secret(settings)
    app = web.Application()
    app.router.add_post(
        urlsplit(settings.webhook_url).path or "/", WebhookReceiver(serving.inbox, secret).handle
    )
    add_health_route(app, serving.health)
    site, bound = await _start_site(app, settings.webhook_listen, settings.webhook_port)
    try:
        await serving.application.bot.set_webhook(
            settings.webhook_url,
            secret_token=secret,
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=False,
        )
    except BaseException:
        await site.cleanup()
        raise
    serving.webhook_secret, serving.bound_port = secret, bound
    log.info(
        "webhook mode: Telegram posts to %s, served on %s:%d (health at /healthz)",
        settings.webhook_url,
        settings.webhook_listen,
        bound,
    )
    return site


async def _serve_health(serving: Serving, settings: Settings) -> web.AppRunner | None:
    app = web.Application()
    add_health_route(app, serving.health)
    try:
        site, bound = await _start_site(app, settings.health_listen, settings.health_port)
    except OSError as error:
        # The bot still answers people; the monitor will see the check missing.
        log.error(
            "health check not served: %s:%d (AUYLNET_HEALTH_PORT): %s",
            settings.health_listen,
            settings.health_port,
            error,
        )
        return None
    serving.bound_port = bound
    log.info("health check on http://%s:%d/healthz", settings.health_listen, bound)
    return site


def _note_end(task: asyncio.Task[None], serving: Serving) -> None:
    if not task.cancelled() and task.exception() is not None:
        serving.failed.set()


@asynccontextmanager
async def _open_api(application: AuylNetApp, api: ApiSettings) -> AsyncIterator[None]:
    """The open HTTP API in the bot's own process, when ``AUYLNET_API_WITH_BOT`` asks for it."""
    if not api.with_bot:
        yield
        return
    runner = await start_api(application, api.listen, api.port, api_settings=api)
    try:
        yield
    finally:
        await runner.cleanup()


async def serve(settings: Settings) -> int:
    """``auylnet run``: serve until SIGTERM or SIGINT; the exit status."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    application = build_application(settings)
    api = ApiSettings()
    offload.start()  # the chart worker warms up meanwhile, so the first /stats is not slow
    try:
        async with running(application, health_server=True) as serving, _open_api(application, api):
            stopped = asyncio.create_task(stop.wait())
            failed = asyncio.create_task(serving.failed.wait())
            await asyncio.wait({stopped, failed}, return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            failed.cancel()
            if serving.failed.is_set():
                log.error("stopping: updates can no longer be fetched")
                return 1
            log.info("stopping (signal received)")
    except InvalidToken:
        log.error("auylnet could not run: Telegram rejected the bot token (AUYLNET_BOT_TOKEN)")
        return 1
    except Exception as error:
        # PTB puts the token into some messages; it never reaches the log.
        message = str(error).replace(settings.bot_token.get_secret_value(), "<token>")
        log.error("auylnet could not run: %s: %s", type(error).__name__, message)
        return 1
    return 0
