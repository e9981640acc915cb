"""``GET /healthz``: 200 while the database takes writes and neither queue is stuck, 503 otherwise.

The check opens its own SQLite connection (kept between checks) and takes the write lock for an
instant (``BEGIN IMMEDIATE`` … ``ROLLBACK``, nothing written): a file locked by another process,
unreadable or gone answers 503 within about a second. The bot's own connection is not used, so a
check never queues behind, or in front of, the bot's work.

*Stuck* means: the oldest pending notification is older than ``health_stuck_seconds`` (600) **and**
nothing was delivered in that time (a long queue draining at Telegram's limits is busy, not stuck),
or the delivery worker is not running while rows wait; likewise an update stored longer ago than
that and still not handled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiosqlite
from aiohttp import web

from db import inbox as inbox_table
from db import outbox as outbox_table

if TYPE_CHECKING:
    from bot.app import AuylNetApp

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
# How long the check waits for the database's write lock before calling it unavailable.
LOCK_WAIT_SECONDS = 1.0


class HealthCheck:
    def __init__(self, application: AuylNetApp, *, mode: str) -> None:
        self._app = application
        self._mode = mode
        self._started = time.monotonic()
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    @property
    def _stuck_after(self) -> float:
        return self._app.bot_data.config.health_stuck_seconds

    async def check(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, what the JSON body says)."""
        now = self._app.bot_data.clock.now()
        body: dict[str, Any] = {
            "status": "ok",
            "mode": self._mode,
            "uptime_seconds": round(time.monotonic() - self._started),
        }
        problems: list[str] = []
        async with self._lock:
            try:
                delivery, backlog = await asyncio.wait_for(self._probe(now), LOCK_WAIT_SECONDS + 2)
            except Exception as error:
                await self._forget_connection()
                body["database"] = f"unavailable: {type(error).__name__}: {error}"
                problems.append("database")
                delivery, backlog = None, None
            else:
                body["database"] = "ok"
        worker = self._app.bot_data.outbox
        worker_running = bool(worker is not None and getattr(worker, "running", False))
        body["outbox_worker"] = "running" if worker_running else "stopped"
        if delivery is not None:
            oldest_age = _age(now, delivery.oldest_pending_created_at)
            last_sent_age = _age(now, delivery.last_sent_at)
            stuck = delivery.pending > 0 and (
                not worker_running
                or (
                    oldest_age is not None
                    and oldest_age > self._stuck_after
                    and (last_sent_age is None or last_sent_age > self._stuck_after)
                )
            )
            body.update(
                outbox_backlog=delivery.pending,
                outbox_due=delivery.due,
                oldest_pending_age_seconds=oldest_age,
                last_sent_age_seconds=last_sent_age,
                outbox_failed=delivery.failed,
                outbox_unconfirmed=delivery.unconfirmed,
                outbox_stuck=stuck,
            )
            if stuck:
                problems.append("outbox")
        if backlog is not None:
            unhandled_age = _age(now, backlog.oldest_received_at)
            inbox_stuck = unhandled_age is not None and unhandled_age > self._stuck_after
            body.update(
                inbox_backlog=backlog.undone,
                oldest_unhandled_age_seconds=unhandled_age,
                inbox_stuck=inbox_stuck,
            )
            if inbox_stuck:
                problems.append("inbox")
        if problems:
            body["status"] = "unhealthy"
            body["problems"] = problems
        return not problems, body

    async def _probe(self, now: datetime) -> tuple[outbox_table.DeliverySnapshot, inbox_table.InboxBacklog]:
        if self._conn is None:
            self._conn = await aiosqlite.connect(
                self._app.bot_data.config.db_path, timeout=LOCK_WAIT_SECONDS, isolation_level=None
            )
            self._conn.row_factory = aiosqlite.Row
        conn = self._conn
        await conn.execute("BEGIN IMMEDIATE")
        try:
            delivery = await outbox_table.delivery_snapshot(conn, now)
            backlog = await inbox_table.backlog(conn)
        finally:
            await conn.rollback()
        return delivery, backlog

    async def _forget_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None

    async def close(self) -> None:
        async with self._lock:
            await self._forget_connection()

    async def handle(self, request: web.Request) -> web.Response:
        healthy, body = await self.check()
        return web.json_response(body, status=200 if healthy else 503)


def _age(now: datetime, moment: datetime | None) -> float | None:
    return max(0.0, (now - moment).total_seconds()) if moment is not None else None


def add_health_route(app: web.Application, check: HealthCheck) -> None:
    app.router.add_get(HEALTH_PATH, check.handle)
