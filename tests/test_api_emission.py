"""The rules emit an event where something another system cares about happens, and nothing else."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from bot.api import service as api_service
from bot.classes import service as classes
from bot.clock import Clock
from bot.outages.service import NewReport, answer_working, file_report, resolve, start_work, take
from bot.places.rollout import NewInstallation, RolloutChange, change_rollout, record_installation
from db import events, places
from db.database import Database
from tests.api_support import BAYANAUL, SHAKAT, bot_settings, seeded_database
from tests.test_classes_rules import person, trainer


async def emitted(db: Database) -> list[tuple[str, str, dict[str, object]]]:
    async with db.read() as conn:
        rows = await conn.execute_fetchall("SELECT kind, subject, payload FROM events ORDER BY id")
    return [(row[0], row[1], json.loads(row[2])) for row in rows]


async def test_rules_emit_stage_installation_incident_and_class_events(tmp_path: Path) -> None:
    db = await seeded_database(tmp_path / "emit.db")
    clock = Clock()
    settings = bot_settings(tmp_path / "emit.db")
    await api_service.add_webhook(db, url="https://x.kz/h", kinds=list(events.EVENT_KINDS), now=clock.now())
    async with db.transaction() as tx:
        for user_id in (1, 2, 900):
            await tx.execute(
                "INSERT INTO users (id, first_name, language, first_seen, last_seen) VALUES (?, 'P', 'kk', ?, ?)",
                (user_id, clock.now().isoformat(), clock.now().isoformat()),
            )

    # An installation in a village under construction: the building is online; the village's stage
    # moves only when staff say homes can connect, and a planned date that moves alone is no event.
    async with db.transaction() as tx:
        await record_installation(
            tx,
            NewInstallation(SHAKAT, None, "school", "№2 мектеп", "fibre", 80.0),
            staff_id=900,
            source_key="i1",
            now=clock.now(),
        )
        shakat = await places.get_village(tx, SHAKAT)
        assert shakat is not None and shakat.stage == "construction"
        await change_rollout(
            tx,
            shakat,
            RolloutChange("construction", 2027, 2, shakat.operator, shakat.technology),
            reason="plan_updated",
            actor_id=900,
            now=clock.now(),
        )
    async with db.transaction() as tx:
        shakat = await places.get_village(tx, SHAKAT)
        assert shakat is not None
        await change_rollout(
            tx,
            shakat,
            RolloutChange(
                "connected", shakat.planned_year, shakat.planned_quarter, shakat.operator, shakat.technology
            ),
            reason="construction_started",
            actor_id=900,
            now=clock.now(),
        )
    found = await emitted(db)
    assert [(kind, subject) for kind, subject, _ in found] == [
        ("installation", f"village:{SHAKAT}"),
        ("stage_changed", f"village:{SHAKAT}"),
    ]
    assert found[0][2]["speed_mbps"] == 80.0 and found[0][2]["building"]["name"] == "№2 мектеп"  # type: ignore[index]
    assert (found[1][2]["old_stage"], found[1][2]["stage"], found[1][2]["reason"]) == (
        "construction",
        "connected",
        "construction_started",
    )

    # An outage: opened (once, however many join), taken, worked on, resolved, reopened.
    async with db.transaction() as tx:
        for user_id in (1, 2):
            await file_report(
                tx,
                NewReport(user_id, BAYANAUL, "home", "now"),
                source_key=f"r{user_id}",
                settings=settings,
                now=clock.now(),
            )
    engineer, reporter = person(900, ("staff", "")), person(1)
    await take(db, engineer, 1, settings, clock.now())
    await start_work(db, engineer, 1, settings, clock.now())
    await resolve(db, engineer, 1, "fixed", settings, clock.now())
    await answer_working(db, reporter, 1, False, settings, clock.now())
    incident = [(kind, payload) for kind, subject, payload in await emitted(db) if subject == "incident:1"]
    assert [kind for kind, _ in incident] == [
        "incident_opened",
        "incident_taken",
        "incident_taken",
        "incident_resolved",
        "incident_opened",
    ]
    assert [payload.get("state") for kind, payload in incident if kind == "incident_taken"] == [
        "taken",
        "in_progress",
    ]
    assert incident[3][1]["resolution"] == "fixed" and incident[4][1]["reopened"] == 1

    # A class is held: its register closes with the numbers, no names.
    async with db.transaction() as tx:
        lesson = await classes.create_lesson(
            tx,
            classes.NewLesson(SHAKAT, "Мектеп", clock.now() + timedelta(hours=1), 60, "egov", "kk", 5),
            trainer_id=900,
            now=clock.now(),
        )
        # The register closes once the class has started.
        await classes.close_lesson(tx, lesson.id, trainer(900), clock.now() + timedelta(hours=2))
    [(_, subject, payload)] = [e for e in await emitted(db) if e[0] == "class_held"]
    assert subject == f"class:{lesson.id}"
    assert payload == {
        "class": lesson.id,
        "village": SHAKAT,
        "topic": "egov",
        "language": "kk",
        "present": 0,
        "no_shows": 0,
        "seniors": 0,
    }
    async with db.read() as conn:
        deliveries = await conn.execute_fetchall(
            "SELECT count(*) FROM event_deliveries WHERE state = 'pending'"
        )
    assert deliveries[0][0] == len(await emitted(db))
    await db.close()
