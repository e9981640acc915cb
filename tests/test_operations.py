"""Running it for months: backups while residents report, restore, the doctor, failing loudly at start."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from telegram.error import InvalidToken

from bot.clock import Clock
from bot.config import Settings
from bot.logs import LogFormat, setup_logging
from bot.ops.instance import instance_lock, running_bot
from bot.outages.service import NewReport, OutageError, file_report
from bot.sandbox.client import SandboxClient, wait_until
from db import places, users
from db.database import Database
from tests.conftest import BOT_TOKEN

SHAKAT = "556069100"
REJECTED_TOKEN = "7000000009:" + "r" * 10  # too short a secret: the sandbox answers 401 Unauthorized


async def auylnet(*args: str, env: dict[str, str], cwd: Path, timeout: float = 60) -> tuple[int, str]:
    """Run the command line as an operator would; its exit status and everything it printed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        env={**os.environ, **env},
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        output, _ = await process.communicate()
        raise AssertionError(
            f"auylnet {' '.join(args)} still ran after {timeout} s:\n{output.decode()}"
        ) from None
    assert process.returncode is not None
    return process.returncode, output.decode()


def lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


async def seeded_database(path: Path, residents: int = 0) -> None:
    from bot.demo.seed import seed_demo

    database = await Database.open(path)
    try:
        await seed_demo(database)
        async with database.transaction() as tx:
            for user_id in range(1, residents + 1):
                await users.ensure_account(tx, user_id, Clock().now())
    finally:
        await database.close()


def make_read_only(path: Path) -> None:
    """A database file the bot may not write: mode 0444, and — because root ignores file modes and
    CI runs as root — a write version SQLite treats as read-only (header byte 18 > 2)."""
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=DELETE")  # one file: the header below is the whole story
    connection.close()
    data = bytearray(path.read_bytes())
    data[18] = 3
    path.write_bytes(bytes(data))
    path.chmod(0o444)


# --- backup and restore ---------------------------------------------------------------------------
async def test_a_backup_taken_while_50_residents_report_restores_every_acknowledged_report(
    tmp_path: Path,
) -> None:
    live = tmp_path / "live.db"
    await seeded_database(live, residents=50)
    settings = Settings(
        bot_token=BOT_TOKEN, _env_file=None, reports_per_hour=1000, mass_outage_reports=10_000
    )  # type: ignore[arg-type, call-arg]
    database = await Database.open(live)
    async with database.read() as conn:
        villages = [village.code for village in await places.all_villages(conn)][:40]
    acknowledged: list[tuple[float, int]] = []  # (when the resident was told, report id)
    well_into_reporting = asyncio.Event()
    backup_done = asyncio.Event()

    async def resident(user_id: int) -> None:
        """Reports one outage after another (a new village or kind each time) until the backup is done."""
        for n in range(200):
            village = villages[(user_id + n) % len(villages)]
            kind = ("home", "village", "mobile", "school", "medical")[n % 5]
            try:
                async with database.transaction() as tx:
                    filed = await file_report(
                        tx,
                        NewReport(user_id, village, kind, "now"),
                        source_key=f"r:{user_id}:{n}",
                        settings=settings,
                        now=Clock().now(),
                    )
            except OutageError:
                continue
            # Committed: this is the moment the resident gets the ticket.
            acknowledged.append((time.monotonic(), filed.report.id))
            if len(acknowledged) >= 60:
                well_into_reporting.set()
            if backup_done.is_set() and n > 5:
                return
            await asyncio.sleep(0.005)

    async def take_backup() -> tuple[float, float, int, str]:
        await well_into_reporting.wait()
        started = time.monotonic()
        status, output = await auylnet(
            "backup", str(tmp_path / "backups" / "auylnet.db"), "--keep", "3",
            env={"AUYLNET_DB_PATH": str(live)}, cwd=tmp_path,
        )  # fmt: skip
        finished = time.monotonic()
        backup_done.set()
        return started, finished, status, output

    outcome = await asyncio.gather(take_backup(), *(resident(user_id) for user_id in range(1, 51)))
    started, finished, status, output = outcome[0]
    await database.close()
    assert status == 0, output
    written = Path(output.strip().splitlines()[-1].split(" backed up to ")[1])
    before = {report for moment, report in acknowledged if moment < started}
    during = [report for moment, report in acknowledged if started <= moment < finished]
    assert len(before) >= 60
    assert during, "nobody reported while the backup ran: the test proved nothing"

    restored = tmp_path / "restored.db"
    status, output = await auylnet(
        "restore", str(written), env={"AUYLNET_DB_PATH": str(restored)}, cwd=tmp_path
    )
    assert status == 0, output
    assert "integrity ok" in output
    with sqlite3.connect(restored) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        kept = {row[0] for row in connection.execute("SELECT id FROM reports")}
    connection.close()
    assert before <= kept, f"{len(before - kept)} acknowledged reports are missing from the backup"


