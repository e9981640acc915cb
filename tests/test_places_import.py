"""Imports that an admin gets slightly wrong: repeated rows, partial plan files, buildings switched on by file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.places.importer import import_kato, import_objects, import_plan
from db import outbox, places
from db.database import Database

KATO = """kato,kato_version,level,type_code,name_ru,name_kk
550000000,NK RK 11-2025,oblast,0,Павлодарская область,Павлодар облысы
556000000,NK RK 11-2025,district,2,Павлодарский район,Павлодар ауданы
556069100,NK RK 11-2025,settlement,2,с.Шакат,Шақат а.
"""
FULL_PLAN = (
    "kato,stage,planned_year,planned_quarter,operator,technology,planned_technology,note,latitude,longitude,population\n"
    "556069100,planned,2026,3,Kazakhtelecom,satellite,fibre,,51.9,76.9,1900\n"
)
AIGUL = 21
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "places_import.db")
    assert (await import_kato(database, KATO.encode())).ok
    async with database.transaction() as tx:
        await tx.execute(
            "INSERT INTO users (id, first_name, language, first_seen, last_seen)"
            " VALUES (?, 'Айгүл', 'kk', 'x', 'x')",
            (AIGUL,),
        )
    yield database
    await database.close()


async def village(db: Database) -> places.Village:
    async with db.read() as conn:
        found = await places.get_village(conn, "556069100")
    assert found is not None
    return found


async def test_a_plan_that_names_a_village_twice_is_refused_and_changes_nothing(db: Database) -> None:
    async with db.transaction() as tx:
        await places.follow(tx, AIGUL, "556069100", NOW)
    plan = b"kato,stage,planned_year\n556069100,planned,2026\n556069100,design,2026\n"
    for _ in range(2):
        result = await import_plan(db, plan)
        assert [(p.code, p.line, p.column, p.value, p.params) for p in result.problems] == [
            ("duplicate_row", 3, "kato", "556069100", {"earlier": 2})
        ]
        assert result.errors == ["Line 3, column «kato», value «556069100»: already given on line 2"]
    assert (await village(db)).stage == "none"
    async with db.read() as conn:
        assert (await outbox.count_by_state(conn))["pending"] == 0


async def test_an_objects_file_that_lists_a_building_twice_is_refused(db: Database) -> None:
    objects = "kato,kind,name,connected,speed_mbps\n556069100,school,№1 мектеп,1,50\n556069100,school,№1 мектеп,1,80\n"
    result = await import_objects(db, objects.encode())
    assert result.errors == ["Line 3, column «name», value «№1 мектеп»: already given on line 2"]
    async with db.read() as conn:
        assert await places.objects_of(conn, "556069100") == []


async def test_a_plan_file_with_fewer_columns_keeps_what_it_does_not_mention(db: Database) -> None:
    assert (await import_plan(db, FULL_PLAN.encode())).ok
    result = await import_plan(db, b"kato,stage\n556069100,design\n")
    assert (result.changed, result.unchanged) == (1, 0)
    after = await village(db)
    assert after.stage == "design"
    assert (after.planned_year, after.planned_quarter, after.operator) == (2026, 3, "Kazakhtelecom")
    assert (after.technology, after.planned_technology) == ("satellite", "fibre")
    assert (after.latitude, after.longitude, after.population) == (51.9, 76.9, 1900)
    again = await import_plan(db, b"kato,stage\n556069100,design\n")
    assert (again.changed, again.unchanged) == (0, 1)


async def test_an_empty_cell_still_clears_a_value(db: Database) -> None:
    assert (await import_plan(db, FULL_PLAN.encode())).ok
    assert (await import_plan(db, b"kato,stage,operator,note\n556069100,planned,,\n")).ok
    after = await village(db)
    assert after.operator is None and after.planned_year == 2026


async def test_a_building_switched_on_by_file_gets_its_connection_time(db: Database) -> None:
    assert (await import_objects(db, "kato,kind,name,connected\n556069100,school,№1 мектеп,0\n".encode())).ok
    switched = await import_objects(
        db, "kato,kind,name,connected,technology,speed_mbps\n556069100,school,№1 мектеп,1,fibre,60\n".encode()
    )
    assert switched.changed == 1
    async with db.read() as conn:
        school = (await places.objects_of(conn, "556069100"))[0]
    assert school.connected and school.connected_at is not None
