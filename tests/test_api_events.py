"""Events to webhooks: at least once, in order per subject, signed, through failures and restarts."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from bot.api import service
from bot.api.events import EventWorker, RetryPolicy, start_event_delivery
from bot.clock import Clock
from db import events
from db.database import Database

FAST = RetryPolicy(base_delay=0.05, max_delay=0.2)


@dataclass
class Receiver:
    """A webhook receiver that refuses its first ``fail_first`` deliveries and may hold one back."""

    fail_first: int = 0
    slow_event: str | None = None
    calls: list[dict[str, object]] = field(default_factory=list)
    accepted: list[dict[str, object]] = field(default_factory=list)
    url: str = ""
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        event = json.loads(body)
        self.calls.append(
            {"event": event, "signature": request.headers.get("X-AuylNet-Signature"), "body": body}
        )
        self.arrived.set()
        if len(self.calls) <= self.fail_first:
            return web.Response(status=500, text="not today")
        if event["id"] == self.slow_event:
            self.slow_event = None
            await asyncio.sleep(2)
        self.accepted.append(event)
        return web.Response(status=204)

    def unique_ids(self) -> list[str]:
        seen: list[str] = []
        for event in self.accepted:
            if event["id"] not in seen:
                seen.append(str(event["id"]))
        return seen


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    app = web.Application()
    app.router.add_post("/hook", found.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    found.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield found
    await runner.cleanup()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "events.db")
    yield database
    await database.close()


async def emit_rounds(db: Database, clock: Clock, rounds: range, subjects: tuple[str, ...]) -> list[str]:
    """Events round by round across subjects; some transactions carry two events of one subject."""
    emitted = []
    for n in rounds:
        async with db.transaction() as tx:
            for subject in subjects:
                await events.emit(tx, "incident_taken", subject, {"round": n}, clock.now())
                if n % 3 == 0:
                    await events.emit(
                        tx, "incident_resolved", subject, {"round": n, "second": True}, clock.now()
                    )
        async with db.read() as conn:
            rows = await conn.execute_fetchall("SELECT event_id FROM events ORDER BY id")
        emitted = [row[0] for row in rows]
    return emitted


async def wait_until(receiver: Receiver, condition: Callable[[], bool], timeout: float = 20.0) -> None:
    async def watch() -> None:
        while not condition():
            receiver.arrived.clear()
            await receiver.arrived.wait()

    await asyncio.wait_for(watch(), timeout)


def check_order_and_signatures(receiver: Receiver, secret: str, emitted: list[str]) -> None:
    assert sorted(receiver.unique_ids()) == sorted(emitted)
    for call in receiver.calls:
        expected = "sha256=" + hmac.new(secret.encode(), call["body"], hashlib.sha256).hexdigest()  # type: ignore[arg-type]
        assert hmac.compare_digest(str(call["signature"]), expected)
    # As a receiver dropping duplicates by id applies them: strictly in order within each subject.
    last: dict[str, int] = {}
    seen: set[str] = set()
    for event in receiver.accepted:
        if event["id"] in seen:
            continue
        seen.add(str(event["id"]))
        subject, sequence = str(event["subject"]), int(event["sequence"])  # type: ignore[call-overload]
        assert sequence > last.get(subject, 0), f"{subject}: {sequence} after {last[subject]}"
        last[subject] = sequence


async def test_a_receiver_failing_at_first_gets_every_event_once_in_order_across_a_restart(
    db: Database, receiver: Receiver
) -> None:
    clock = Clock()
    receiver.fail_first = 3
    hook = await service.add_webhook(db, url=receiver.url, kinds=list(events.EVENT_KINDS), now=clock.now())
    subjects = ("incident:1", "incident:2", "village:553630100")
    emitted = await emit_rounds(db, clock, range(0, 6), subjects)

    worker = await start_event_delivery(db, clock, policy=FAST)
    await wait_until(receiver, lambda: len(receiver.accepted) >= 8)
    await worker.stop()  # a restart in the middle
    during = len(receiver.accepted)
    emitted = await emit_rounds(db, clock, range(6, 10), subjects)  # queued while nobody sends
    await asyncio.sleep(0.3)
    assert len(receiver.accepted) == during

    worker = await start_event_delivery(db, clock, policy=FAST)
    await wait_until(receiver, lambda: len(receiver.unique_ids()) == len(emitted))
    await worker.stop()

    assert len(emitted) == 42
    assert len(receiver.calls) == len(emitted) + 3  # three refused, each sent again
    # Each event was taken exactly once (the refused ones came again), in order within its subject.
    assert len(receiver.accepted) == len(emitted) == len(receiver.unique_ids())
    refused = {c["event"]["id"] for c in receiver.calls[:3]}  # type: ignore[index]
    assert refused <= set(receiver.unique_ids())
    check_order_and_signatures(receiver, hook.secret, emitted)
    first = receiver.accepted[0]
    assert set(first) == {"id", "kind", "subject", "sequence", "occurred_at", "data"}
    assert str(first["occurred_at"]).endswith("+05:00")
    async with db.read() as conn:
        rows = await conn.execute_fetchall("SELECT state, count(*) FROM event_deliveries GROUP BY state")
    assert [tuple(row) for row in rows] == [("sent", 42)]


async def test_a_delivery_cut_off_by_a_stop_is_sent_again_after_the_restart(
    db: Database, receiver: Receiver
) -> None:
    clock = Clock()
    hook = await service.add_webhook(db, url=receiver.url, kinds=["class_held"], now=clock.now())
    async with db.transaction() as tx:
        for n in range(5):
            await events.emit(tx, "class_held", "class:7", {"n": n}, clock.now())
    async with db.read() as conn:
        emitted = [row[0] for row in await conn.execute_fetchall("SELECT event_id FROM events ORDER BY id")]
    receiver.slow_event = emitted[2]

    worker = EventWorker(db, clock, policy=FAST, timeout=5.0)
    db.on_commit(worker.wake)
    await worker.start()
    await wait_until(receiver, lambda: len(receiver.calls) >= 3)
    await worker.stop(timeout=0.05)  # the third POST is still at the receiver: cut off, not recorded
    async with db.read() as conn:
        pending = await conn.execute_fetchall("SELECT count(*) FROM event_deliveries WHERE state = 'pending'")
    assert pending[0][0] == 3

    worker = await start_event_delivery(db, clock, policy=FAST)
    await wait_until(receiver, lambda: len(receiver.unique_ids()) == 5)
    await worker.stop()
    # The receiver saw the cut-off event twice (same id), and drops the copy by its id.
    assert receiver.unique_ids() == emitted
    check_order_and_signatures(receiver, hook.secret, emitted)


async def test_emit_writes_nothing_without_a_subscriber_or_when_the_change_is_rolled_back(
    db: Database,
) -> None:
    clock = Clock()
    async with db.transaction() as tx:
        assert await events.emit(tx, "installation", "village:1", {}, clock.now()) == 0
    await service.add_webhook(db, url="http://127.0.0.1:9/a", kinds=["installation"], now=clock.now())
    await service.add_webhook(
        db, url="http://127.0.0.1:9/b", kinds=["installation", "class_held"], now=clock.now()
    )
    async with db.transaction() as tx:
        assert await events.emit(tx, "class_held", "class:1", {}, clock.now()) == 1
        assert await events.emit(tx, "installation", "village:1", {}, clock.now()) == 2
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await events.emit(tx, "installation", "village:2", {}, clock.now())
            raise RuntimeError("the change failed")
    async with db.read() as conn:
        rows = await conn.execute_fetchall("SELECT kind, subject FROM events ORDER BY id")
        deliveries = await conn.execute_fetchall("SELECT count(*) FROM event_deliveries")
    assert [tuple(row) for row in rows] == [("class_held", "class:1"), ("installation", "village:1")]
    assert deliveries[0][0] == 3


async def test_removing_a_webhook_drops_what_it_had_not_received(db: Database) -> None:
    clock = Clock()
    made = await service.add_webhook(
        db, url="https://example.kz/hook", kinds=["stage_changed"], now=clock.now()
    )
    assert len(made.secret) == 64
    async with db.transaction() as tx:
        await events.emit(tx, "stage_changed", "village:1", {"stage": "design"}, clock.now())
    [listed] = await service.list_webhooks(db)
    assert (listed.url, listed.events, listed.pending) == ("https://example.kz/hook", ("stage_changed",), 1)
    assert await service.remove_webhook(db, made.webhook.id, clock.now())
    assert not await service.remove_webhook(db, made.webhook.id, clock.now())
    assert await service.list_webhooks(db) == []
    async with db.read() as conn:
        rows = await conn.execute_fetchall("SELECT state FROM event_deliveries")
    assert [row[0] for row in rows] == ["dropped"]
    for url, kinds in (("ftp://x", ["stage_changed"]), ("https://x.kz", ["weather"]), ("https://x.kz", [])):
        with pytest.raises(service.ApiError):
            await service.add_webhook(db, url=url, kinds=kinds, now=clock.now())
