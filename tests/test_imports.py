"""Importing the classifier, plans and objects: validation, atomicity, idempotence, and via the bot."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.i18n import Translator
from bot.notify import render
from bot.places import notifications, texts  # noqa: F401 - notifications registers the renderers
from bot.places.importer import import_kato, import_objects, import_plan
from bot.sandbox.client import SandboxClient, TestUser
from db import outbox, places
from db.database import Database
from tests.conftest import KATO_CSV, BotFactory

KATO = """kato,kato_version,level,type_code,name_ru,name_kk
550000000,NK RK 11-2025,oblast,0,Павлодарская область,Павлодар облысы
556000000,NK RK 11-2025,district,2,Павлодарский район,Павлодар ауданы
556069000,NK RK 11-2025,sub_district,2,Шакатский с.о.,Шақат  а.о.
556069100,NK RK 11-2025,settlement,2,с.Шакат,Шақат а.
556069300,NK RK 11-2025,settlement,2,с.Кенжеколь,Кенжекөл а.
556069305,NK RK 11-2025,settlement,2,зимовка Кенжеколь,Кенжекөл қыстауы
"""
ADMIN_ID = 700001
# Five kinds of mistakes, one per line; nothing else is wrong with the file.
FIVE_MISTAKES = (
    b"kato,stage,planned_year,planned_quarter,latitude,longitude\n"
    b"556069100,someday,2026,4,,\n"  # 2: not a stage
    b"553630100,planned,2026,5,,\n"  # 3: no fifth quarter
    b"553641100,planned,2027,1,10,10\n"  # 4: not in Kazakhstan
    b"999999999,planned,2027,,,\n"  # 5: no such settlement
    b"553663100,planned,2027,2,,\n"
    b"553663100,design,2027,3,,\n"  # 7: the same village again
)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "import.db")
    yield database
    await database.close()


def worded(result: object, language: str) -> list[str]:
    t = Translator(language)  # type: ignore[arg-type]
    return [texts.describe_problem(t, problem) for problem in result.problems]  # type: ignore[attr-defined]


async def test_kato_import_cleans_names_keeps_kinds_and_is_idempotent(db: Database) -> None:
    first = await import_kato(db, KATO.encode())
    assert first.ok and (first.added, first.changed, first.unchanged) == (6, 0, 0)
    again = await import_kato(db, ("\ufeff" + KATO).encode())  # with a BOM, as Excel saves it
    assert (again.added, again.changed, again.unchanged) == (0, 0, 6)
    async with db.read() as conn:
        village = await places.get_village(conn, "556069100")
        wintering = await places.get_village(conn, "556069305")
        okrug = await places.get_area(conn, "556069000")
    assert village is not None and (village.name_kk, village.name_ru, village.kind) == (
        "Шақат",
        "Шакат",
        "village",
    )
    assert wintering is not None and (wintering.name_ru, wintering.kind) == ("зимовка Кенжеколь", "locality")
    assert village.district_code == "556000000" and village.region_code == "550000000"
    assert okrug is not None and okrug.name_ru == "Шакатский сельский округ"


async def test_a_file_with_errors_changes_nothing_and_names_line_column_and_value(db: Database) -> None:
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
    assert worded(result, "ru") == [
        "Строка 3, столбец «stage», значение «someday»: должно быть одним из: none, planned, design, construction, connected",
        "Строка 3, столбец «planned_quarter», значение «5»: должно быть от 1 до 4",
        "Строка 4, столбец «latitude», значение «10, 10»: координаты вне Казахстана",
        "Строка 5, столбец «planned_year», значение «2040»: должно быть от 2018 до 2035",
    ]
    assert worded(result, "kk")[0] == (
        "3-жол, «stage» бағаны, «someday» мәні: мыналардың бірі болуы керек: none, planned, design, construction, connected"
    )
    async with db.read() as conn:
        village = await places.get_village(conn, "556069100")
    assert village is not None and village.stage == "none" and village.latitude is None
    assert "nothing imported" in result.summary()
    assert "Line 3, column «stage», value «someday»: not one of:" in result.summary()


async def test_plan_import_records_why_and_tells_followers_once(db: Database) -> None:
    await import_kato(db, KATO.encode())
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO users (id, first_name, first_seen, last_seen) VALUES (7, 'A', 'x', 'x')"
        )
        await places.follow(
            tx, 7, "556069100", __import__("datetime").datetime.now(__import__("datetime").UTC)
        )
    plan = "kato,stage,planned_year,planned_quarter,hotline\n556069100,design,2026,3,+7 (7182) 60-60-60\n"
    first = await import_plan(db, plan.encode())
    again = await import_plan(db, plan.encode())
    assert (first.changed, first.notified) == (1, 1)
    assert (again.changed, again.unchanged, again.notified) == (0, 1, 0)
    async with db.read() as conn:
        change = await places.last_change(conn, "556069100")
        village = await places.get_village(conn, "556069100")
        counts = await outbox.count_by_state(conn)
    assert change is not None and change.reason == "plan_import"
    assert village is not None and village.hotline == "+7 (7182) 60-60-60"
    assert counts.get("pending") == 1


async def test_objects_import_takes_names_in_both_languages_and_needs_known_villages(db: Database) -> None:
    await import_kato(db, KATO.encode())
    good = (
        "kato,kind,name_kk,name_ru,connected,technology,speed_mbps\n"
        "556069100,school,№1 орта мектеп,Средняя школа №1,1,fibre,80\n"
    )
    bad = "kato,kind,name\n556069100,church,Храм\n111111111,school,X\n"
    assert (await import_objects(db, good.encode())).added == 1
    assert (await import_objects(db, good.encode())).unchanged == 1
    async with db.read() as conn:
        school = (await places.objects_of(conn, "556069100"))[0]
    assert (school.title("kk"), school.title("ru")) == ("№1 орта мектеп", "Средняя школа №1")
    result = await import_objects(db, bad.encode())
    assert [(p.code, p.line, p.column, p.value) for p in result.problems] == [
        ("invalid_choice", 2, "kind", "church"),
        ("unknown_settlement", 3, "kato", "111111111"),
    ]
    missing = await import_objects(db, b"kato,name\n556069100,X\n")
    assert worded(missing, "ru") == ["Строка 1: нет столбцов: kind"]


@pytest.mark.parametrize(
    ("content", "code", "line"),
    [
        # A cell over Python's csv limit of 131,072 characters.
        (b"kato,kind,name\n556069100,school," + b"x" * 140_000 + b"\n", "cell_too_large", 2),
        # Windows-1251, as Excel in a Russian locale saves «CSV» by default.
        ("kato,kind,name\n556069100,school,Школа №1\n".encode("cp1251"), "not_utf8", 2),
        # A formula a spreadsheet would run when someone opens the file again.
        (b'kato,kind,name\n556069100,school,"=HYPERLINK(""http://x"",""y"")"\n', "formula", 2),
        (b"kato,kind,name,name\n556069100,school,A,B\n", "duplicate_column", 1),
        (b"kato,kind,name\n556069100,school,A\n556069100,school,A\n", "duplicate_row", 3),
        (b"kato,kind,name\n556069100,school," + "Ш".encode() * 201 + b"\n", "too_long", 2),
        (b'kato,kind,name\n556069100,school,"unclosed\n', "broken_csv", 2),
        (b"", "empty_file", None),
    ],
)
async def test_hostile_files_get_a_localized_problem_and_change_nothing(
    db: Database, content: bytes, code: str, line: int | None
) -> None:
    await import_kato(db, KATO.encode())
    result = await import_objects(db, content)
    assert [(p.code, p.line) for p in result.problems][:1] == [(code, line)]
    for language in ("kk", "ru"):
        for text in worded(result, language):
            assert text and "Sorry" not in text and "Извините" not in text
    async with db.read() as conn:
        assert await places.objects_of(conn, "556069100") == []


async def test_a_phone_number_or_a_negative_number_is_not_a_formula(db: Database) -> None:
    await import_kato(db, KATO.encode())
    plan = b"kato,stage,hotline,latitude,longitude\n556069100,planned,+7 7182 606060,52.1,76.7\n"
    assert (await import_plan(db, plan)).ok
    assert (await import_plan(db, b"kato,stage,planned_year\n556069100,planned,-5\n")).problems[
        0
    ].code == "out_of_range"


async def test_an_area_admin_imports_only_inside_the_area(db: Database) -> None:
    await import_kato(db, KATO.encode())
    plan = b"kato,stage\n556069100,planned\n556069300,design\n"
    result = await import_plan(db, plan, allowed=lambda code: code.startswith("5560691"))
    assert [(p.code, p.line, p.value) for p in result.problems] == [("outside_area", 3, "556069300")]
    async with db.read() as conn:
        village = await places.get_village(conn, "556069100")
    assert village is not None and village.stage == "none"


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
        kinds = dict(await conn.execute_fetchall("SELECT kind, count(*) FROM villages GROUP BY kind"))  # type: ignore[arg-type]
    assert under_district is not None and under_district.okrug_code is None
    assert misfiled[0][0] == 0
    assert kinds["village"] > 9000 and kinds["locality"] > 2000 and kinds["station"] > 200


async def start(person: TestUser, language: str) -> None:
    await person.send("/start")
    await person.next_message()
    await person.press("Қазақша" if language == "kk" else "Русский", wait=0)
    await person.wait_for(lambda m: "?" in m.text and bool(m.buttons))


@pytest.mark.parametrize("language", ["kk", "ru"])
async def test_five_kinds_of_mistakes_reach_the_admin_in_their_language_and_change_nothing(
    client: SandboxClient, bot_factory: BotFactory, language: str
) -> None:
    async with bot_factory(seed=True, admin_ids={ADMIN_ID}) as app:
        async with app.bot_data.db.read() as conn:
            before = [(v.code, v.stage, v.planned_year) for v in await places.all_villages(conn)]
        admin = await client.user("Әсел", id=ADMIN_ID, language_code=language)
        await start(admin, language)
        await admin.send_document("plan.csv", FIVE_MISTAKES)
        await admin.wait_for(lambda m: "«plan.csv»" in m.text)
        await admin.press("📅 Қосу жоспары" if language == "kk" else "📅 План подключения", wait=0)
        failed = await admin.wait_for(
            lambda m: ("өзгертілмеді" in m.text) or ("ничего не изменено" in m.text)
        )
        lines = failed.text.splitlines()
        if language == "ru":
            assert lines == [
                "В файле 5 ошибок; ничего не изменено:",
                "• Строка 2, столбец «stage», значение «someday»: должно быть одним из: none, planned, design,"
                " construction, connected",
                "• Строка 3, столбец «planned_quarter», значение «5»: должно быть от 1 до 4",
                "• Строка 4, столбец «latitude», значение «10, 10»: координаты вне Казахстана",
                "• Строка 5, столбец «kato», значение «999999999»: такого населённого пункта нет: сначала"
                " импортируйте классификатор КАТО",
                "• Строка 7, столбец «kato», значение «553663100»: уже есть в строке 6",
            ]
        else:
            assert lines[1:] == [
                "• 2-жол, «stage» бағаны, «someday» мәні: мыналардың бірі болуы керек: none, planned, design,"
                " construction, connected",
                "• 3-жол, «planned_quarter» бағаны, «5» мәні: 1–4 аралығында болуы керек",
                "• 4-жол, «latitude» бағаны, «10, 10» мәні: координаттар Қазақстаннан тыс",
                "• 5-жол, «kato» бағаны, «999999999» мәні: мұндай елді мекен жоқ: алдымен ӘАОЖ (КАТО)"
                " жіктеуішін импорттаңыз",
                "• 7-жол, «kato» бағаны, «553663100» мәні: бұл 6-жолда бұрын берілген",
            ]
        async with app.bot_data.db.read() as conn:
            after = [(v.code, v.stage, v.planned_year) for v in await places.all_villages(conn)]
        assert after == before


async def test_an_admin_imports_a_plan_by_sending_it_to_the_bot(
    client: SandboxClient, bot_factory: BotFactory
) -> None:
    async with bot_factory(seed=True, admin_ids={ADMIN_ID}) as app:
        admin = await client.user("Әсел", id=ADMIN_ID, language_code="ru")
        await start(admin, "ru")
        await admin.send_document(
            "plan.csv", b"kato,stage,planned_year,planned_quarter\n556069100,connected,2026,4\n"
        )
        choice = await admin.wait_for(lambda m: "Что в файле" in m.text)
        await admin.press("📅 План подключения", wait=0)
        done = await admin.wait_for(lambda m: m.text.startswith("Импортировано"))
        assert done.text == "Импортировано строк: 1 — добавлено 0, изменено 1, без изменений 0."
        async with app.bot_data.db.read() as conn:
            village = await places.get_village(conn, "556069100")
        assert village is not None and village.stage == "connected"
        # The same choice pressed again finds no file waiting: nothing is imported twice.
        assert (
            await admin.press_data(choice.message_id, "imp:plan")
            == "Эта кнопка устарела. Откройте /menu заново."
        )

        resident = await client.user("Ольга", language_code="ru")
        await start(resident, "ru")
        await resident.send_document("plan.csv", b"kato,stage\n556069100,none\n")
        reply = await resident.wait_for(lambda m: "только текст" in m.text)
        assert reply.text == "Я понимаю только текст и кнопки. Пожалуйста, воспользуйтесь меню."


def big_classifier(settlements: int) -> bytes:
    """A classifier-shaped file of about 4.9 MB: one region, districts, okrugs and many settlements."""
    lines = [
        "kato,kato_version,level,type_code,name_ru,name_kk",
        "590000000,NK RK 11-2025,oblast,0,Область,Облысы",
    ]
    for district in range(10, 90):
        lines.append(f"59{district}00000,NK RK 11-2025,district,2,Район {district},{district} ауданы")
        for okrug in range(10, 20):
            lines.append(
                f"59{district}{okrug}000,NK RK 11-2025,sub_district,2,Округ {okrug} с.о.,{okrug} а.о."
            )
    count = 0
    for district in range(10, 90):
        for okrug in range(10, 20):
            for place in range(100, 1000):
                if count == settlements:
                    return ("\n".join(lines) + "\n").encode()
                name = f"Поселение номер {district}-{okrug}-{place} у дороги"
                lines.append(f"59{district}{okrug}{place},NK RK 11-2025,settlement,2,с.{name},{name} а.")
                count += 1
    return ("\n".join(lines) + "\n").encode()


async def test_other_people_are_answered_while_a_big_classifier_is_imported(
    client: SandboxClient, bot_factory: BotFactory
) -> None:
    content = big_classifier(31_000)
    assert 4_500_000 < len(content) < 5 * 1024 * 1024
    async with bot_factory(seed=True, admin_ids={ADMIN_ID}) as app:
        admin = await client.user("Әсел", id=ADMIN_ID, language_code="ru")
        residents = [await client.user(f"Житель {n}", language_code="ru") for n in range(3)]
        for person in (admin, *residents):
            await start(person, "ru")
        await admin.send_document("kato.csv", content)
        await admin.wait_for(lambda m: "Что в файле" in m.text)
        await admin.press("🗺 Населённые пункты (КАТО)", wait=0)
        await admin.wait_for(lambda m: m.text.startswith("⏳"))
        waits, running = [], []
        for person in residents:  # each asks once: Telegram allows about a message a second per chat
            started = time.monotonic()
            await person.send("/help")
            await person.wait_for(lambda m: "AuylNet" in m.text)
            waits.append(time.monotonic() - started)
            progress = next(
                m for m in reversed(await admin.messages()) if m.text.startswith(("⏳", "Импорт"))
            )
            running.append(progress.text.startswith("⏳"))
            await asyncio.sleep(0.3)
        assert running[0], "the import ended before anyone else was answered"
        done = await admin.wait_for(lambda m: m.text.startswith("Импортировано"), timeout=60)
        assert "добавлено 31" in done.text
        assert max(waits) < 1.0, waits
        async with app.bot_data.db.read() as conn:
            assert await places.count_villages(conn) > 31_000
        assert app.bot_data.villages.get("591010100") is not None  # the search knows the new places


async def test_a_plan_that_connects_a_village_tells_followers_whom_to_call(db: Database) -> None:
    await import_kato(db, KATO.encode())
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO users (id, first_name, language, first_seen, last_seen) VALUES (8, 'A', 'ru', 'x', 'x')"
        )
        await places.follow(
            tx, 8, "556069100", __import__("datetime").datetime.now(__import__("datetime").UTC)
        )
    result = await import_plan(
        db, "kato,stage,operator,hotline\n556069100,connected,Казахтелеком,160\n".encode()
    )
    assert result.notified == 1
    async with db.read() as conn:
        rows = await conn.execute_fetchall("SELECT kind, params FROM outbox")
    kind, params = rows[0]
    text = render(kind, Translator("ru"), json.loads(params)).text
    assert "🏠 Дома: чтобы провести интернет домой, обратитесь к оператору Казахтелеком. ☎️ 160" in text
    assert "Причина: обновлён план подключения." in text
