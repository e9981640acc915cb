"""The sandbox's HTTP server: the Bot API for bots, a control API for users, the chat page."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from aiohttp import BodyPartReader, web

from bot.sandbox import controls
from bot.sandbox.botapi import METHODS
from bot.sandbox.limits import Limits
from bot.sandbox.spec import Spec, SpecError, Upload, coerce_without_spec, missing_parameter
from bot.sandbox.state import ApiError, World

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
TOKEN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")
# Without the spec file, the parameters the sandbox's own methods cannot do without.
_REQUIRED: dict[str, tuple[str, ...]] = {
    "sendMessage": ("chat_id", "text"),
    "sendPhoto": ("chat_id", "photo"),
    "sendDocument": ("chat_id", "document"),
    "sendLocation": ("chat_id", "latitude", "longitude"),
    "sendChatAction": ("chat_id", "action"),
    "editMessageText": ("text",),
    "deleteMessage": ("chat_id", "message_id"),
    "answerCallbackQuery": ("callback_query_id",),
    "getFile": ("file_id",),
    "setMyCommands": ("commands",),
    "setWebhook": ("url",),
}
WORLD: web.AppKey[World] = web.AppKey("world", World)
SPEC: web.AppKey[Spec | None] = web.AppKey("spec", object)  # type: ignore[arg-type]


def _answer(result: Any = None, error: ApiError | None = None) -> web.Response:
    if error is None:
        body: dict[str, Any] = {"ok": True, "result": result}
        status = 200
    else:
        body = {"ok": False, "error_code": error.code, "description": error.description}
        if error.parameters:
            body["parameters"] = error.parameters
        status = error.code
    return web.Response(
        text=json.dumps(body, ensure_ascii=False), status=status, content_type="application/json"
    )


async def read_params(request: web.Request) -> dict[str, Any]:
    """Parameters from the query string and the body, whichever encoding the client used."""
    params: dict[str, Any] = dict(request.query)
    if request.method != "POST" or not request.can_read_body:
        return params
    kind = request.content_type
    if kind == "application/json":
        try:
            body = await request.json()
        except json.JSONDecodeError:
            raise ApiError.bad_request("can't parse JSON body") from None
        if not isinstance(body, dict):
            raise ApiError.bad_request("request body must be a JSON object")
        params.update(body)
    elif kind == "multipart/form-data":
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.filename is not None:
                data = await part.read(decode=False)
                params[part.name] = Upload(part.filename, part.headers.get("Content-Type", ""), bytes(data))
            else:
                params[part.name] = await part.text()
    else:
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = Upload(value.filename, value.content_type, value.file.read())
            else:
                params[key] = value
    # multipart "attach://name" references point at another part
    for key, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            params[key] = params.pop(value.removeprefix("attach://"), value)
    return params


async def bot_api(request: web.Request) -> web.StreamResponse:
    world = request.app[WORLD]
    token, name = request.match_info["token"], request.match_info["method"]
    if not TOKEN.match(token):
        return _answer(error=ApiError(401, "Unauthorized"))
    # Telegram matches method names case-insensitively; stats and faults use the documented spelling.
    name = _canonical(name)
    implementation = METHODS.get(name)
    world.count_request(name)
    try:
        bot = world.bot_for_token(token)
        fault = world.fault_for(name)
        if fault is not None:
            if fault.kind == "drop":
                _drop(request)
            if fault.kind == "delay":
                await asyncio.sleep(fault.delay)
                if _client_gone(request):
                    _drop(request)  # the client gave up waiting: nothing is done
            elif fault.kind == "429":
                raise ApiError(
                    429,
                    f"Too Many Requests: retry after {fault.retry_after}",
                    {"retry_after": fault.retry_after},
                )
            elif fault.kind == "500":
                raise ApiError(500, "Internal Server Error")
        if implementation is None:
            spec = request.app[SPEC]
            if spec is not None and spec.knows(name):
                raise ApiError.bad_request(f"method {name} is not available in the sandbox")
            raise ApiError(404, "Not Found")
        params = await read_params(request)
        world.count_call_in_chat(name, params)
        spec = request.app[SPEC]
        try:
            if spec is not None:
                params = spec.check_call(name, params)
            else:
                params = coerce_without_spec(params)
        except SpecError as error:
            raise ApiError.bad_request(str(error)) from None
        if spec is None:
            missing = [p for p in _REQUIRED.get(name, ()) if p not in params]
            if missing:
                raise ApiError.bad_request(missing_parameter(missing[0]))
        result = await implementation(world, bot, params)
        if fault is not None and fault.kind == "slow":
            # Done (the message is delivered); only the answer comes late, or never reaches a
            # client that gave up waiting.
            await asyncio.sleep(fault.delay)
    except ApiError as error:
        world.count("rejected", error.description.split(":")[0] if error.code != 400 else error.description)
        return _answer(error=error)
    return _answer(result)


def _client_gone(request: web.Request) -> bool:
    return request.transport is None or request.transport.is_closing()


def _drop(request: web.Request) -> NoReturn:
    """Close the connection without an answer."""
    if request.transport is not None:
        request.transport.abort()
    raise asyncio.CancelledError


def _case_insensitive(name: str) -> str:
    lowered = name.lower()
    return next((known for known in METHODS if known.lower() == lowered), name)


def _canonical(name: str) -> str:
    return name if name in METHODS else _case_insensitive(name)


async def file_download(request: web.Request) -> web.StreamResponse:
    world = request.app[WORLD]
    if not TOKEN.match(request.match_info["token"]):
        raise web.HTTPUnauthorized()
    path = request.match_info["path"]
    for stored in world.files.values():
        if stored.path == path:
            return web.Response(body=stored.data, content_type=stored.mime)
    raise web.HTTPNotFound()


async def page(request: web.Request) -> web.StreamResponse:
    index = STATIC / "index.html"
    if index.exists():
        return web.FileResponse(index)
    return web.Response(text="AuylNet sandbox: the chat page is not installed.", content_type="text/plain")


def make_app(world: World, spec: Spec | None) -> web.Application:
    app = web.Application(client_max_size=50 * 1024 * 1024)
    app[WORLD] = world
    app[SPEC] = spec
    app.router.add_route("*", "/bot{token}/{method}", bot_api)
    app.router.add_get("/file/bot{token}/{path:.+}", file_download)
    controls.add_routes(app, WORLD)
    app.router.add_get("/", page)
    if STATIC.exists():
        app.router.add_static("/static/", STATIC)
    return app


@dataclass
class RunningSandbox:
    url: str
    world: World
    runner: web.AppRunner

    @property
    def api_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def state(self) -> World:
        return self.world


@asynccontextmanager
async def run_sandbox(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    spec_path: Path | None = None,
    limits: Limits | None = None,
) -> AsyncIterator[RunningSandbox]:
    """Serve the sandbox in this event loop; port 0 picks a free one."""
    world = World(limits)
    app = make_app(world, Spec.load(spec_path))
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    bound = int(runner.addresses[0][1]) if runner.addresses else port
    try:
        yield RunningSandbox(url=f"http://{host}:{bound}", world=world, runner=runner)
    finally:
        for bot in world.bots.values():
            if bot.webhook_task is not None:
                bot.webhook_task.cancel()
        await runner.cleanup()


def serve(host: str, port: int, spec_path: Path | None) -> None:
    """``auylnet sandbox``: run until Ctrl-C."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signum, stop.set)
        async with run_sandbox(host=host, port=port, spec_path=spec_path) as sandbox:
            print(
                f"AuylNet sandbox on {sandbox.url}/ — Bot API at {sandbox.api_url}<token>/<method>",
                flush=True,
            )
            await stop.wait()

    asyncio.run(main())
