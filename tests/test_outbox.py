"""Notifications that always arrive: the outbox worker with a real PTB bot against the sandbox.

Stories: residents hear about their village despite flood control, server errors and dropped
connections; someone who blocked the bot is left alone; the staff group's alert is edited in place;
a worker killed mid-delivery resumes and nobody is missed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import Translator, translator
from bot.notify import Rendered, renderer
from bot.outbox import OutboxWorker, RetryPolicy, build_outbox_bot
from bot.sandbox.client import SandboxClient, TestUser, wait_until
from db import outbox
from db.database import Database
from db.users import record_contact, set_language
from tests.conftest import BOT_TOKEN, REPO

# Retries come due after a second (next_attempt has whole seconds), so faults cost little time.
QUICK = RetryPolicy(max_attempts=8, base_delay=0.5, max_delay=1.0, unknown_outcome_pause=1.0)


# Test-only notification kinds, rendered from real catalog strings so the language shows.
@renderer("test.greeting")
def render_greeting(t: Translator, params: Mapping[str, Any]) -> Rendered:
    return Rendered(t._("Hello, {name}! I am AuylNet.", name=params["name"]))


@renderer("test.alert")
def render_alert(t: Translator, params: Mapping[str, Any]) -> Rendered:
    return Rendered(t._("Language: {name}", name=params["state"]))


def greeting(language: str, name: str) -> str:
    return translator(language)._("Hello, {name}! I am AuylNet.", name=name)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "auylnet.db")
    yield database
    await database.close()


def settings_for(sandbox: Any, db: Database, **overrides: Any) -> Settings:
    return Settings(
        bot_token=BOT_TOKEN,  # type: ignore[arg-type]
        api_base_url=sandbox.api_url,
        db_path=Path(db.path),
        _env_file=None,  # type: ignore[call-arg]
        **overrides,
    )


@asynccontextmanager
async def delivering(
    sandbox: Any, db: Database, clock: Clock, *, policy: RetryPolicy = QUICK, **overrides: Any
) -> AsyncIterator[OutboxWorker]:
    settings = settings_for(sandbox, db, **overrides)
    async with build_outbox_bot(settings) as bot:
        worker = OutboxWorker(bot, db, settings, clock, policy=policy, poll_interval=0.5)
        await worker.start()
        try:
            yield worker
        finally:
            await worker.stop()


async def introduce_bot(sandbox: Any, db: Database) -> None:
    """The sandbox learns of the bot on its first call; blocking it needs it known."""
    async with build_outbox_bot(settings_for(sandbox, db)):
        pass


async def resident(
    client: SandboxClient, db: Database, clock: Clock, name: str, language: str | None
) -> TestUser:
    """Someone who has talked to the bot and chose a language (or never did: None)."""
    person = await client.user(name, language_code=language or "en")
    async with db.transaction() as conn:
        await record_contact(
            conn,
            user_id=person.id,
            first_name=name,
            last_name=None,
            username=None,
            telegram_language=language,
            now=clock.now(),
        )
        if language is not None:
            await set_language(conn, person.id, language)
    return person


async def notify(
    db: Database, clock: Clock, chat_id: int, kind: str, worker: OutboxWorker | None = None, **params: Any
) -> bool:
    slot = params.pop("slot", None)
    dedup_key = params.pop("dedup_key", None)
    async with db.transaction() as conn:
        queued = await outbox.enqueue(
            conn, chat_id=chat_id, kind=kind, params=params, now=clock.now(), slot=slot, dedup_key=dedup_key
        )
    if worker is not None:
        worker.wake()
    return queued


async def states(db: Database) -> dict[outbox.State, int]:
    async with db.read() as conn:
        return await outbox.count_by_state(conn)


async def nothing_pending(db: Database) -> bool:
    return (await states(db))["pending"] == 0


async def texts(person: TestUser) -> list[str]:
    return [message.text for message in await person.messages()]


async def test_every_resident_gets_exactly_one_copy_in_their_language_despite_faults(
    sandbox: Any, client: SandboxClient, db: Database, clock: Clock
) -> None:
    kazakh = [await resident(client, db, clock, f"Айгүл {i}", "kk") for i in range(5)]
    russian = [await resident(client, db, clock, f"Ольга {i}", "ru") for i in range(5)]
    undecided = await resident(client, db, clock, "Ерлан", None)  # gets the default language
    gone = await resident(client, db, clock, "Данияр", "kk")
    await introduce_bot(sandbox, db)
    await client.block(gone)
    everyone = [*kazakh, *russian, undecided, gone]
    for n in (1, 2, 3):
        for person in everyone:
            assert await notify(
                db,
                clock,
                person.id,
                "test.greeting",
                name=f"{person.first_name} #{n}",
                dedup_key=f"greeting:{person.id}:{n}",
            )
    # Enqueueing is idempotent: a feature that retries its transaction queues nothing new.
    again = f"greeting:{kazakh[0].id}:1"
    assert not await notify(db, clock, kazakh[0].id, "test.greeting", name="x", dedup_key=again)
    await client.fault("429", 0.3, method="sendMessage", count=4, retry_after=1)
    await client.fault("500", 0.3, method="sendMessage", count=4)
    await client.fault("drop", 0.3, method="sendMessage", count=4)

    async with delivering(sandbox, db, clock, default_language="ru"):
        await wait_until(lambda: nothing_pending(db), timeout=60)

    assert all(fault.count == 0 for fault in sandbox.world.faults), "every injected fault was hit"
    for person, language in [*((p, "kk") for p in kazakh), *((p, "ru") for p in russian), (undecided, "ru")]:
        assert await texts(person) == [greeting(language, f"{person.first_name} #{n}") for n in (1, 2, 3)]
    assert await texts(gone) == []
    async with db.read() as conn:
        assert (await outbox.recipient(conn, gone.id)).blocked
        health = await outbox.queue_health(conn, clock.now())
        cursor = await conn.execute("SELECT MAX(attempts) FROM outbox WHERE last_error LIKE '429%'")
        only_rate_limited = await cursor.fetchone()
    assert (health.pending, health.sent_last_hour, health.dropped, health.blocked_recipients) == (0, 33, 3, 1)
    assert health.failed == 0
    assert only_rate_limited is not None


async def test_flood_control_waits_without_counting_a_failure(
    sandbox: Any, client: SandboxClient, db: Database, clock: Clock
) -> None:
    aigul = await resident(client, db, clock, "Айгүл", "kk")
    await client.fault("429", 1.0, method="sendMessage", count=1, retry_after=2)
    started = time.monotonic()
    async with delivering(sandbox, db, clock) as worker:
        await notify(db, clock, aigul.id, "test.greeting", worker, name="Айгүл")
        message = await aigul.next_message(timeout=10)
    assert message.text == greeting("kk", "Айгүл")
    assert time.monotonic() - started >= 2.0
    async with db.read() as conn:
        cursor = await conn.execute("SELECT state, attempts, last_error FROM outbox")
        row = tuple(await cursor.fetchone())  # type: ignore[arg-type]
    assert row == ("sent", 0, "429: Flood control exceeded. Retry in 2 seconds")


async def test_limits_are_kept_so_telegram_never_says_too_many_requests(
    sandbox: Any, client: SandboxClient, db: Database, clock: Clock
) -> None:
    await client.limits(global_per_second=10)
    people = [await resident(client, db, clock, f"Болат {i}", "ru") for i in range(25)]
    chatty = people[0]
    for person in people:
        await notify(db, clock, person.id, "test.greeting", name=person.first_name)
    for n in range(5):  # one chat, six messages: paced at about one a second
        await notify(db, clock, chatty.id, "test.greeting", name=f"ещё {n}")
    started = time.monotonic()
    async with delivering(sandbox, db, clock, rate_global_per_second=10):
        await wait_until(lambda: nothing_pending(db), timeout=30)
    elapsed = time.monotonic() - started
    stats = await client.stats()
    assert not any("Too Many Requests" in reason for reason in stats["rejected"]), stats["rejected"]
    assert stats["sent_messages"] == 30
    # 10 at once, then 10 a second; the chatty chat alone needs 5 s for its 6 messages.
    assert elapsed >= 5.0
    assert [m.text for m in await chatty.messages()][1:] == [greeting("ru", f"ещё {n}") for n in range(5)]


async def test_a_notification_speaks_the_language_chosen_after_it_was_queued(
    sandbox: Any, client: SandboxClient, db: Database, clock: Clock
) -> None:
    olga = await resident(client, db, clock, "Ольга", "kk")
    await notify(db, clock, olga.id, "test.greeting", name="Ольга")
    async with db.transaction() as conn:
        await set_language(conn, olga.id, "ru")
    async with delivering(sandbox, db, clock):
        message = await olga.next_message()
    assert message.text == "Здравствуйте, Ольга! Я — AuylNet."


async def test_someone_who_never_chose_hears_in_the_language_telegram_suggests(
    sandbox: Any, client: SandboxClient, db: Database, clock: Clock
) -> None:
    olga = await client.user("Ольга", language_code="ru-RU")
    async with db.transaction() as conn:
        await record_contact(
            conn,
            user_id=olga.id,
            first_name="Ольга",
            last_name=None,
            username=None,
            telegram_language="ru-RU",
            now=clock.now(),
        )
    await notify(db, clock, olga.id, "test.greeting", name="Ольга")
    async with delivering(sandbox, db, clock, default_language="kk"):
        message = await olga.next_message()
    assert message.text == greeting("ru", "Ольга")


async def test_the_staff_alert_is_edited_in_place_as_the_incident_changes(
    sandbox: Any, client: SandboxClient, db: Database, clock: Clock
) -> None:
    bolat = await resident(client, db, clock, "Болат", "ru")
    staff = await client.group("Staff", [bolat])
    watcher = bolat.in_chat(staff)
    slot = "incident:7"
    async with delivering(sandbox, db, clock, default_language="ru") as worker:
        await notify(db, clock, staff.id, "test.alert", worker, state="open", slot=slot)
        alert = await watcher.next_message()
        assert alert.text == "Язык: open"

        await notify(db, clock, staff.id, "test.alert", worker, state="taken", slot=slot)
        edited = await watcher.wait_for(lambda m: m.edited)
        assert (edited.message_id, edited.text) == (alert.message_id, "Язык: taken")

        # The same state again: Telegram says "not modified", which is delivery all the same.
        await notify(db, clock, staff.id, "test.alert", worker, state="taken", slot=slot)
        await wait_until(lambda: nothing_pending(db))
        assert (await states(db))["sent"] == 3
        assert len(await watcher.messages()) == 1

        # Someone deleted the alert: the next change arrives as a new message and takes the slot.
        settings = settings_for(sandbox, db)
        async with build_outbox_bot(settings) as admin_bot:
            await admin_bot.delete_message(staff.id, alert.message_id)
        await notify(db, clock, staff.id, "test.alert", worker, state="resolved", slot=slot)
        resent = await watcher.next_message()
        assert resent.text == "Язык: resolved" and resent.message_id != alert.message_id
        await notify(db, clock, staff.id, "test.alert", worker, state="closed", slot=slot)
        closed = await watcher.wait_for(lambda m: m.edited)
        assert (closed.message_id, closed.text) == (resent.message_id, "Язык: closed")
    assert [m.text for m in await watcher.messages()] == ["Язык: closed"]
    assert await states(db) == {
        "pending": 0,
        "sent": 5,
        "failed": 0,
        "dropped": 0,
        "superseded": 0,
        "unconfirmed": 0,
    }


async def test_a_notification_that_keeps_failing_is_parked_and_an_admin_can_retry_it(
    sandbox: Any, client: SandboxClient, db: Database, clock: Clock
) -> None:
    aigul = await resident(client, db, clock, "Айгүл", "kk")
    bolat = await resident(client, db, clock, "Болат", "ru")
    await client.fault("500", 1.0, method="sendMessage", count=3)
    policy = RetryPolicy(max_attempts=3, base_delay=0.5, max_delay=1.0)
    async with delivering(sandbox, db, clock, policy=policy) as worker:
        await notify(db, clock, aigul.id, "test.greeting", worker, name="1")
        await wait_until(lambda: nothing_pending(db), timeout=15)
        async with db.read() as conn:
            health = await outbox.queue_health(conn, clock.now())
            cursor = await conn.execute("SELECT attempts, last_error FROM outbox")
            parked = tuple(await cursor.fetchone())  # type: ignore[arg-type]
        assert health.failed == 1 and parked == (3, "NetworkError: Internal Server Error")
        assert await texts(aigul) == []
        # Later rows of the chat are not held back by a parked one.
        await notify(db, clock, aigul.id, "test.greeting", worker, name="2")
        await notify(db, clock, bolat.id, "test.greeting", worker, name="Болат")
        assert (await aigul.next_message()).text == greeting("kk", "2")
        async with db.transaction() as conn:
            assert await outbox.retry_failed(conn, clock.now()) == 1
        worker.wake()
        assert (await aigul.next_message()).text == greeting("kk", "1")
    assert await texts(bolat) == [greeting("ru", "Болат")]
    assert await states(db) == {
        "pending": 0,
        "sent": 3,
        "failed": 0,
        "dropped": 0,
        "superseded": 0,
        "unconfirmed": 0,
    }


async def test_a_kind_nobody_can_render_is_parked_not_retried(
    sandbox: Any, client: SandboxClient, db: Database, clock: Clock
) -> None:
    aigul = await resident(client, db, clock, "Айгүл", "kk")
    await notify(db, clock, aigul.id, "test.nobody-renders-this")
    await notify(db, clock, aigul.id, "test.greeting", name="Айгүл")
    async with delivering(sandbox, db, clock):
        assert (await aigul.next_message()).text == greeting("kk", "Айгүл")
    assert await states(db) == {
        "pending": 0,
        "sent": 1,
        "failed": 1,
        "dropped": 0,
        "superseded": 0,
        "unconfirmed": 0,
    }


async def test_stopping_finishes_sends_already_under_way(
    sandbox: Any, client: SandboxClient, db: Database, clock: Clock
) -> None:
    people = [await resident(client, db, clock, f"Айгүл {i}", "kk") for i in range(40)]
    for person in people:
        await notify(db, clock, person.id, "test.greeting", name=person.first_name)
    # Slow answers: when stop() is called, several sends are at the sandbox.
    await client.fault("delay", 1.0, method="sendMessage", delay=0.4)
    async with delivering(sandbox, db, clock, rate_global_per_second=20):
        await wait_until(lambda: sandbox.world.stats["requests"].get("sendMessage", 0) >= 10)
    delivered = sandbox.world.stats["sent_messages"]
    counts = await states(db)
    # Everything the sandbox received is recorded: stop() let those sends finish.
    assert counts["sent"] == delivered
    assert 0 < delivered < 40 and counts["pending"] == 40 - delivered
    await client.clear_faults()
    async with delivering(sandbox, db, clock):
        await wait_until(lambda: nothing_pending(db), timeout=15)
    for person in people:
        assert await texts(person) == [greeting("kk", person.first_name)]


# --- crash and restart -----------------------------------------------------------------------------
CRASH_USERS = 500
CRASH_PER_USER = 4
CRASH_IN_FLIGHT = 16


async def start_runner(sandbox: Any, db_path: Path) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.outbox",
        "--db",
        str(db_path),
        "--api-url",
        sandbox.api_url,
        "--token",
        BOT_TOKEN,
        "--global-rate",
        "400",
        "--max-in-flight",
        str(CRASH_IN_FLIGHT),
        "--renderers",
        "tests.test_outbox",
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 30)
    assert b"ready" in line, line
    return process


async def test_a_worker_killed_mid_delivery_resumes_and_misses_nobody(
    sandbox: Any, client: SandboxClient, db: Database, clock: Clock
) -> None:
    await client.limits(global_per_second=400)
    people: list[TestUser] = []
    for start in range(0, CRASH_USERS, 50):
        people += await asyncio.gather(
            *(client.user(f"Тұрғын {i}", language_code="kk") for i in range(start, start + 50))
        )
    async with db.transaction() as conn:
        for index, person in enumerate(people):
            await record_contact(
                conn,
                user_id=person.id,
                first_name=person.first_name,
                last_name=None,
                username=None,
                telegram_language="kk",
                now=clock.now(),
            )
            await set_language(conn, person.id, "kk" if index % 2 else "ru")
        for n in range(CRASH_PER_USER):
            for person in people:
                await outbox.enqueue(
                    conn,
                    chat_id=person.id,
                    kind="test.greeting",
                    params={"name": f"{person.id}/{n}"},
                    now=clock.now(),
                )
    total = CRASH_USERS * CRASH_PER_USER

    first = await start_runner(sandbox, Path(db.path))
    await wait_until(lambda: sandbox.world.stats["sent_messages"] >= total // 3, timeout=60)
    first.send_signal(signal.SIGKILL)
    await first.wait()
    at_kill = sandbox.world.stats["sent_messages"]
    assert at_kill < total, "the kill came too late to test anything"

    second = await start_runner(sandbox, Path(db.path))
    try:
        await wait_until(lambda: nothing_pending(db), timeout=90)
    finally:
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), 30) == 0

    received = 0
    for index, person in enumerate(people):
        language = "kk" if index % 2 else "ru"
        got = await texts(person)
        expected = [greeting(language, f"{person.id}/{n}") for n in range(CRASH_PER_USER)]
        # Nobody missed anything, in order; a repeat can only be a resend of the same row.
        assert sorted(set(got), key=expected.index) == expected
        assert sorted(got, key=expected.index) == got
        received += len(got)
    duplicates = received - total
    print(f"killed after {at_kill} of {total} sends; {duplicates} duplicates (bound {CRASH_IN_FLIGHT})")
    assert 0 <= duplicates <= CRASH_IN_FLIGHT, f"{duplicates} duplicates"
    assert await states(db) == {
        "pending": 0,
        "sent": total,
        "failed": 0,
        "dropped": 0,
        "superseded": 0,
        "unconfirmed": 0,
    }
