"""The ``auylnet`` command line: thin wrappers around the application and the sandbox.

Exit statuses: 0 done, 1 the command found problems (``doctor``, an import with errors, a refused
backup or restore), 2 an invalid setting or argument (a rejected token included), 3 the database
cannot be used (cannot be opened, written or migrated, or another bot runs on it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import sqlite3
import sys
import warnings
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import NoReturn

from pydantic import ValidationError

from bot.api import cli as api_cli
from bot.config import Settings
from bot.exports import cli as exports_cli
from bot.logs import LOG_FORMATS, redact_secret, setup_logging
from bot.ops.startup import EXIT_BAD_SETTINGS, EXIT_DATABASE, StartupError, database_problem

log = logging.getLogger("auylnet")
EXIT_PROBLEMS = 1
UNUSED_TOKEN = "0:unused"  # for commands that never talk to Telegram


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment; one clear line and exit status 2 when they are invalid."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        name = "AUYLNET_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
        message = "is required" if first["type"] == "missing" else first["msg"].removeprefix("Value error, ")
        fail(EXIT_BAD_SETTINGS, f"invalid setting {name}: {message}")
    redact_secret(settings.bot_token.get_secret_value())
    return settings


def fail(status: int, line: str) -> NoReturn:
    """End the command with one line on standard error."""
    print(f"auylnet: {line}", file=sys.stderr, flush=True)
    raise SystemExit(status)


def version() -> str:
    try:
        return metadata.version("auylnet")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


@contextlib.contextmanager
def database_in_use(db_path: Path) -> Iterator[None]:
    """Hold the database's lock (see bot.ops.instance) while a bot runs on it."""
    from bot.ops.instance import AlreadyRunning, instance_lock

    held = contextlib.ExitStack()
    try:
        held.enter_context(instance_lock(db_path))
    except AlreadyRunning as error:
        fail(EXIT_DATABASE, f"cannot use the database {db_path}: {error}")
    except OSError as error:
        fail(EXIT_DATABASE, database_problem(db_path, error).line)
    with held:
        yield


def check_before_start(settings: Settings) -> None:
    """The database opens, migrates and takes writes, and Telegram accepts the token — or one line."""
    from bot.ops.startup import check_database, check_token

    async def checks() -> None:
        await check_database(settings.db_path)
        await check_token(settings)

    try:
        asyncio.run(checks())
    except StartupError as problem:
        fail(problem.status, problem.line)


def cmd_run(args: argparse.Namespace) -> int:
    from bot.serve import serve

    overrides = {
        name: value
        for name, value in (
            ("webhook_url", args.webhook),
            ("webhook_listen", args.listen),
            ("webhook_port", args.port),
        )
        if value is not None
    }
    return asyncio.run(serve(load_settings(**overrides)))


def cmd_migrate(args: argparse.Namespace) -> int:
    from db.database import Database

    settings = load_settings(bot_token=UNUSED_TOKEN)

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

    settings = load_settings(bot_token=UNUSED_TOKEN)

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

    settings = load_settings(bot_token=UNUSED_TOKEN)
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

    serve(args.host, args.port, load_settings(bot_token=UNUSED_TOKEN).sandbox_spec)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.demo.run import DEMO_TOKEN, run_demo

    settings = load_settings(bot_token=DEMO_TOKEN)
    # Holding the lock proves the database's folder takes new files; the demo recreates the file.
    with database_in_use(args.db):
        try:
            return asyncio.run(run_demo(host=args.host, port=args.port, db_path=args.db, settings=settings))
        except sqlite3.Error as error:
            fail(EXIT_DATABASE, database_problem(args.db, error).line)
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise
            fail(EXIT_PROBLEMS, f"cannot serve the demo on {args.host}:{args.port}: the port is in use")


