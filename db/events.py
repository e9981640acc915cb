"""Events for other systems: webhooks, the events that happened and their delivery queue.

``emit`` is called by the rules inside their own transaction, so an event exists exactly when the
change that caused it was committed. It queues one delivery per webhook subscribed to the kind and
wakes the delivery worker after the commit; with no subscriber it writes nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import aiosqlite
from pydantic import BaseModel, ConfigDict

from db.database import work_queued
from db.timestamps import from_db, to_db

EventKind = Literal[
    "stage_changed", "installation", "incident_opened", "incident_taken", "incident_resolved", "class_held"
]
EVENT_KINDS: tuple[EventKind, ...] = (
    "stage_changed",
    "installation",
    "incident_opened",
    "incident_taken",
    "incident_resolved",
    "class_held",
)


class Webhook(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    url: str
    events: tuple[str, ...]
    secret: str
    created_at: datetime
    removed_at: datetime | None = None
    pending: int = 0
    last_error: str | None = None


class Delivery(BaseModel):
    """One event on its way to one webhook."""

    model_config = ConfigDict(frozen=True)

    id: int
    webhook_id: int
    url: str
    secret: str
    subject: str
    attempts: int
    next_attempt: datetime
    sequence: int
    event_id: str
    kind: str
    payload: dict[str, Any]
    occurred_at: datetime


async def emit(
    conn: aiosqlite.Connection,
    kind: EventKind,
    subject: str,
    payload: Mapping[str, Any],
    now: datetime | None,
) -> int:
    """Queue an event for every webhook subscribed to ``kind``; returns how many deliveries.

    ``now`` None means the wall clock, for rules that have no clock at hand.
    """
    async with conn.execute(
        "SELECT id FROM webhooks WHERE removed_at IS NULL AND instr(',' || events || ',', ',' || ? || ',') > 0",
        (kind,),
    ) as cursor:
        subscribers = [row[0] for row in await cursor.fetchall()]
    if not subscribers:
        return 0
    moment = to_db(now or datetime.now(UTC))
    cursor = await conn.execute(
        "INSERT INTO events (event_id, kind, subject, payload, occurred_at) VALUES (?, ?, ?, ?, ?)",
        (str(uuid.uuid4()), kind, subject, json.dumps(dict(payload), ensure_ascii=False), moment),
    )
    event_id = cursor.lastrowid
    await conn.executemany(
        "INSERT INTO event_deliveries (webhook_id, event_id, subject, next_attempt) VALUES (?, ?, ?, ?)",
        [(webhook_id, event_id, subject, moment) for webhook_id in subscribers],
    )
    work_queued()
    return len(subscribers)


# --- webhooks -------------------------------------------------------------------------------------


def _webhook(row: aiosqlite.Row) -> Webhook:
    data = dict(row)
    data["events"] = tuple(kind for kind in data["events"].split(",") if kind)
    data["created_at"] = from_db(data["created_at"])
    data["removed_at"] = from_db(data["removed_at"]) if data["removed_at"] else None
    return Webhook.model_validate(data)


async def add_webhook(
    conn: aiosqlite.Connection, *, url: str, events: tuple[str, ...], secret: str, now: datetime
) -> Webhook:
    cursor = await conn.execute(
        "INSERT INTO webhooks (url, events, secret, created_at) VALUES (?, ?, ?, ?)",
        (url, ",".join(events), secret, to_db(now)),
    )
    async with conn.execute("SELECT * FROM webhooks WHERE id = ?", (cursor.lastrowid,)) as found:
        row = await found.fetchone()
    assert row is not None
    return _webhook(row)


async def webhooks(conn: aiosqlite.Connection, *, with_removed: bool = False) -> list[Webhook]:
    """Webhooks with how many deliveries wait and the last error one of them met."""
    async with conn.execute(
        "SELECT w.*,"
        " (SELECT count(*) FROM event_deliveries d WHERE d.webhook_id = w.id AND d.state = 'pending')"
        " AS pending,"
        " (SELECT d.last_error FROM event_deliveries d WHERE d.webhook_id = w.id AND d.state = 'pending'"
        "  AND d.last_error IS NOT NULL ORDER BY d.id LIMIT 1) AS last_error"
        " FROM webhooks w WHERE ? OR w.removed_at IS NULL ORDER BY w.id",
        (int(with_removed),),
    ) as cursor:
        return [_webhook(row) for row in await cursor.fetchall()]


async def remove_webhook(conn: aiosqlite.Connection, webhook_id: int, now: datetime) -> bool:
    """Stop sending to a webhook; what it had not received yet is dropped."""
    cursor = await conn.execute(
        "UPDATE webhooks SET removed_at = ? WHERE id = ? AND removed_at IS NULL", (to_db(now), webhook_id)
    )
    if cursor.rowcount != 1:
        return False
    await conn.execute(
        "UPDATE event_deliveries SET state = 'dropped' WHERE webhook_id = ? AND state = 'pending'",
        (webhook_id,),
    )
    return True


# --- the delivery queue ---------------------------------------------------------------------------

_DELIVERY = (
    "SELECT d.id, d.webhook_id, w.url, w.secret, d.subject, d.attempts, d.next_attempt, e.id AS sequence,"
    " e.event_id, e.kind, e.payload, e.occurred_at"
    " FROM event_deliveries d JOIN events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id"
)


def _delivery(row: aiosqlite.Row) -> Delivery:
    data = dict(row)
    data["payload"] = json.loads(data["payload"])
    data["occurred_at"] = from_db(data["occurred_at"])
    data["next_attempt"] = from_db(data["next_attempt"])
    return Delivery.model_validate(data)


async def due_heads(conn: aiosqlite.Connection, now: datetime, limit: int) -> list[Delivery]:
    """The oldest pending delivery of each (webhook, subject), where it is due: what may go next."""
    async with conn.execute(
        f"{_DELIVERY} WHERE d.id IN (SELECT min(id) FROM event_deliveries WHERE state = 'pending'"
        " GROUP BY webhook_id, subject) AND d.next_attempt <= ? ORDER BY d.id LIMIT ?",
        (to_db(now), limit),
    ) as cursor:
        return [_delivery(row) for row in await cursor.fetchall()]


async def next_due_at(conn: aiosqlite.Connection) -> datetime | None:
    """When the earliest waiting retry comes due."""
    async with conn.execute(
        "SELECT min(next_attempt) FROM event_deliveries WHERE state = 'pending'"
    ) as cursor:
        row = await cursor.fetchone()
    return from_db(row[0]) if row and row[0] else None


async def lane_head(conn: aiosqlite.Connection, webhook_id: int, subject: str) -> Delivery | None:
    """The oldest pending delivery of one (webhook, subject), due or not."""
    async with conn.execute(
        f"{_DELIVERY} WHERE d.webhook_id = ? AND d.subject = ? AND d.state = 'pending' ORDER BY d.id LIMIT 1",
        (webhook_id, subject),
    ) as cursor:
        row = await cursor.fetchone()
    return _delivery(row) if row else None


async def mark_sent(conn: aiosqlite.Connection, delivery_id: int, now: datetime) -> None:
    await conn.execute(
        "UPDATE event_deliveries SET state = 'sent', sent_at = ?, attempts = attempts + 1, last_error = NULL"
        " WHERE id = ? AND state = 'pending'",
        (to_db(now), delivery_id),
    )


async def record_failure(
    conn: aiosqlite.Connection, delivery_id: int, *, error: str, retry_at: datetime
) -> None:
    await conn.execute(
        "UPDATE event_deliveries SET attempts = attempts + 1, last_error = ?, next_attempt = ?"
        " WHERE id = ? AND state = 'pending'",
        (error[:500], to_db(retry_at), delivery_id),
    )


async def forget_delivered(conn: aiosqlite.Connection, before: datetime) -> int:
    """Drop deliveries done before ``before`` and events nobody still waits for."""
    cursor = await conn.execute(
        "DELETE FROM event_deliveries WHERE state IN ('sent', 'dropped') AND coalesce(sent_at, next_attempt) < ?",
        (to_db(before),),
    )
    await conn.execute(
        "DELETE FROM events WHERE occurred_at < ? AND id NOT IN (SELECT event_id FROM event_deliveries)",
        (to_db(before),),
    )
    return cursor.rowcount
