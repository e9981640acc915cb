"""``auylnet api``, ``auylnet apikey …`` and ``auylnet webhook …``: the open API from the command line.

``bot.cli`` includes these with ``add_commands(subparsers)`` and ``HANDLERS``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from bot.api import keys, service
from bot.api.config import ApiSettings
from bot.api.service import ApiError
from bot.clock import Clock
from bot.config import Settings
from db.database import Database
from db.events import EVENT_KINDS

T = TypeVar("T")


def _settings() -> Settings:
    from bot.cli import load_settings

    return load_settings(bot_token="0:unused")


def _with_db(work: Callable[[Database], Awaitable[T]]) -> T:
    settings = _settings()

    async def run() -> T:
        db = await Database.open(settings.db_path)
        try:
            return await work(db)
        finally:
            await db.close()

    return asyncio.run(run())


def cmd_api(args: argparse.Namespace) -> int:
    """Serve the API on its own (the bot, running elsewhere on the same database, delivers alerts)."""
    from bot.api.server import start_api
    from bot.context import Services

    api_settings = ApiSettings()
    host = args.host or api_settings.listen
    port = api_settings.port if args.port is None else args.port

    async def serve() -> None:
        services = Services()
        services.settings = _settings()
        await services.open_database()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signum, stop.set)
        runner = await start_api(services, host, port, api_settings=api_settings)
        try:
            print(
                f"AuylNet API on http://{host}:{runner.addresses[0][1]}/ (OpenAPI: /api/openapi.json)",
                flush=True,
            )
            await stop.wait()
        finally:
            await runner.cleanup()
            await services.close_database()

    asyncio.run(serve())
    return 0


def cmd_apikey(args: argparse.Namespace) -> int:
    now = Clock().now()
    if args.action == "create":
        try:
            made = _with_db(
                lambda db: keys.create_key(
                    db, name=args.name, scope=args.scope, area=args.area, per_minute=args.per_minute, now=now
                )
            )
        except keys.ApiKeyError as error:
            print(f"auylnet apikey: {_KEY_ERRORS[error.code]}", file=sys.stderr)
            return 2
        where = f"area {made.key.area}" if made.key.area else "everywhere"
        print(f"key {made.key.id} for {made.key.client_name}: {made.key.scope}, {where}")
        print(f"token (shown only now): {made.token}")
        return 0
    if args.action == "revoke":
        if _with_db(lambda db: keys.revoke_key(db, args.key_id, now)):
            print(f"key {args.key_id} revoked")
            return 0
        print(f"auylnet apikey: no active key {args.key_id}", file=sys.stderr)
        return 1
    for key in _with_db(keys.list_keys):
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        rate = f"{key.per_minute}/min" if key.per_minute else "default rate"
        used = f"last write {key.last_used_at:%Y-%m-%d %H:%M} UTC" if key.last_used_at else "no writes yet"
        print(
            f"{key.id}\t{key.client_name}\t{key.prefix}…\t{key.scope}\t{key.area or 'everywhere'}\t{rate}\t{state}\t{used}"
        )
    return 0


_KEY_ERRORS = {
    "bad_name": "the client's name must be 1 to 100 characters",
    "bad_scope": "the scope is read or write",
    "bad_area": "the area is a KATO prefix of up to 9 digits, e.g. 55",
    "bad_rate": "--per-minute must be at least 1",
}


def cmd_webhook(args: argparse.Namespace) -> int:
    now = Clock().now()
    if args.action == "add":
        try:
            made = _with_db(
                lambda db: service.add_webhook(db, url=args.url, kinds=args.events.split(","), now=now)
            )
        except ApiError as error:
            what = (
                "the URL must be http:// or https://"
                if error.params.get("name") == "URL"
                else (
                    f"unknown event kinds {error.params.get('value')!r}; choose from {', '.join(EVENT_KINDS)}"
                )
            )
            print(f"auylnet webhook: {what}", file=sys.stderr)
            return 2
        print(f"webhook {made.webhook.id}: {made.webhook.url} ← {', '.join(made.webhook.events)}")
        print(f"signing secret (shown only now): {made.secret}")
        return 0
    if args.action == "remove":
        if _with_db(lambda db: service.remove_webhook(db, args.webhook_id, now)):
            print(f"webhook {args.webhook_id} removed; its undelivered events are dropped")
            return 0
        print(f"auylnet webhook: no webhook {args.webhook_id}", file=sys.stderr)
        return 1
    for webhook in _with_db(service.list_webhooks):
        problem = f"\tlast error: {webhook.last_error}" if webhook.last_error else ""
        print(f"{webhook.id}\t{webhook.url}\t{','.join(webhook.events)}\t{webhook.pending} waiting{problem}")
    return 0


def add_commands(commands: Any) -> None:
    """Add ``api``, ``apikey`` and ``webhook`` to the ``auylnet`` command's subparsers."""
    api = commands.add_parser("api", help="serve the open HTTP API (Open311, village feed) on its own port")
    api.add_argument("--host", help="default AUYLNET_API_LISTEN (127.0.0.1)")
    api.add_argument("--port", type=int, help="default AUYLNET_API_PORT (8090)")

    apikey = commands.add_parser("apikey", help="create, revoke or list keys of other systems")
    key_actions = apikey.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = key_actions.add_parser("create", help="a new key; its token is shown once")
    create.add_argument("name", help="the client system, e.g. 'e-Akimat Pavlodar'")
    create.add_argument("--scope", choices=["read", "write"], required=True)
    create.add_argument("--area", default="", help="KATO prefix it may file reports for, e.g. 55")
    create.add_argument(
        "--per-minute", type=int, help="its own rate limit (default AUYLNET_API_KEY_PER_MINUTE)"
    )
    revoke = key_actions.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("key_id", type=int)
    key_actions.add_parser("list", help="every key, with its client, scope, area and state")

    webhook = commands.add_parser("webhook", help="add, list or remove receivers of signed event POSTs")
    hook_actions = webhook.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = hook_actions.add_parser("add", help="a new receiver; its signing secret is shown once")
    add.add_argument("url")
    add.add_argument("--events", required=True, help=f"comma-separated: {','.join(EVENT_KINDS)}")
    remove = hook_actions.add_parser("remove", help="stop sending to a receiver")
    remove.add_argument("webhook_id", type=int)
    hook_actions.add_parser("list", help="receivers with what waits for them")


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "api": cmd_api,
    "apikey": cmd_apikey,
    "webhook": cmd_webhook,
}