async def test_keep_n_leaves_the_newest_n_backups_of_the_series(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    await seeded_database(live)
    env = {"AUYLNET_DB_PATH": str(live)}
    folder = tmp_path / "backups"
    written = []
    for _ in range(4):
        status, output = await auylnet(
            "backup", str(folder / "auylnet.db"), "--keep", "2", env=env, cwd=tmp_path
        )
        assert status == 0, output
        written.append(Path(output.strip().splitlines()[-1].split(" backed up to ")[1].split(";")[0]))
    (folder / "notes.db").write_text("another series is left alone")
    status, output = await auylnet("backup", str(folder / "auylnet.db"), "--keep", "2", env=env, cwd=tmp_path)
    newest = Path(output.strip().splitlines()[-1].split(" backed up to ")[1].split(";")[0])
    assert sorted(folder.iterdir()) == sorted([written[-1], newest, folder / "notes.db"])
    # Each backup is one self-contained file in rollback-journal mode, complete on its own.
    with sqlite3.connect(newest) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert connection.execute("SELECT count(*) FROM villages").fetchone()[0] > 1000
    connection.close()


async def test_restore_refuses_to_run_over_a_live_bot(sandbox, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    live = tmp_path / "live.db"
    await seeded_database(live)
    env = {
        "AUYLNET_DB_PATH": str(live),
        "AUYLNET_BOT_TOKEN": BOT_TOKEN,
        "AUYLNET_API_BASE_URL": sandbox.api_url,
    }
    status, output = await auylnet("backup", str(tmp_path / "copy.db"), env=env, cwd=tmp_path)
    assert status == 0, output
    bot = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", env={**os.environ, **env}, cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        await wait_until(lambda: sandbox.state.stats["requests"].get("getUpdates"), timeout=30)  # polling
        assert running_bot(live) == bot.pid
        before = live.stat().st_ino
        status, output = await auylnet("restore", str(tmp_path / "copy.db"), env=env, cwd=tmp_path)
        assert status == 1
        assert lines(output) == [
            f"auylnet: a bot is running on {live} (process {bot.pid} holds live.db.lock): stop it first"
            " (systemctl stop auylnet), then restore"
        ]
        assert live.stat().st_ino == before  # the same file: nothing was swapped
        assert not list(tmp_path.glob("live.db.before-restore-*"))  # noqa: ASYNC240 - a test's check
        # A second bot on the same database is refused as well: it would answer everything twice.
        status, output = await auylnet("run", env=env, cwd=tmp_path)
        assert status == 3
        assert lines(output) == [
            f"auylnet: cannot use the database {live}: process {bot.pid} is using this database"
            f" (it holds {live}.lock)"
        ]
    finally:
        bot.terminate()
        await asyncio.wait_for(bot.wait(), 30)
    # Once the bot is stopped, the restore goes ahead.
    assert running_bot(live) is None
    status, output = await auylnet("restore", str(tmp_path / "copy.db"), env=env, cwd=tmp_path)
    assert status == 0, output
    assert "the database it replaced is kept as" in output


async def test_a_corrupt_backup_is_not_restored(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    await seeded_database(live)
    env = {"AUYLNET_DB_PATH": str(live)}
    status, output = await auylnet("backup", str(tmp_path / "copy.db"), env=env, cwd=tmp_path)
    assert status == 0, output
    damaged = bytearray((tmp_path / "copy.db").read_bytes())
    page = 4096
    for offset in range(page * 5, page * 40, page):  # scribble over the middle of several b-tree pages
        damaged[offset + 100 : offset + 400] = b"\xa5" * 300
    (tmp_path / "copy.db").write_bytes(bytes(damaged))
    before = live.read_bytes()
    status, output = await auylnet("restore", str(tmp_path / "copy.db"), env=env, cwd=tmp_path)
    assert status == 1
    [line] = lines(output)
    assert line.startswith(f"auylnet: {tmp_path / 'copy.db'} fails integrity_check, not restoring it: ")
    assert live.read_bytes() == before


# --- failing loudly at start ----------------------------------------------------------------------
async def test_run_on_a_read_only_database_exits_with_one_line_within_5_seconds(
    sandbox, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    live = tmp_path / "live.db"
    await seeded_database(live)
    make_read_only(live)
    env = {
        "AUYLNET_DB_PATH": str(live),
        "AUYLNET_BOT_TOKEN": BOT_TOKEN,
        "AUYLNET_API_BASE_URL": sandbox.api_url,
    }
    started = time.monotonic()
    status, output = await auylnet("run", env=env, cwd=tmp_path, timeout=30)
    assert time.monotonic() - started < 5
    assert status == 3
    assert lines(output) == [
        f"auylnet: cannot use the database {live}: attempt to write a readonly database (check"
        " AUYLNET_DB_PATH, the file's and its folder's permissions, and the free disk space)"
    ]
    assert not sandbox.state.bots  # it never started polling


async def test_demo_with_a_database_it_cannot_create_exits_with_one_line(tmp_path: Path) -> None:
    status, output = await auylnet(
        "demo", "--port", "0", "--db", "/proc/auylnet/demo.db", env={}, cwd=tmp_path
    )
    assert status == 3
    [line] = lines(output)
    assert line.startswith("auylnet: cannot use the database /proc/auylnet/demo.db: ")


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_a_rejected_token_ends_run_with_one_line_that_never_holds_it(
    sandbox, tmp_path: Path, log_format: str
) -> None:  # type: ignore[no-untyped-def]
    env = {
        "AUYLNET_DB_PATH": str(tmp_path / "live.db"),
        "AUYLNET_BOT_TOKEN": REJECTED_TOKEN,
        "AUYLNET_API_BASE_URL": sandbox.api_url,
    }
    status, output = await auylnet("--log-format", log_format, "run", env=env, cwd=tmp_path, timeout=30)
    assert status == 2
    assert lines(output)[-1] == (
        "auylnet: invalid setting AUYLNET_BOT_TOKEN: Telegram rejected it (getMe: Unauthorized);"
        " copy the token from @BotFather again"
    )
    assert REJECTED_TOKEN not in output and REJECTED_TOKEN.split(":")[1] not in output
    if log_format == "json":
        for line in lines(output)[:-1]:  # the migrations applied on the way, as JSON objects
            assert json.loads(line)["level"] == "INFO"


@contextlib.contextmanager
def logging_to(stream: io.StringIO, log_format: LogFormat) -> Iterator[None]:
    """The command line's logging, writing to ``stream``; pytest's own logging back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    setup_logging(log_format, stream=stream)
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.captureWarnings(False)


def test_the_log_never_holds_the_token_not_even_in_a_traceback() -> None:
    """What python-telegram-bot and httpx put into messages and exceptions, through the real handler."""
    stream = io.StringIO()
    with logging_to(stream, "text"):
        log = logging.getLogger("telegram.ext.Updater")
        url = f"https://api.telegram.org/bot{BOT_TOKEN}/getUpdates"
        log.warning("HTTP Request: POST %s", url)
        try:
            raise InvalidToken(f"The token `{BOT_TOKEN}` was rejected by the server.")
        except InvalidToken:
            log.exception("Bootstrap Initialize Application: Invalid token. Aborting retry loop.")
        logging.getLogger("auylnet").info("update handled", extra={"update_id": 7, "url": url})
    written = stream.getvalue()
    secret = BOT_TOKEN.split(":")[1]
    assert secret not in written
    assert "POST https://api.telegram.org/bot7000000001:<redacted>/getUpdates" in written
    assert "InvalidToken: The token `7000000001:<redacted>` was rejected by the server." in written
    assert (
        "update handled update_id=7 url=https://api.telegram.org/bot7000000001:<redacted>/getUpdates"
        in written
    )


def test_json_logs_are_one_object_a_line_with_the_extras() -> None:
    stream = io.StringIO()
    with logging_to(stream, "json"):
        logging.getLogger("bot.updates").info(
            "update %s handled", 41, extra={"update_id": 41, "user_id": 1005, "outcome": "answered"}
        )
        try:
            raise RuntimeError(f"send failed: https://api.telegram.org/bot{BOT_TOKEN}/sendMessage")
        except RuntimeError:
            logging.getLogger("bot.outbox").exception("outbox send failed", extra={"outbox_id": 9})
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert {key: first[key] for key in ("level", "logger", "message", "update_id", "user_id", "outcome")} == {
        "level": "INFO",
        "logger": "bot.updates",
        "message": "update 41 handled",
        "update_id": 41,
        "user_id": 1005,
        "outcome": "answered",
    }
    assert first["time"].endswith("+00:00")
    assert second["outbox_id"] == 9 and second["level"] == "ERROR"
    assert (
        "RuntimeError: send failed: https://api.telegram.org/bot7000000001:<redacted>/sendMessage"
        in second["exception"]
    )
    assert BOT_TOKEN.split(":")[1] not in stream.getvalue()


def test_the_lock_is_released_when_its_holder_goes(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    assert running_bot(live) is None
    with instance_lock(live):
        assert running_bot(live) == os.getpid()
    assert running_bot(live) is None


# --- the doctor -----------------------------------------------------------------------------------
async def doctor(env: dict[str, str], tmp_path: Path) -> tuple[int, list[str]]:
    status, output = await auylnet("doctor", env=env, cwd=tmp_path)
    return status, lines(output)


async def test_doctor_says_what_to_fix_one_line_each_and_all_well_exits_0(
    sandbox, client: SandboxClient, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    staff = await client.user("Бауыржан", language_code="kk")
    group = await client.group("AuylNet staff", [staff])
    db_path = tmp_path / "live.db"
    env = {
        "AUYLNET_BOT_TOKEN": BOT_TOKEN,
        "AUYLNET_API_BASE_URL": sandbox.api_url,
        "AUYLNET_DB_PATH": str(db_path),
        "AUYLNET_ADMIN_IDS": "1001",
        "AUYLNET_STAFF_CHAT_ID": str(group.id),
    }
    # An empty classifier (a fresh database): one line, non-zero.
    database = await Database.open(db_path)
    await database.close()
    status, found = await doctor(env, tmp_path)
    assert status == 1
    assert [line for line in found if line.startswith("FIX")] == [
        "FIX  the village list is empty: `auylnet import kato KATO.csv` (the official classifier)"
    ]

    await seeded_database(db_path)
    status, found = await doctor(env, tmp_path)
    assert status == 0, found
    assert found == [
        "ok   token: the bot is @auylnet_bot (id 7000000001)",
        f"ok   staff group: «AuylNet staff» ({group.id}); the bot may post there",
        f"ok   database: {db_path}, schema up to date",
        "ok   admins: 1 in AUYLNET_ADMIN_IDS, 0 granted",
        "ok   classifier: 1 248 villages imported",
    ]

    # A staff group the bot is not in: Telegram does not show it the chat.
    status, found = await doctor({**env, "AUYLNET_STAFF_CHAT_ID": "-1001234567890"}, tmp_path)
    assert status == 1
    assert [line for line in found if line.startswith("FIX")] == [
        "FIX  AUYLNET_STAFF_CHAT_ID=-1001234567890: @auylnet_bot is not in that group (Telegram: Chat not"
        " found): add the bot to the staff group, or correct the id"
    ]

    # A wrong token: one line, and never the token itself.
    wrong = "7000000001:" + "W" * 35
    status, found = await doctor({**env, "AUYLNET_BOT_TOKEN": wrong}, tmp_path)
    assert status == 1
    assert [line for line in found if line.startswith("FIX")] == [
        "FIX  AUYLNET_BOT_TOKEN: Telegram rejected the token (getMe: Unauthorized); copy it from @BotFather again"
    ]
    assert not any("W" * 35 in line for line in found)

    # No admin anywhere.
    status, found = await doctor({**env, "AUYLNET_ADMIN_IDS": ""}, tmp_path)
    assert status == 1
    assert [line for line in found if line.startswith("FIX")] == [
        "FIX  no admin: put your Telegram user id in AUYLNET_ADMIN_IDS (or `auylnet grant ID admin`)"
    ]
    # The doctor changed nothing: still no admin granted, no probe table left behind.
    with sqlite3.connect(db_path) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    connection.close()
    assert not {"doctor_write_probe", "startup_write_probe"} & tables


async def test_doctor_reports_a_database_it_cannot_write(sandbox, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db_path = tmp_path / "live.db"
    await seeded_database(db_path)
    make_read_only(db_path)
    env = {
        "AUYLNET_BOT_TOKEN": BOT_TOKEN,
        "AUYLNET_API_BASE_URL": sandbox.api_url,
        "AUYLNET_DB_PATH": str(db_path),
        "AUYLNET_ADMIN_IDS": "1001",
    }
    status, found = await doctor(env, tmp_path)
    assert status == 1
    assert f"FIX  AUYLNET_DB_PATH: {db_path} cannot be written: attempt to write a readonly database" in found


def test_version_comes_from_the_package_metadata(tmp_path: Path) -> None:
    from importlib import metadata

    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--version"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout.strip() == f"auylnet {metadata.version('auylnet')}"
