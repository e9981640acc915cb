"""One running bot per database, and a way for other commands to see that it runs.

``auylnet run`` and ``auylnet demo`` hold an exclusive ``flock`` on ``<database>.lock`` (beside the
database file, holding the process id) for as long as they run. The kernel drops the lock when the
process ends in any way, kill -9 included, so a stale lock file never blocks anything. A second bot
on the same database is refused (two would answer every update twice), and ``auylnet restore``
refuses while the lock is held.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


class AlreadyRunning(Exception):
    """Another process holds the database's lock."""

    def __init__(self, lock: Path, pid: int | None) -> None:
        holder = f"process {pid}" if pid else "another process"
        super().__init__(f"{holder} is using this database (it holds {lock})")
        self.lock = lock
        self.pid = pid


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


def _holder(path: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(path.read_text().strip() or 0) or None
    return None


@contextlib.contextmanager
def instance_lock(db_path: Path) -> Iterator[Path]:
    """Hold the database's lock for the block; AlreadyRunning when another process has it.

    OSError when the lock file cannot be created (the database's folder is not writable).
    """
    path = lock_path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyRunning(path, _holder(path)) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def running_bot(db_path: Path) -> int | None:
    """The process id of the bot running on this database (0 if unknown), or None when none is.

    Only looks: the lock is tried and let go at once, and the file is not written.
    """
    path = lock_path(db_path)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return _holder(path) or 0
    finally:
        os.close(fd)
    return None
