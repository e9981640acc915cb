"""Outage rules on a real SQLite file: mass outages across a district, reopening, who is told what."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from bot.clock import Clock, to_db
from bot.config import Settings
from bot.outages.service import (
    NewReport,
    answer_working,
    check_service_levels,
    file_report,
    is_overdue,
    resolve,
)
from bot.roles import Member
from db import outages, users
from db.database import Database

STAFF_GROUP = -100500
SHAKAT = "556069100"
BAYANAUL, SHONAY, AKSAN = "553630100", "553630400", "553633100"  # three villages of Bayanaul district


def settings(**overrides: object) -> Settings:
    return Settings(
        bot_token="1:x",
        _env_file=None,
        staff_chat_id=STAFF_GROUP,  # type: ignore[call-arg]
        **overrides,
    )


async def seeded(tmp_path: Path, people: int) -> Database:
    from bot.demo.seed import seed_demo

    db = await Database.open(tmp_path / "outages.db")
    await seed_demo(db)
    async with db.transaction() as tx:
        for user_id in range(1, people + 1):
            await tx.execute(
                "INSERT INTO users (id, first_name, language, first_seen, last_seen)"
                " VALUES (?, 'x', 'kk', ?, ?)",
                (user_id, to_db(Clock().now()), to_db(Clock().now())),
            )
    return db


async def member(db: Database, user_id: int) -> Member:
    """The person as the handlers see them: their account and the roles they hold now."""
    async with db.read() as conn:
        account = await users.get_account(conn, user_id)
        grants = await users.roles_of(conn, user_id)
    assert account is not None
    return Member(account, tuple(grants))


async def staff_member(db: Database, user_id: int, scope: str = "") -> Member:
    async with db.transaction() as tx:
        await users.ensure_account(tx, user_id, Clock().now())
        await users.grant_role(tx, user_id=user_id, role="staff", scope=scope, actor_id=None, now=Clock().now())
    return await member(db, user_id)


async def latest_alert(db: Database, incident_id: int, chat_id: int) -> dict[str, object]:
    async with db.read() as conn:
        rows = await conn.execute_fetchall(
            "SELECT params FROM outbox WHERE kind = 'outage.alert' AND slot = ? AND chat_id = ? ORDER BY id DESC",
            (f"incident:{incident_id}", chat_id),
        )
    assert rows, "no alert queued"
    params: dict[str, object] = json.loads(rows[0][0])
    return params


async def test_villages_of_one_district_together_flag_every_alert_as_mass(tmp_path: Path) -> None:
    rules = settings(mass_outage_villages=3, mass_outage_reports=50)
    db = await seeded(tmp_path, 3)
    now = Clock().now()
    for user_id, village in enumerate((BAYANAUL, SHONAY, AKSAN), start=1):
        async with db.transaction() as tx:
            await file_report(
                tx,
                NewReport(user_id, village, "village", "now"),
                source_key=f"m{user_id}",
                settings=rules,
                now=now + timedelta(minutes=user_id),
            )
    async with db.read() as conn:
        found = await outages.unresolved(conn)
    assert [incident.mass for incident in found] == [True, True, True]
    # The staff group sees it on all three alerts, not only on the one whose report tipped it over.
    for incident in found:
        assert (await latest_alert(db, incident.id, STAFF_GROUP))["mass"] is True
    await db.close()


async def test_the_resident_who_says_no_is_answered_once_and_neighbours_are_told(tmp_path: Path) -> None:
    rules = settings()
    db = await seeded(tmp_path, 3)
    now = Clock().now()
    for user_id in (1, 2, 3):
        async with db.transaction() as tx:
            filed = await file_report(
                tx,
                NewReport(user_id, SHAKAT, "home", "today"),
                source_key=f"n{user_id}",
                settings=rules,
                now=now,
            )
    engineer = await staff_member(db, 99)
    await resolve(db, engineer, filed.incident.id, "fixed", rules, now + timedelta(hours=1))
    await answer_working(db, await member(db, 2), filed.incident.id, False, rules, now + timedelta(hours=2))
    async with db.read() as conn:
        rows = await conn.execute_fetchall(
            "SELECT chat_id FROM outbox WHERE kind = 'outage.reopened' ORDER BY chat_id"
        )
    # The one who pressed «No» already gets the answer on the button; a second message would repeat it.
    assert [row[0] for row in rows] == [1, 3]
    await db.close()


async def test_a_reopened_outage_gets_a_fresh_time_to_be_taken(tmp_path: Path) -> None:
    rules = settings(admin_ids=frozenset({900}), take_within_minutes=60, resolve_within_hours=24)
    db = await seeded(tmp_path, 1)
    opened = Clock().now()
    async with db.transaction() as tx:
        filed = await file_report(
            tx, NewReport(1, SHAKAT, "school", "now"), source_key="r1", settings=rules, now=opened
        )
    engineer = await staff_member(db, 77)
    await resolve(db, engineer, filed.incident.id, "fixed", rules, opened + timedelta(minutes=30))
    reopened_at = opened + timedelta(hours=5)
    incident = await answer_working(db, await member(db, 1), filed.incident.id, False, rules, reopened_at)
    assert incident.state == "open"
    # Just reopened: not late yet, and the admins are not told "nobody took it for 60 minutes".
    soon = reopened_at + timedelta(minutes=5)
    assert not is_overdue(incident, rules, soon)
    async with db.transaction() as tx:
        assert await check_service_levels(tx, rules, soon) == 0
    later: datetime = reopened_at + timedelta(minutes=61)
    assert is_overdue(incident, rules, later)
    async with db.transaction() as tx:
        assert await check_service_levels(tx, rules, later) == 1
    await db.close()
