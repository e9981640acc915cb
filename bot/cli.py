"""The ``auylnet`` command line: thin wrappers around the application and the sandbox."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from bot.config import Settings

EXIT_BAD_SETTINGS = 2


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment; one clear line and exit status 2 when they are invalid."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        name = "AUYLNET_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
        message = "is required" if first["type"] == "missing" else first["msg"]
        print(f"auylnet: invalid setting {name}: {message}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_SETTINGS) from None


def cmd_run(args: argparse.Namespace) -> int:
    from telegram import Update

    from bot.app import build_application

    settings = load_settings()
    build_application(settings).run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from db.database import Database

    settings = load_settings(bot_token="0:unused")

    async def migrate() -> list[str]:
        db = await Database.open(settings.db_path, migrate=False)
        try:
            return await db.migrate()
        finally:
            await db.close()

    applied = asyncio.run(migrate())
    print(f"{settings.db_path}: " + (", ".join(applied) if applied else "up to date"))
    return 0


def cmd_grant(args: argparse.Namespace) -> int:
    from bot.clock import Clock
    from db import users
    from db.database import Database

    settings = load_settings(bot_token="0:unused")

    async def grant() -> bool:
        db = await Database.open(settings.db_path)
        try:
            async with db.transaction() as tx:
                return await users.grant_role(
                    tx,
                    user_id=args.user_id,
                    role=args.role,
                    scope=args.scope,
                    actor_id=None,
                    now=Clock().now(),
                )
        finally:
            await db.close()

    granted = asyncio.run(grant())
    where = f" in {args.scope}" if args.scope else ""
    print(f"user {args.user_id}: {args.role}{where}" + ("" if granted else " (already had it)"))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from bot.places import importer
    from db.database import Database

    settings = load_settings(bot_token="0:unused")
    run = {
        "kato": importer.import_kato,
        "plan": importer.import_plan,
        "objects": importer.import_objects,
    }[args.kind]

    async def do_import() -> importer.ImportResult:
        db = await Database.open(settings.db_path)
        try:
            return await run(db, Path(args.file))
        finally:
            await db.close()

    result = asyncio.run(do_import())
    print(result.summary())
    return 0 if result.ok else 1


def cmd_sandbox(args: argparse.Namespace) -> int:
    from bot.sandbox.server import serve

    serve(args.host, args.port, Settings.model_fields["botapi_spec"].default)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.demo.run import run_demo

    return asyncio.run(run_demo(host=args.host, port=args.port, db_path=args.db))


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="auylnet",
        description="AuylNet: village connection status, outage reports and digital-literacy"
        " classes on Telegram, in Kazakh and Russian.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("run", help="run the bot against Telegram (needs AUYLNET_BOT_TOKEN)")

    demo = commands.add_parser("demo", help="sandbox + bot + a seeded demo database, offline")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8081)
    demo.add_argument("--db", type=Path, default=Path("var/demo.db"), help="recreated each run")

    commands.add_parser("migrate", help="bring the database schema up to date")

    grant = commands.add_parser("grant", help="give a user a role")
    grant.add_argument("user_id", type=int)
    grant.add_argument("role", choices=["trainer", "staff", "admin"])
    grant.add_argument("--scope", default="", help="KATO prefix, e.g. 55 (Pavlodar region)")

    imports = commands.add_parser("import", help="import places, a rollout plan or social objects")
    imports.add_argument("kind", choices=["kato", "plan", "objects"])
    imports.add_argument("file", type=Path)

    sandbox = commands.add_parser("sandbox", help="run the offline Telegram sandbox alone")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8081)
    from bot.exports import cli as exports_cli  # the export command lives with its feature

    HANDLERS.update(exports_cli.add_commands(commands))
    return parser


HANDLERS = {
    "run": cmd_run,
    "demo": cmd_demo,
    "migrate": cmd_migrate,
    "grant": cmd_grant,
    "import": cmd_import,
    "sandbox": cmd_sandbox,
}


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    args = make_parser().parse_args(argv)
    return HANDLERS[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
