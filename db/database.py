"""One aiosqlite connection, serialised behind a lock, with versioned migrations.

Durability: WAL journal with ``synchronous=FULL``. Every commit is fsynced before the caller
continues, so a report acknowledged to a user survives a power cut, not just a process crash.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite
from aiosqlite.context import contextmanager

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Set inside a transaction by writes that someone waits for (a queued notification): the
# transaction's listeners are called once it commits, so no caller has to remember to say so.
_work_queued: ContextVar[bool] = ContextVar("work_queued", default=False)


def work_queued() -> None:
    """Called by a write inside a transaction: wake the listeners once the transaction commits."""
    _work_queued.set(True)


class _Fetched(aiosqlite.Cursor):
    """A statement run and its rows fetched in one trip to the database thread.

    aiosqlite's own cursor goes to the thread three times for ``async with conn.execute(...) as
    cursor: await cursor.fetchone()`` (run, fetch, close): about 160 µs a query instead of 60.
    Queries here return small results, so fetching them all at once costs nothing extra.
    """

    def __init__(
        self,
        conn: aiosqlite.Connection,
        cursor: sqlite3.Cursor,
        rows: list[Any],
        lastrowid: int | None,
        rowcount: int,
    ) -> None:
        super().__init__(conn, cursor)
        self._rows, self._next = rows, 0
        self._lastrowid, self._rowcount = lastrowid, rowcount

    async def fetchone(self) -> Any:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        taken = self._rows[self._next : self._next + (size or self.iter_chunk_size)]
        self._next += len(taken)
        return taken

    async def fetchall(self) -> list[Any]:
        rest, self._next = self._rows[self._next :], len(self._rows)
        return rest

    async def close(self) -> None:
        return None  # closed on the database thread already

    @property
    def lastrowid(self) -> int | None:
        return self._lastrowid

    @property
    def rowcount(self) -> int:
        return self._rowcount


class _Connection(aiosqlite.Connection):
    # A transaction's opening statements (its BEGIN, and the safety level of a transaction that
    # needs no fsync of its own) go to the database thread with its first statement: one trip less.
    begin_pending: tuple[str, ...] = ()

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self.begin_pending:
            opening, self.begin_pending = self.begin_pending, ()
            statement = fn

            def fn(*args: Any, **kwargs: Any) -> Any:
                for sql in opening:
                    self._conn.execute(sql)
                return statement(*args, **kwargs)

        return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    async def end(self, *, commit: bool, then: tuple[str, ...] = ()) -> None:
        """Commit or roll back, and run ``then`` after it, in one trip."""

        def run() -> None:
            if commit:
                self._conn.commit()
            else:
                self._conn.rollback()
            for sql in then:
                self._conn.execute(sql)

        await self._execute(run)

    @contextmanager
    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> aiosqlite.Cursor:
        def run() -> tuple[sqlite3.Cursor, list[Any], int | None, int]:
            cursor = self._conn.execute(sql, tuple(parameters or ()))
            try:
                return cursor, cursor.fetchall(), cursor.lastrowid, cursor.rowcount
            finally:
                cursor.close()

        cursor, rows, lastrowid, rowcount = await self._execute(run)
        return _Fetched(self, cursor, rows, lastrowid, rowcount)


def _connect(path: str) -> _Connection:
    return _Connection(lambda: sqlite3.connect(path, isolation_level=None), iter_chunk_size=64)


class Database:
    """The application's single SQLite connection.

    aiosqlite runs every statement on one thread, but two coroutines sharing the connection
    would otherwise interleave their statements inside each other's transactions. All access goes
    through :meth:`transaction` (writes) or :meth:`read`, which take one lock.
    """

    def __init__(self, connection: _Connection, path: str) -> None:
        self._connection = connection
        self._lock = asyncio.Lock()
        self.path = path
        self._listeners: list[Callable[[], None]] = []

    def on_commit(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every commit of a transaction that queued work (see :func:`work_queued`)."""
        self._listeners.append(listener)

    @classmethod
    async def open(cls, path: str | Path, *, migrate: bool = True) -> Database:
        """Open (creating if needed) the database file and bring its schema up to date."""
        path = str(path)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        connection = _connect(path)
        await connection  # starts the database thread and opens the file
        try:
            connection.row_factory = aiosqlite.Row
            await connection.execute("PRAGMA journal_mode=WAL")
            await connection.execute("PRAGMA synchronous=FULL")
            await connection.execute("PRAGMA foreign_keys=ON")
            await connection.execute("PRAGMA busy_timeout=5000")
            database = cls(connection, path)
            if migrate:
                await database.migrate()
        except BaseException:
            # aiosqlite's thread would otherwise keep the process alive after the error.
            await connection.close()
            raise
        return database

    async def close(self) -> None:
        async with self._lock:
            await self._connection.close()

    @asynccontextmanager
    async def transaction(self, *, durable: bool = True) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction: committed when the block ends, rolled back if it raises.

        A durable transaction (the default) is on disk when the block ends: its commit waits for
        the fsync. ``durable=False`` is for a step nobody has been told is done yet — a draft
        between two questions — which may be lost to a power cut (the person answers the question
        again) but never to a crash of the process. It commits without an fsync of its own; the
        next durable commit (the step that acknowledges, or the conversation state saved after
        it) writes it to disk too, so what survives a power cut is always a prefix of the
        commits.
        """
        async with self._lock:
            queued = _work_queued.set(False)
            connection = self._connection
            relaxed = () if durable else ("PRAGMA synchronous=NORMAL",)
            restore = () if durable else ("PRAGMA synchronous=FULL",)
            connection.begin_pending = (*relaxed, "BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                if not connection.begin_pending:  # a statement ran: the transaction is open
                    await connection.end(commit=False, then=restore)
                _work_queued.reset(queued)
                raise
            finally:
                begun, connection.begin_pending = not connection.begin_pending, ()
            if begun:
                await connection.end(commit=True, then=restore)
            wake = _work_queued.get()
            _work_queued.reset(queued)
        if wake:
            for listener in self._listeners:
                listener()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """Read-only access that never sees another coroutine's half-done transaction."""
        async with self._lock:
            yield self._connection

    async def schema_version(self) -> int:
        """How many migrations this database has applied."""
        async with self.read() as conn:
            return await _user_version(conn)

    async def migrate(self) -> list[str]:
        """Apply every migration this database has not applied yet, in order; returns their names.

        Applied migrations are recorded by name, so a migration merged after a later-numbered one
        still runs.
        """
        applied: list[str] = []
        async with self._lock:
            await self._connection.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL"
                " DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')))"
            )
            async with self._connection.execute("SELECT name FROM schema_migrations") as cursor:
                done = {row[0] for row in await cursor.fetchall()}
            for _number, name, sql in _migrations():
                if name in done:
                    continue
                await self._connection.execute("BEGIN IMMEDIATE")
                try:
                    for statement in _split_sql(sql):
                        await self._connection.execute(statement)
                    await self._connection.execute("INSERT INTO schema_migrations (name) VALUES (?)", (name,))
                    await self._connection.execute(f"PRAGMA user_version={len(done) + len(applied) + 1}")
                except BaseException:
                    await self._connection.rollback()
                    raise
                await self._connection.commit()
                log.info("applied migration %s", name)
                applied.append(name)
        return applied


async def _user_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


def _migrations() -> list[tuple[int, str, str]]:
    found = []
    for entry in resources.files("db").joinpath("migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def _split_sql(script: str) -> Iterable[str]:
    """Split a migration into statements (``executescript`` would commit on its own)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            if statement.strip():
                yield statement
            statement = ""
    if statement.strip():
        yield statement


async def fetch_all(conn: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()) -> list[Any]:
    async with conn.execute(sql, tuple(params)) as cursor:
        return list(await cursor.fetchall())


async def fetch_one(conn: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()) -> Any:
    async with conn.execute(sql, tuple(params)) as cursor:
        return await cursor.fetchone()
