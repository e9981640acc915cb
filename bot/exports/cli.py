"""``auylnet export KIND --from --to --area --format --out``: an export from the command line.

The operator who runs it holds the database, so the command is not limited to an area and may
include personal data (``--personal``, said so in the summary line). The file is written whole or
not at all: to a temporary name first, then renamed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

from bot.config import LANGUAGES
from bot.exports.service import (
    FORMATS,
    KINDS,
    SNAPSHOTS,
    Built,
    ExportError,
    Format,
    Request,
    inclusive_period,
)

Command = Callable[[argparse.Namespace], int]
EXIT_BAD_ARGUMENTS = 2


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> dict[str, Command]:
    """Add ``export`` to the ``auylnet`` command line; returns its handlers by command name."""
    export = subparsers.add_parser(
        "export",
        help="write villages, buildings, installations, outages, reports, classes or attendance to a file",
    )
    export.add_argument("kind", choices=KINDS)
    export.add_argument("--from", dest="first", type=date.fromisoformat, metavar="YYYY-MM-DD")
    export.add_argument("--to", dest="last", type=date.fromisoformat, metavar="YYYY-MM-DD", help="included")
    export.add_argument("--area", default="", help="KATO prefix: 55 a region, 5536 a district (default: all)")
    export.add_argument(
        "--format", dest="fmt", choices=FORMATS, help="default: from the --out suffix, else xlsx"
    )
    export.add_argument("--out", type=Path, required=True, help="the file to write")
    export.add_argument("--personal", action="store_true", help="include names, ids and residents' texts")
    export.add_argument("--language", choices=LANGUAGES, help="of headers and labels (default: the setting)")
    return HANDLERS


def cmd_export(args: argparse.Namespace) -> int:
    from bot.cli import load_settings
    from bot.i18n import translator

    settings = load_settings(bot_token="0:unused")
    suffix = args.out.suffix.lower().lstrip(".")
    fmt: Format = args.fmt or ("csv" if suffix == "csv" else "xlsx")
    area = args.area.strip()
    if area and (not area.isdigit() or len(area) not in (2, 4, 6, 9)):
        print(f"auylnet: --area must be a KATO prefix of 2, 4, 6 or 9 digits, not {area!r}", file=sys.stderr)
        return EXIT_BAD_ARGUMENTS
    request = Request(
        kind=args.kind,
        area=area,
        period=inclusive_period(args.first, args.last),
        personal=args.personal,
        fmt=fmt,
    )
    t = translator(args.language or settings.default_language)
    try:
        built = asyncio.run(_build(settings.db_path, request, t, settings))
    except ExportError as error:
        print(f"auylnet: no such area in the village list: {area!r} ({error.code})", file=sys.stderr)
        return EXIT_BAD_ARGUMENTS
    _write_whole(args.out, built)
    period = "as it is now" if request.kind in SNAPSHOTS else request.period.label()
    personal = ", with personal data" if request.personal else ""
    print(f"{request.kind}, area {area or 'all'}, {period}: {built.rows} rows{personal} → {args.out}")
    return 0


async def _build(db_path: Path, request: Request, t: object, settings: object) -> Built:
    from bot.config import Settings
    from bot.exports import service
    from bot.i18n import Translator
    from db.database import Database

    assert isinstance(t, Translator) and isinstance(settings, Settings)
    db = await Database.open(db_path)  # brings the schema up to date before reading
    await db.close()
    return await service.build(db_path, request, t, settings.zone)


def _write_whole(path: Path, built: Built) -> None:
    from bot.exports import files

    content = files.write(built.table, built.request.fmt)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(content)
    os.replace(partial, path)


HANDLERS: dict[str, Command] = {"export": cmd_export}
