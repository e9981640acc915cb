"""Backups with SQLite's online backup API, and restoring one in place of the database.

A backup is a consistent snapshot while the bot keeps writing: the backup API copies every page in
one step inside one read transaction, and in WAL mode readers never block the writer nor see half
of its transaction. The copy is checked (``PRAGMA integrity_check``), turned into a single
self-contained file (rollback journal instead of WAL), flushed to disk and only then renamed into
place, so a backup file that exists is always complete.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.ops.instance import instance_lock, running_bot
from db import backups

STAMP = "%Y%m%d-%H%M%S-%f"
_STAMPED = r"-\d{8}-\d{6}-\d{6}"
BUSY_TIMEOUT_SECONDS = 10.0


class BackupError(Exception):
    """A backup or restore that was refused or failed; the text says why, in one line."""


@dataclass(frozen=True)
class Restored:
    database: Path
    kept_aside: Path | None
    migrations: int
    tables: dict[str, int]


@contextlib.contextmanager
def _connect(path: Path, *, read_only: bool = False) -> Iterator[sqlite3.Connection]:
    uri = f"file:{path}?mode=ro" if read_only else f"file:{path}"
    connection = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    try:
        yield connection
    finally:
        connection.close()


def integrity(path: Path) -> str:
    """``ok``, or SQLite's description of the first problems (one line)."""
    try:
        with _connect(path, read_only=True) as connection:
            rows = connection.execute("PRAGMA integrity_check(5)").fetchall()
    except sqlite3.Error as error:
        return str(error)
    found = "; ".join(str(row[0]) for row in rows)
    return found or "no answer"


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def copy_database(source: Path, target: Path) -> None:
    """A consistent, checked, single-file copy of ``source`` at ``target`` (replaced atomically)."""
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        with _connect(source, read_only=True) as src, _connect(partial) as dst:
            src.backup(dst)  # every page in one step: one snapshot
            dst.execute("PRAGMA journal_mode=DELETE")
        found = integrity(partial)
        if found != "ok":
            raise BackupError(f"the copy of {source} fails integrity_check: {found}")
        _fsync(partial)
        os.replace(partial, target)
        _fsync(target.parent)
    except sqlite3.Error as error:
        raise BackupError(f"cannot copy {source} to {target}: {error}") from None
    finally:
        partial.unlink(missing_ok=True)


def stamped(target: Path, now: datetime) -> Path:
    """``/backups/auylnet.db`` → ``/backups/auylnet-20261129-184000-123456.db`` (UTC)."""
    return target.with_name(f"{target.stem}-{now.astimezone(UTC).strftime(STAMP)}{target.suffix}")


def series(target: Path) -> list[Path]:
    """The stamped backups of ``target``'s series, oldest first."""
    if not target.parent.is_dir():
        return []
    pattern = re.compile(re.escape(target.stem) + _STAMPED + re.escape(target.suffix) + "$")
    return sorted(path for path in target.parent.iterdir() if pattern.match(path.name))


def backup(
    source: Path, target: Path, *, keep: int | None = None, now: datetime | None = None
) -> tuple[Path, list[Path]]:
    """Back ``source`` up; returns the file written and the old backups removed.

    Without ``keep`` the copy is written to ``target`` itself. With ``keep`` the time is added to the
    name and only the newest ``keep`` backups of that series stay.
    """
    if keep is not None and keep < 1:
        raise BackupError("--keep must be at least 1")
    written = target if keep is None else stamped(target, now or datetime.now(UTC))
    copy_database(source, written)
    removed: list[Path] = []
    if keep is not None:
        old = series(target)[:-keep]
        for path in old:
            path.unlink(missing_ok=True)
            removed.append(path)
    return written, removed


def _counts(path: Path) -> tuple[int, dict[str, int]]:
    with _connect(path, read_only=True) as connection:
        found = backups.describe(connection)
    if found is None:
        raise BackupError(f"{path} is not an AuylNet database (it has no schema_migrations table)")
    return found


def restore(backup_file: Path, database: Path, *, now: datetime | None = None) -> Restored:
    """Put ``backup_file`` in place of ``database``; the database it replaces is kept aside.

    Refused while a bot runs on ``database`` (its lock is held), and unless the backup passes
    integrity_check; the restored database is checked again in place.
    """
    pid = running_bot(database)
    if pid is not None:
        who = f"process {pid}" if pid else "another process"
        raise BackupError(
            f"a bot is running on {database} ({who} holds {database.name}.lock): stop it first"
            " (systemctl stop auylnet), then restore"
        )
    if not backup_file.is_file():
        raise BackupError(f"no backup at {backup_file}")
    found = integrity(backup_file)
    if found != "ok":
        raise BackupError(f"{backup_file} fails integrity_check, not restoring it: {found}")
    _counts(backup_file)
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime(STAMP)
    with instance_lock(database):  # no bot may start while the files are swapped
        incoming = database.with_name(database.name + ".restoring")
        copy_database(backup_file, incoming)
        kept_aside: Path | None = None
        if database.exists():
            kept_aside = database.with_name(f"{database.name}.before-restore-{stamp}")
            # The WAL and shared-memory files belong to the database they were written for: they move
            # with it (their names follow the database's), so the set kept aside stays complete.
            for suffix in ("", "-wal", "-shm"):
                current = Path(f"{database}{suffix}")
                if current.exists():
                    os.replace(current, Path(f"{kept_aside}{suffix}"))
        os.replace(incoming, database)
        _fsync(database.parent)
    found = integrity(database)
    if found != "ok":
        raise BackupError(f"the restored {database} fails integrity_check: {found}")
    migrations, tables = _counts(database)
    return Restored(database, kept_aside, migrations, tables)
