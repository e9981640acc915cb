"""Importing the classifier, plans and objects: validation, atomicity, idempotence, and via the bot."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.places.importer import import_kato, import_objects, import_plan
from bot.sandbox.client import SandboxClient
from db import outbox, places
from db.database import Database
from tests.conftest import KATO_CSV, BotFactory

KATO = """kato,kato_version,level,type_code,name_ru,name_kk
550000000,NK RK 11-2025,oblast,0,Павлодарская область,Павлодар облысы
556000000,NK RK 11-2025,district,2,Павлодарский район,Павлодар ауданы
556069000,NK RK 11-2025,sub_district,2,Шакатский с.о.,Шақат  а.о.
556069100,NK RK 11-2025,settlement,2,с.Шакат,Шақат а.
556069300,NK RK 11-2025,settlement,2,с.Кенжеколь,Кенжекөл а.
"""


@pytest.fixture
async def db(tmp_path: Path) -> Database:
    database = await Database.open(tmp_path / "import.db")
    yield database  # type: ignore[misc]
    await database.close()


async def test_kato_import_cleans_names_and_is_idempotent(db: Database) -> None:
    first = await import_kato(db, KATO.encode())
    assert first.ok and (first.added, first.changed, first.unchanged) == (5, 0, 0)
    again = await import_kato(db, ("\ufeff" + KATO).encode())  # with a BOM, as Excel saves it
    assert (again.added, again.changed, again.unchanged) == (0, 0, 5)
    async with db.read() as conn:
        village = await places.get_village(conn, "556069100")
        okrug = await places.get_area(conn, "556069000")
    assert village is not None and (village.name_kk, village.name_ru) == ("Шақат", "Шакат")
    assert village.district_code == "556000000" and village.region_code == "550000000"
    assert okrug is not None and okrug.name_ru == "Шакатский сельский округ"


async def test_a_file_with_errors_changes_nothing_and_names_the_lines(db: Database) -> None:
    await import_kato(db, KATO.encode())
    plan = (
        "kato;stage;planned_year;planned_quarter;operator;technology;planned_technology;note;latitude;longitude;population\n"
        "556069100;construction;2026;4;Kazakhtelecom;;fibre;;52.1;76.7;1900\n"
        "556069300;someday;2026;5;;;;;;;\n"
        "556069300;planned;2026;;;;;;10;10;\n"
        "556069300;planned;2040;;;;;;;;\n"
    )
    result = await import_plan(db, plan.encode())
    assert not result.ok
    assert (
        "line 3: stage: Input should be 'none', 'planned', 'design', 'construction' or 'connected'"
        in result.errors
    )
    assert "line 3: planned_quarter: planned_quarter must be 1, 2, 3 or 4" in result.errors
    assert "line 4: row: coordinates are outside Kazakhstan" in result.errors
    assert "line 5: planned_year: planned_year must be between 2018 and 2035" in result.errors
    async with db.read() as conn:
        village = await places.get_village(conn, "556069100")
    assert village is not None and village.stage == "none" and village.latitude is None
    assert "nothing imported" in result.summary()


async def test_plan_import_records_why_and_tells_followers_once(db: Database) -> None:
    await import_kato(db, KATO.encode())
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO users (id, first_name, first_seen, last_seen) VALUES (7, 'A', 'x', 'x')"
        )
        await places.follow(
            tx, 7, "556069100", __import__("datetime").datetime.now(__import__("datetime").UTC)
        )
    plan = "kato,stage,planned_year,planned_quarter\n556069100,design,2026,3\n"
    first = await import_plan(db, plan.encode())
    again = await import_plan(db, plan.encode())
    assert (first.changed, first.notified) == (1, 1)
    assert (again.changed, again.unchanged, again.notified) == (0, 1, 0)
    async with db.read() as conn:
        change = await places.last_change(conn, "556069100")
        counts = await outbox.count_by_state(conn)
    assert change is not None and change.reason == "plan_import"
    assert counts.get("pending") == 1


async def test_objects_import_needs_known_villages(db: Database) -> None:
    await import_kato(db, KATO.encode())
    good = "kato,kind,name,connected,technology,speed_mbps\n556069100,school,№1 орта мектеп,1,fibre,80\n"
    bad = "kato,kind,name\n556069100,church,Храм\n111111111,school,X\n"
    assert (await import_objects(db, good.encode())).added == 1
    assert (await import_objects(db, good.encode())).unchanged == 1
    result = await import_objects(db, bad.encode())
    assert result.errors[0].startswith("line 2: kind: Input should be 'school'")
    missing = await import_objects(db, b"kato,kind\n556069100,school\n")
    assert missing.errors == ["line 1: missing columns: name"]


@pytest.mark.skipif(
    not KATO_CSV.exists(), reason="the official classifier (../shared/data/kato.csv) is absent"
)
async def test_the_official_classifier_imports(db: Database) -> None:
    result = await import_kato(db, KATO_CSV)
    assert result.ok, result.summary()
    async with db.read() as conn:
        assert await places.count_villages(conn) == 12986
        # Settlements directly under a district (EF = 00) belong to no rural okrug.
        under_district = await places.get_village(conn, "631000200")
        misfiled = await conn.execute_fetchall(
            "SELECT count(*) FROM villages v JOIN areas a ON a.code = v.okrug_code WHERE a.level != 'okrug'"
        )
    assert under_district is not None and under_district.okrug_code is None
    assert misfiled[0][0] == 0


async def test_an_admin_imports_a_plan_by_sending_it_to_the_bot(
    client: SandboxClient, bot_factory: BotFactory
) -> None:
    admin_id = 700001
    async with bot_factory(seed=True, admin_ids={admin_id}) as app:
        admin = await client.user("Әсел", id=admin_id, language_code="ru")
        await admin.send("/start")
        await admin.next_message()
        await admin.press("Русский")
        await admin.wait_for(lambda m: "Что вы хотите сделать?" in m.text)
        await admin.send_document(
            "plan.csv",
            b"kato,stage,planned_year,planned_quarter\n556069100,connected,2026,4\n556069100,nonsense,,\n",
        )
        await admin.wait_for(lambda m: "Что в файле" in m.text)
        await admin.press("📅 План подключения")
        failed = await admin.wait_for(lambda m: "ничего не изменено" in m.text)
        assert "line 3: stage:" in failed.text
        await admin.send_document(
            "plan.csv", b"kato,stage,planned_year,planned_quarter\n556069100,connected,2026,4\n"
        )
        await admin.wait_for(lambda m: "Что в файле" in m.text)
        await admin.press("📅 План подключения")
        done = await admin.wait_for(lambda m: m.text.startswith("Импортировано"))
        assert done.text == "Импортировано строк: 1 — добавлено 0, изменено 1, без изменений 0."
        async with app.bot_data.db.read() as conn:
            village = await places.get_village(conn, "556069100")
        assert village is not None and village.stage == "connected"

        resident = await client.user("Ольга", language_code="ru")
        await resident.send("/start")
        await resident.next_message()
        await resident.press("Русский")
        await resident.wait_for(lambda m: "Что вы хотите сделать?" in m.text)
        await resident.send_document("plan.csv", b"kato,stage\n556069100,none\n")
        reply = await resident.wait_for(lambda m: "только текст" in m.text)
        assert reply.text == "Я понимаю только текст и кнопки. Пожалуйста, воспользуйтесь меню."
