"""The open HTTP API: an aiohttp application on its own port.

``start_api(target, host, port)`` serves it next to a running bot (``target`` is the bot's
``Application`` or its ``Services``) or on its own (``auylnet api``); it returns the aiohttp
``AppRunner``: ``runner.addresses`` holds the bound address, ``await runner.cleanup()`` stops it.
"""

from __future__ import annotations

import gc
import ipaddress
import logging
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from aiohttp import web

from bot.api import feed, keys, open311
from bot.api.config import ApiSettings
from bot.api.web import API, Api, Refusal, api_of, current_key, refusal_answer
from bot.clock import Clock
from bot.config import Settings
from db.database import Database

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def openapi_document() -> bytes:
    """The OpenAPI 3 description of this API, as shipped in the package."""
    return resources.files("bot.api").joinpath("openapi.json").read_bytes()


async def _openapi(request: web.Request) -> web.Response:
    return web.Response(body=openapi_document(), content_type="application/json", charset="utf-8")


def _client_address(request: web.Request, trust_forwarded_for: bool) -> str:
    if trust_forwarded_for:
        forwarded = request.headers.get("X-Forwarded-For", "")
        last = forwarded.split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(last))
        except ValueError:
            pass
    return request.remote or "unknown"


async def _presented_token(request: web.Request) -> str | None:
    header = request.headers.get("X-API-Key")
    if header:
        return header.strip()
    if "api_key" in request.query:
        return request.query["api_key"].strip()
    if request.method == "POST" and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        form = await request.post()  # kept by aiohttp: the handler reads the same form
        value = form.get("api_key")
        return str(value).strip() if value else None
    return None


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Who is asking (a key or an address), their rate limit, and every refusal in the API's format."""
    api = api_of(request)
    try:
        token = await _presented_token(request)
        key = await keys.find_key(api.db, token) if token else None
        if token and key is None:
            raise Refusal(403, "bad_key")
        current_key.set(key)
        if key is not None:
            who, per_minute = f"key:{key.id}", key.per_minute or api.api_settings.key_per_minute
        else:
            who = f"ip:{_client_address(request, api.api_settings.trust_forwarded_for)}"
            per_minute = api.api_settings.anonymous_per_minute
        wait = api.limiter.take(who, per_minute)
        if wait:
            raise Refusal(429, "rate_limited", headers={"Retry-After": str(wait)}, seconds=wait)
        return await handler(request)
    except Refusal as refusal:
        return refusal_answer(request, refusal)
    except web.HTTPNotFound:
        return refusal_answer(request, Refusal(404, "not_found"))
    except web.HTTPMethodNotAllowed as error:
        return refusal_answer(
            request, Refusal(405, "not_allowed", headers={"Allow": ", ".join(sorted(error.allowed_methods))})
        )
    except web.HTTPRequestEntityTooLarge:
        return refusal_answer(request, Refusal(413, "too_large"))
    except web.HTTPException:
        raise
    except Exception:
        log.exception("API request %s %s failed", request.method, request.path)
        return refusal_answer(request, Refusal(500, "internal"))


def build_api(
    db: Database, settings: Settings, api_settings: ApiSettings, clock: Clock | None = None
) -> web.Application:
    app = web.Application(middlewares=[guard], client_max_size=64 * 1024)
    app[API] = Api(db=db, settings=settings, api_settings=api_settings, clock=clock or Clock())
    app.add_routes(open311.routes)
    app.add_routes(feed.routes)
    app.router.add_get("/api/openapi.json", _openapi)
    return app


def _parts(target: Any) -> tuple[Database, Settings, Clock]:
    """The database, settings and clock of a bot ``Application`` or of its ``Services``."""
    services = getattr(target, "bot_data", target)
    return services.db, services.config, services.clock


async def start_api(
    target: Any, host: str, port: int, *, api_settings: ApiSettings | None = None
) -> web.AppRunner:
    """Serve the API for a running bot (its ``Application`` or ``Services``); port 0 picks a free one."""
    db, settings, clock = _parts(target)
    app = build_api(db, settings, api_settings or ApiSettings(), clock)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    # What start-up loaded stays for the life of the process: the collector need not walk it again
    # and again while each answer allocates thousands of short-lived objects.
    gc.freeze()
    log.info("API listening on %s", runner.addresses)
    return runner
