"""The rules of the installation log and rollout changes, on a real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.i18n import Translator
from bot.notify import render
from bot.places import notifications  # noqa: F401 - registers the renderers
from bot.places.importer import import_kato, import_objects, import_plan
from bot.places.service import (
    InstallationError,
    NewInstallation,
    RolloutChange,
    change_rollout,
    check_speed,
    correct_installation,
    log_installation,
    village_card,
)
from db import audit, outbox, places
from db.database import Database

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
KATO = """kato,kato_version,level,type_code,name_ru,name_kk
550000000,NK RK 11-2025,oblast,0,Павлодарская область,Павлодар облысы
556000000,NK RK 11-2025,district,2,Павлодарский район,Павлодар ауданы
556069100,NK RK 11-2025,settlement,2,с.Шакат,Шақат а.
"""
STAFF, OTHER_STAFF, AIGUL, OLGA = 11, 12, 21, 22


@pytest.fixture
async def db(tmp_path: Path) -> Database:
    database = await Database.open(tmp_path / "rules.db")
    await import_kato(database, KATO.encode())
    await import_plan(
        database,
        b"kato,stage,planned_year,planned_quarter,technology,planned_technology\n"
        b"556069100,construction,2026,4,satellite,fibre\n",
    )
    await import_objects(database, "kato,kind,name\n556069100,school,№1 мектеп\n".encode())
    async with database.transaction() as tx:
        for user_id, language in ((AIGUL, "kk"), (OLGA, "ru")):
            await tx.execute(
                "INSERT INTO users (id, first_name, language, first_seen, last_seen)"
                " VALUES (?, 'x', ?, 'x', 'x')",
                (user_id, language),
            )
            await places.follow(tx, user_id, "556069100", NOW)
    yield database  # type: ignore[misc]
    await database.close()


async def school_id(db: Database) -> int:
    async with db.read() as conn:
        return (await places.objects_of(conn, "556069100"))[0].id


async def pending(db: Database) -> list[tuple[int, str, str]]:
    async with db.read() as conn:
        rows = await conn.execute_fetchall("SELECT chat_id, kind, params FROM outbox ORDER BY id")
    return [(row[0], row[1], row[2]) for row in rows]


async def test_an_installation_connects_the_building_and_the_village(db: Database) -> None:
    new = NewInstallation("556069100", await school_id(db), None, None, "fibre", 85.5)
    async with db.transaction() as tx:
        installation, created = await log_installation(tx, new, staff_id=STAFF, source_key="u:1", now=NOW)
    assert created and installation.speed_mbps == 85.5
    async with db.read() as conn:
        card = await village_card(conn, "556069100", AIGUL)
    assert card is not None and card.following
    assert card.village.stage == "connected" and card.village.technology == "fibre"
    assert card.village.planned_technology is None  # the planned fibre has arrived
    assert card.objects[0].connected and card.objects[0].speed_mbps == 85.5
    assert card.last_change is not None and card.last_change.reason == "installed"
    kinds = [(chat, kind) for chat, kind, _ in await pending(db)]
    assert sorted(kinds) == sorted(
        [
            (AIGUL, "village.object_online"),
            (OLGA, "village.object_online"),
            (AIGUL, "village.stage_changed"),
            (OLGA, "village.stage_changed"),
        ]
    )


async def test_the_same_confirmation_twice_makes_one_installation(db: Database) -> None:
    new = NewInstallation("556069100", await school_id(db), None, None, "fibre", 60)
    for _ in range(2):
        async with db.transaction() as tx:
            await log_installation(tx, new, staff_id=STAFF, source_key="callback:42", now=NOW)
    async with db.read() as conn:
        assert len(await places.installations_by(conn, STAFF)) == 1
    assert len(await pending(db)) == 4


async def test_a_new_building_can_be_added_while_logging(db: Database) -> None:
    new = NewInstallation("556069100", None, "medical", "Медпункт", "satellite", 20)
    async with db.transaction() as tx:
        installation, _ = await log_installation(tx, new, staff_id=STAFF, source_key="u:2", now=NOW)
    async with db.read() as conn:
        objects = await places.objects_of(conn, "556069100")
        village = await places.get_village(conn, "556069100")
    assert [(o.kind, o.name, o.connected) for o in objects] == [
        ("medical", "Медпункт", True),
        ("school", "№1 мектеп", False),
    ]
    assert village is not None and village.technology == "satellite" and village.planned_technology == "fibre"
    assert installation.object_id == objects[0].id


async def test_corrections_are_the_authors_for_24_hours_with_an_audit_trail(db: Database) -> None:
    new = NewInstallation("556069100", await school_id(db), None, None, "fibre", 85)
    async with db.transaction() as tx:
        installation, _ = await log_installation(tx, new, staff_id=STAFF, source_key="u:3", now=NOW)
    with pytest.raises(InstallationError, match="not_the_author"):
        async with db.transaction() as tx:
            await correct_installation(tx, installation.id, staff_id=OTHER_STAFF, speed_mbps=90, now=NOW)
    async with db.transaction() as tx:
        fixed = await correct_installation(
            tx, installation.id, staff_id=STAFF, speed_mbps=92, now=NOW + timedelta(hours=23)
        )
    assert fixed.speed_mbps == 92
    with pytest.raises(InstallationError, match="too_late"):
        async with db.transaction() as tx:
            await correct_installation(
                tx, installation.id, staff_id=STAFF, speed_mbps=95, now=NOW + timedelta(hours=24, minutes=1)
            )
    async with db.read() as conn:
        trail = await audit.entries_for(conn, f"installation:{installation.id}")
    assert [entry.action for entry in trail] == ["installation.log", "installation.correct"]
    assert trail[1].detail == {
        "old": {"speed_mbps": 85.0, "technology": "fibre"},
        "new": {"speed_mbps": 92.0, "technology": "fibre"},
    }


@pytest.mark.parametrize(
    ("typed", "speed"), [("85", 85.0), ("85,5", 85.5), (" 92.25 Мбит/с", 92.2), ("100 Mbps", 100.0)]
)
def test_speeds_as_staff_type_them(typed: str, speed: float) -> None:
    assert check_speed(typed) == speed


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("fast", "speed_not_a_number"),
        ("0", "speed_out_of_range"),
        ("20000", "speed_out_of_range"),
        ("", "speed_not_a_number"),
    ],
)
def test_bad_speeds_are_refused(typed: str, code: str) -> None:
    with pytest.raises(InstallationError) as raised:
        check_speed(typed)
    assert raised.value.code == code


async def test_a_delay_tells_followers_the_new_window_and_why_in_their_language(db: Database) -> None:
    async with db.read() as conn:
        village = await places.get_village(conn, "556069100")
    assert village is not None
    change = RolloutChange(
        stage="construction",
        planned_year=2027,
        planned_quarter=2,
        technology="satellite",
        planned_technology="fibre",
    )
    async with db.transaction() as tx:
        outcome = await change_rollout(tx, village, change, reason="delayed_permits", actor_id=STAFF, now=NOW)
    assert outcome.fields == ["window"] and outcome.notified == 2
    sent = {chat: (kind, params) for chat, kind, params in await pending(db)}
    import json

    kind, params = sent[AIGUL]
    kk = render(kind, Translator("kk"), json.loads(params)).text
    ru = render(*sent[OLGA][:1], Translator("ru"), json.loads(sent[OLGA][1])).text
    assert (
        kk
        == "Шақат: жоспарланған мерзім өзгерді.\nЖоспар: 2027 ж. 2-тоқсан.\nСебебі: рұқсат құжаттарына байланысты кейінге қалды."
    )
    assert (
        ru
        == "Шакат: изменился плановый срок.\nПлан: 2-й квартал 2027 г.\nПричина: перенесено из-за разрешений."
    )
    async with db.read() as conn:
        counts = await outbox.count_by_state(conn)
    assert counts.get("pending") == 2
