"""Delivering events to webhooks: at least once, in order per subject, signed, surviving restarts.

The queue is ``event_deliveries`` (filled by ``db.events.emit`` inside the transaction of the change).
The worker serves each (webhook, subject) as a lane: its oldest pending delivery first, the next only
after the receiver answered 2xx, so one village's, incident's or class's events arrive in the order
they happened while other subjects go on. A failed delivery is retried with back-off (equal jitter,
capped) and holds back only its own subject. A delivery is marked sent after the receiver's 2xx;
one under way when the process stops is sent again after the restart, with the same event id.

Each POST carries ``X-AuylNet-Signature: sha256=<hex>``, the HMAC-SHA256 of the body with the
webhook's secret, and ``X-AuylNet-Event-Id`` (also ``id`` in the body) for dropping duplicates.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp

from bot.clock import Clock
from db import events
from db.database import Database
from db.events import Delivery

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-AuylNet-Signature"
KEEP_DELIVERED = timedelta(days=7)


@dataclass(frozen=True)
class RetryPolicy:
    """The n-th failure waits between half and all of ``base_delay * 2**(n-1)``, at most ``max_delay``."""

    base_delay: float = 5.0
    max_delay: float = 600.0

    def delay(self, failures: int, rng: random.Random) -> float:
        nominal = min(self.max_delay, self.base_delay * 2.0 ** (failures - 1))
        return nominal / 2 + rng.uniform(0, nominal / 2)


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: ``sha256=`` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def body_of(delivery: Delivery, zone: ZoneInfo) -> bytes:
    """The same bytes on every attempt: receivers compare ids, and the signature covers them."""
    event = {
        "id": delivery.event_id,
        "kind": delivery.kind,
        "subject": delivery.subject,
        "sequence": delivery.sequence,
        "occurred_at": delivery.occurred_at.astimezone(zone).isoformat(timespec="seconds"),
        "data": delivery.payload,
    }
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()


class EventWorker:
    """POSTs pending deliveries until stopped; :meth:`wake` after a commit that emitted events."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        policy: RetryPolicy | None = None,
        zone: ZoneInfo | None = None,
        poll_interval: float = 5.0,
        timeout: float = 10.0,
        max_in_flight: int = 16,
        max_lanes: int = 256,
        rng: random.Random | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self.policy = policy or RetryPolicy()
        self._zone = zone or ZoneInfo("Asia/Almaty")
        self._poll_interval = poll_interval
        self._timeout = timeout
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self._max_lanes = max_lanes
        self._rng = rng or random.Random()
        self._lanes: dict[tuple[int, str], asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self._dispatcher: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._last_prune: datetime | None = None

    async def start(self) -> None:
        if self._dispatcher is not None:
            raise RuntimeError("event worker already started")
        self._stopping = False
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self._timeout),
            headers={"User-Agent": "AuylNet-Webhooks/1"},
        )
        self._dispatcher = asyncio.create_task(self._dispatch(), name="event-dispatcher")
        log.info("event delivery started")

    async def stop(self, timeout: float = 15.0) -> None:
        """Take nothing new; POSTs under way finish (or are cancelled after ``timeout`` and sent again later)."""
        self._stopping = True
        self._wake.set()
        if self._dispatcher is not None:
            await self._dispatcher
            self._dispatcher = None
        lanes = list(self._lanes.values())
        if lanes:
            _, late = await asyncio.wait(lanes, timeout=timeout)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None
        log.info("event delivery stopped")

    def wake(self) -> None:
        self._wake.set()

    async def _dispatch(self) -> None:
        while not self._stopping:
            self._wake.clear()
            timeout = self._poll_interval
            try:
                now = self._clock.now()
                async with self._db.read() as conn:
                    heads = await events.due_heads(conn, now, self._max_lanes)
                    upcoming = await events.next_due_at(conn)
                for head in heads:
                    lane = (head.webhook_id, head.subject)
                    if lane not in self._lanes and len(self._lanes) < self._max_lanes:
                        self._lanes[lane] = asyncio.create_task(self._serve(lane), name=f"events-{lane}")
                if upcoming is not None and upcoming > now:
                    timeout = min(timeout, (upcoming - now).total_seconds() + 0.01)
                await self._prune(now)
            except Exception:
                log.exception("event dispatcher failed; trying again at the next poll")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def _serve(self, lane: tuple[int, str]) -> None:
        """Deliver one (webhook, subject)'s due events in order; stop at a failure or at the end."""
        try:
            while not self._stopping:
                # Read afresh: the head the dispatcher saw may have been delivered by the lane before.
                async with self._db.read() as conn:
                    head = await events.lane_head(conn, *lane)
                if head is None or not await self._deliver(head):
                    break
        except Exception:
            log.exception("events: lane %s failed", lane)
        finally:
            self._lanes.pop(lane, None)
            self._wake.set()

    async def _deliver(self, delivery: Delivery) -> bool:
        """POST one event; True once the receiver took it."""
        if self._clock.now() < delivery.next_attempt:
            return False  # a retry that is not due yet: the dispatcher comes back for it
        body = body_of(delivery, self._zone)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(delivery.secret, body),
            "X-AuylNet-Event": delivery.kind,
            "X-AuylNet-Event-Id": delivery.event_id,
            "X-AuylNet-Attempt": str(delivery.attempts + 1),
        }
        assert self._session is not None
        error: str | None = None
        async with self._in_flight:
            try:
                async with self._session.post(delivery.url, data=body, headers=headers) as response:
                    if not 200 <= response.status < 300:
                        error = f"HTTP {response.status}"
            except (aiohttp.ClientError, TimeoutError) as failure:
                error = f"{type(failure).__name__}: {failure}"
        now = self._clock.now()
        async with self._db.transaction() as conn:
            if error is None:
                await events.mark_sent(conn, delivery.id, now)
            else:
                wait = self.policy.delay(delivery.attempts + 1, self._rng)
                await events.record_failure(
                    conn, delivery.id, error=error, retry_at=now + timedelta(seconds=wait)
                )
        if error is not None:
            log.info("events: %s to %s failed (%s); retrying", delivery.event_id, delivery.url, error)
        return error is None

    async def _prune(self, now: datetime) -> None:
        if self._last_prune is not None and now - self._last_prune < timedelta(hours=1):
            return
        self._last_prune = now
        async with self._db.transaction() as conn:
            await events.forget_delivered(conn, now - KEEP_DELIVERED)


async def start_event_delivery(
    db: Database, clock: Clock, *, policy: RetryPolicy | None = None, zone: ZoneInfo | None = None
) -> EventWorker:
    """Start delivering, woken after every commit that emitted an event."""
    worker = EventWorker(db, clock, policy=policy, zone=zone)
    db.on_commit(worker.wake)
    await worker.start()
    return worker