def cmd_backup(args: argparse.Namespace) -> int:
    from bot.ops.backup import BackupError, backup

    settings = load_settings(bot_token=UNUSED_TOKEN)
    try:
        written, removed = backup(settings.db_path, args.file, keep=args.keep)
    except BackupError as error:
        fail(EXIT_PROBLEMS, str(error))
    print(
        f"{settings.db_path} backed up to {written}" + (f"; removed {len(removed)} older" if removed else "")
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from bot.ops.backup import BackupError, restore

    settings = load_settings(bot_token=UNUSED_TOKEN)
    try:
        restored = restore(args.file, settings.db_path)
    except BackupError as error:
        fail(EXIT_PROBLEMS, str(error))
    except OSError as error:
        fail(EXIT_DATABASE, database_problem(settings.db_path, error).line)
    counts = ", ".join(f"{count} {table}" for table, count in restored.tables.items())
    print(f"restored {args.file} into {restored.database}: integrity ok, {counts}")
    if restored.kept_aside is not None:
        print(f"the database it replaced is kept as {restored.kept_aside}")
    print("migrations newer than the backup run at the next start")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from bot.ops.doctor import diagnose

    findings = asyncio.run(diagnose(load_settings()))
    for finding in findings:
        print(finding.line(), flush=True)
    return 0 if all(finding.ok for finding in findings) else EXIT_PROBLEMS


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="auylnet",
        description="AuylNet: village connection status, outage reports and digital-literacy"
        " classes on Telegram, in Kazakh and Russian.",
    )
    parser.add_argument("--version", action="version", version=f"auylnet {version()}")
    parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default="text",
        help="text for people, json (one object per line) for log collectors",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run the bot against Telegram (needs AUYLNET_BOT_TOKEN); polling unless --webhook is given",
    )
    run.add_argument(
        "--webhook",
        metavar="URL",
        help="webhook mode: the public https address Telegram posts to (AUYLNET_WEBHOOK_URL)",
    )
    run.add_argument(
        "--listen", metavar="ADDRESS", help="webhook server address (AUYLNET_WEBHOOK_LISTEN, 127.0.0.1)"
    )
    run.add_argument("--port", type=int, help="webhook server port (AUYLNET_WEBHOOK_PORT, 8443)")

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

    backup = commands.add_parser(
        "backup", help="copy the database consistently, also while the bot runs (SQLite online backup)"
    )
    backup.add_argument(
        "file", type=Path, help="where to write it; with --keep the time is added to the name"
    )
    backup.add_argument(
        "--keep", type=int, metavar="N", help="add the time to the name and keep the newest N of the series"
    )

    restore = commands.add_parser(
        "restore", help="put a backup in place of the database (refused while the bot runs)"
    )
    restore.add_argument("file", type=Path, help="a file written by auylnet backup")

    commands.add_parser("doctor", help="check the token, staff group, database, admins and village list")
    # Commands of features that live with their feature.
    api_cli.add_commands(commands)
    exports_cli.add_commands(commands)
    return parser


HANDLERS = {
    "run": cmd_run,
    "demo": cmd_demo,
    "migrate": cmd_migrate,
    "grant": cmd_grant,
    "import": cmd_import,
    "sandbox": cmd_sandbox,
    "backup": cmd_backup,
    "restore": cmd_restore,
    "doctor": cmd_doctor,
    **api_cli.HANDLERS,
    **exports_cli.HANDLERS,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    setup_logging(args.log_format)
    # The conversations are per chat on purpose; PTB's reminder about per_message is not news.
    warnings.filterwarnings("ignore", message="If 'per_message=False'")
    try:
        if args.command == "run":
            # Checked here, before the bot starts: a database it cannot write or a rejected token
            # ends the process with one line instead of a bot that runs answering nobody.
            settings = load_settings()
            with database_in_use(settings.db_path):
                check_before_start(settings)
                return HANDLERS[args.command](args)
        return HANDLERS[args.command](args)
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        from telegram.error import InvalidToken

        if isinstance(error, InvalidToken):  # revoked after the check; its text holds the token
            from bot.ops.startup import token_rejected

            fail(EXIT_BAD_SETTINGS, token_rejected().line)
        log.exception("auylnet %s failed", args.command)  # through the redacting handler
        return EXIT_PROBLEMS


if __name__ == "__main__":
    raise SystemExit(main())
