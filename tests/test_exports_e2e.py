"""Exports to hand on: an administrator picks what, where and when, and gets a file that opens in a
spreadsheet with the database's rows, typed, and with nothing a spreadsheet would run."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl

from bot.cli import main as auylnet
from bot.clock import Clock
from db.database import Database
from db.timestamps import to_db
from tests.conftest import BotFactory
from tests.managers_world import (
    BAYANAUL,
    SHAKAT,
    ZHANATILEK,
    ZONE,
    fix_now,
    grant,
    incident,
    month_start,
    person,
    report,
)

REGION_ADMIN, DISTRICT_ADMIN, AKTOBE_ADMIN, ENGINEER, AIGUL, OLGA = (
    720001,
    720002,
    720003,
    720004,
    720005,
    720006,
)
FORMULA = '=HYPERLINK("http://evil.example","click")'


async def build_world(db: Database, now: datetime) -> None:
    this, last = month_start(now), month_start(now, back=1)
    await person(db, AIGUL, "Айгүл", "kk", now)
    await person(db, OLGA, "Ольга", "ru", now)
    async with db.transaction() as tx:
        first = await incident(tx, BAYANAUL, opened=this + timedelta(days=2, hours=9))
        await report(tx, first, AIGUL, BAYANAUL, at=this + timedelta(days=2, hours=9), description=FORMULA)
        await report(
            tx, first, OLGA, BAYANAUL, at=this + timedelta(days=2, hours=11), description="Нет сети с утра"
        )
        second = await incident(tx, ZHANATILEK, opened=last + timedelta(days=5))
        await report(tx, second, OLGA, ZHANATILEK, at=last + timedelta(days=5), description="last month")
        elsewhere = await incident(tx, SHAKAT, opened=this + timedelta(days=3))
        await report(tx, elsewhere, AIGUL, SHAKAT, at=this + timedelta(days=3), description="Шақатта жоқ")


async def download(client: Any, message: Any) -> tuple[str, bytes]:
    async with client.session.get(client.base_url + message.raw["file_url"]) as response:
        return message.document["file_name"], await response.read()


async def db_reports(db: Database, district: str, start: datetime, end: datetime) -> list[Any]:
    async with (
        db.read() as conn,
        conn.execute(
            "SELECT r.id, r.created_at, r.village_code,"
            " (SELECT group_concat(n.text, ' / ') FROM report_notes n WHERE n.report_id = r.id) AS description,"
            " r.user_id, u.first_name FROM reports r"
            " JOIN villages v ON v.code = r.village_code JOIN users u ON u.id = r.user_id"
            " WHERE v.district_code = ? AND r.created_at >= ? AND r.created_at < ? ORDER BY r.id",
            (district, to_db(start), to_db(end)),
        ) as cursor,
    ):
        return list(await cursor.fetchall())


async def test_a_region_admin_exports_a_districts_reports(
    client, bot_factory: BotFactory, clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    now = fix_now(clock)
    irina = await client.user("Ирина", id=REGION_ADMIN, language_code="ru")
    askar = await client.user("Асқар", id=AKTOBE_ADMIN, language_code="kk")
    erlan = await client.user("Ерлан", id=ENGINEER, language_code="kk")
    async with bot_factory(seed=True) as app:
        db = app.bot_data.db
        await grant(db, REGION_ADMIN, "admin", "55", now)
        await grant(db, AKTOBE_ADMIN, "admin", "15", now)
        await grant(db, ENGINEER, "staff", "5536", now)
        await build_world(db, now)

        await irina.send("/export")
        kinds = await irina.wait_for(lambda m: m.text == "📤 Что экспортировать?")
        await irina.press_on(kinds, "Заявки о сбоях", wait=0)
        areas = await irina.wait_for(lambda m: m.text.startswith("📤 Заявки о сбоях: какая территория?"))
        assert areas.message_id == kinds.message_id, "each step edits the same message"
        assert "✅ Целиком: Павлодарская область" in areas.labels
        await irina.press_on(areas, "Баянаульский район", wait=0)
        periods = await irina.wait_for(lambda m: m.text.startswith("📤 За какой период?"))
        assert "Заявки о сбоях, Баянаульский район" in periods.text
        await irina.press_on(periods, "Этот месяц", wait=0)
        formats = await irina.wait_for(lambda m: m.text.startswith("📤 Какой файл?"))
        assert formats.labels[:4] == [
            "📗 Excel (XLSX)",
            "📄 CSV",
            "📗 XLSX с персональными данными",
            "📄 CSV с персональными данными",
        ]
        await irina.press_on(formats, "📗 XLSX с персональными данными", wait=0)
        sent = await irina.wait_for(lambda m: m.document is not None, timeout=30)
        assert sent.text.startswith("Заявки о сбоях, Баянаульский район: 2 строки.")
        assert "персональные данные" in sent.text
        name, content = await download(client, sent)
        first_day = month_start(now).date()
        assert name.startswith(f"auylnet-reports-5536-{first_day.isoformat()}_") and name.endswith(
            "-personal.xlsx"
        )

        expected = await db_reports(db, "553600000", month_start(now), now + timedelta(days=40))
        book = openpyxl.load_workbook(io.BytesIO(content))
        sheet = book.active
        header = [cell.value for cell in sheet[1]]
        assert header[:3] == ["Заявка", "Подана", "КАТО"]
        assert {"Житель", "Описание", "Telegram id жителя"} <= set(header)
        body = list(sheet.iter_rows(min_row=2))
        assert len(body) == len(expected) == 2
        column = {title: index for index, title in enumerate(header)}
        for cells, row in zip(body, expected, strict=True):
            assert cells[column["Заявка"]].value == f"AN-{row['id']:06d}"
            filed = cells[column["Подана"]]
            assert filed.is_date and isinstance(filed.value, datetime)
            stored = datetime.fromisoformat(row["created_at"]).astimezone(ZONE).replace(tzinfo=None)
            assert filed.value == stored
            assert cells[column["КАТО"]].value == row["village_code"]
            assert cells[column["Telegram id жителя"]].value == row["user_id"]
            assert cells[column["Telegram id жителя"]].data_type == "n"
            assert cells[column["Житель"]].value == row["first_name"]
            description = cells[column["Описание"]]
            assert description.value == row["description"]
            assert description.data_type == "s", "a description is text, never a formula"
        assert body[0][column["Описание"]].value == FORMULA
        assert body[0][column["Описание"]].quotePrefix, "Excel keeps it text even when edited"

        # The same as CSV, without personal data: a BOM, no names, no descriptions.
        await irina.press_on(formats, "📄 CSV", wait=0)
        plain = await irina.wait_for(
            lambda m: m.document is not None and m.document["file_name"].endswith(".csv")
        )
        name, content = await download(client, plain)
        assert name == f"auylnet-reports-5536-{first_day.isoformat()}_{_last_day(now)}.csv"
        assert content.startswith(b"\xef\xbb\xbf")
        table = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
        assert table[0][:3] == ["Заявка", "Подана", "КАТО"]
        assert "Описание" not in table[0] and "Житель" not in table[0]
        assert [row[0] for row in table[1:]] == [f"AN-{row['id']:06d}" for row in expected]
        assert FORMULA not in content.decode("utf-8-sig") and "Нет сети" not in content.decode("utf-8-sig")

        # Personal CSV: the formula-looking description is neutralised.
        await irina.press_on(formats, "📄 CSV с персональными данными", wait=0)
        personal = await irina.wait_for(
            lambda m: m.document is not None and m.document["file_name"].endswith("-personal.csv")
        )
        _, content = await download(client, personal)
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
        described = rows[0].index("Описание")
        assert rows[1][described] == "'" + FORMULA

        # Aktobe's administrator cannot export Pavlodar's district by a forged button.
        menu = await _any_message(askar)
        forged = "ex:file:reports:5536:this_month:xlsx:1"
        assert await askar.press_data(menu, forged) == "Бұл аумақ сіздің аумағыңызға кірмейді."
        assert not [m for m in await askar.messages() if m.document], "no file"

        # An engineer cannot export at all.
        await erlan.send("/export")
        # (He may also have outage alerts of his area in his chat.)
        await erlan.wait_for(lambda m: m.text == "Кешіріңіз, бұл тек «әкімші» рөліне арналған.")
        assert (await client.stats(callback_window=5))["unanswered_callbacks"] == 0


async def _any_message(person: Any) -> int:
    """A message of the bot in the person's chat to press a forged button on."""
    await person.send("/menu")
    return int((await person.next_message()).message_id)


def _last_day(now: datetime) -> str:
    first = month_start(now)
    following = (first + timedelta(days=32)).replace(day=1)
    return (following - timedelta(days=1)).date().isoformat()


async def test_a_district_admin_exports_villages_in_kazakh(
    client, bot_factory: BotFactory, clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    now = fix_now(clock)
    bakyt = await client.user("Бақыт", id=DISTRICT_ADMIN, language_code="kk")
    async with bot_factory(seed=True) as app:
        db = app.bot_data.db
        await grant(db, DISTRICT_ADMIN, "admin", "5536", now)
        await bakyt.send("/export")
        kinds = await bakyt.wait_for(lambda m: m.text == "📤 Нені экспорттау керек?")
        await bakyt.press_on(kinds, "Ауылдар", wait=0)
        areas = await bakyt.wait_for(lambda m: "қай аумақ?" in m.text)
        assert areas.labels == ["✅ Түгел: Баянауыл ауданы", "⬅️ Артқа", "⬅️ Мәзір"]
        await bakyt.press_on(areas, "✅ Түгел: Баянауыл ауданы", wait=0)
        formats = await bakyt.wait_for(lambda m: m.text.startswith("📤 Қандай файл?"))
        assert formats.labels == ["📗 Excel (XLSX)", "📄 CSV", "⬅️ Артқа", "⬅️ Мәзір"], (
            "no personal data in villages"
        )
        await bakyt.press_on(formats, "📗 Excel (XLSX)", wait=0)
        sent = await bakyt.wait_for(lambda m: m.document is not None, timeout=30)
        name, content = await download(client, sent)
        assert name == "auylnet-villages-5536-now.xlsx"
        sheet = openpyxl.load_workbook(io.BytesIO(content)).active
        header = [cell.value for cell in sheet[1]]
        assert header[:5] == ["ӘАОЖ (КАТО)", "Ауыл", "Аудан", "Облыс", "Кезең"]
        async with (
            db.read() as conn,
            conn.execute(
                "SELECT code, name_kk, stage, population FROM villages WHERE district_code = '553600000' ORDER BY code"
            ) as cursor,
        ):
            expected = list(await cursor.fetchall())
        body = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
        assert [row[0] for row in body] == [row["code"] for row in expected]
        assert [row[1] for row in body] == [row["name_kk"] for row in expected]
        population = header.index("Тұрғындар саны")
        assert [row[population] for row in body] == [row["population"] for row in expected]
        assert any(isinstance(row[population], int) for row in body), "numbers are numbers"
        assert sent.text == f"Ауылдар, Баянауыл ауданы: {len(expected)} жол."


def test_the_command_line_exports_a_period_of_an_area(tmp_path: Path, monkeypatch, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from bot.demo.seed import seed_demo

    now = fix_now(clock)
    db_path = tmp_path / "auylnet.db"

    async def prepare() -> list[Any]:
        db = await Database.open(db_path)
        try:
            await seed_demo(db)
            await build_world(db, now)
            return await db_reports(db, "553600000", month_start(now), now + timedelta(days=40))
        finally:
            await db.close()

    expected = asyncio.run(prepare())
    monkeypatch.setenv("AUYLNET_DB_PATH", str(db_path))
    out = tmp_path / "reports.csv"
    first = month_start(now).date().isoformat()
    status = auylnet(
        [
            "export",
            "reports",
            "--from",
            first,
            "--to",
            _last_day(now),
            "--area",
            "5536",
            "--out",
            str(out),
            "--personal",
            "--language",
            "ru",
        ]
    )
    assert status == 0
    content = out.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert [row[0] for row in rows[1:]] == [f"AN-{row['id']:06d}" for row in expected]
    assert "Описание" in rows[0]
    assert auylnet(["export", "reports", "--area", "5x", "--out", str(out)]) == 2
    assert auylnet(["export", "villages", "--area", "99", "--out", str(tmp_path / "v.xlsx")]) == 2
    assert auylnet(["export", "villages", "--area", "5536", "--out", str(tmp_path / "v.xlsx")]) == 0
    sheet = openpyxl.load_workbook(tmp_path / "v.xlsx").active
    villages = asyncio.run(_count_villages(db_path, "553600000"))
    assert sheet.max_row - 1 == villages > 0


async def _count_villages(db_path: Path, district: str) -> int:
    db = await Database.open(db_path)
    try:
        async with (
            db.read() as conn,
            conn.execute("SELECT count(*) FROM villages WHERE district_code = ?", (district,)) as cursor,
        ):
            row = await cursor.fetchone()
        return int(row[0])
    finally:
        await db.close()


async def test_technologies_are_named_in_the_readers_language_not_coded(
    client, bot_factory: BotFactory, clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    now = fix_now(clock)
    marat = await client.user("Марат", id=REGION_ADMIN, language_code="ru")
    names = {
        "fibre": "оптоволокно",
        "satellite": "спутник",
        "radio": "радиосвязь",
        "mobile": "мобильная сеть",
    }
    async with bot_factory(seed=True) as app:
        db = app.bot_data.db
        await grant(db, REGION_ADMIN, "admin", "5536", now)
        async with db.transaction() as tx:
            await tx.execute(
                "UPDATE villages SET technology = 'satellite', planned_technology = 'fibre' WHERE code = ?",
                (ZHANATILEK,),
            )
        await marat.send("/export")
        kinds = await marat.wait_for(lambda m: m.text == "📤 Что экспортировать?")
        await marat.press_on(kinds, "Сёла", wait=0)
        areas = await marat.wait_for(lambda m: "какая территория?" in m.text)
        await marat.press_on(areas, areas.labels[0], wait=0)
        formats = await marat.wait_for(lambda m: m.text.startswith("📤 Какой файл?"))
        await marat.press_on(formats, "📄 CSV", wait=0)
        sent = await marat.wait_for(lambda m: m.document is not None, timeout=30)
        _, content = await download(client, sent)
        table = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
        header, body = table[0], table[1:]
        technology, planned = header.index("Технология"), header.index("Планируемая технология")
        async with (
            db.read() as conn,
            conn.execute(
                "SELECT code, technology, planned_technology FROM villages"
                " WHERE district_code = '553600000' ORDER BY code"
            ) as cursor,
        ):
            stored = list(await cursor.fetchall())
        assert [row[0] for row in body] == [row["code"] for row in stored]
        assert [row[technology] for row in body] == [names.get(row["technology"], "") for row in stored]
        assert [row[planned] for row in body] == [names.get(row["planned_technology"], "") for row in stored]
        by_code = {row[0]: row for row in body}
        assert by_code[ZHANATILEK][technology] == "спутник"
        assert by_code[ZHANATILEK][planned] == "оптоволокно"
        assert any(row[technology] == "оптоволокно" for row in body), "a connected village shows its fibre"


def test_an_installation_shows_a_correction_time_only_when_it_was_corrected(
    tmp_path: Path, monkeypatch, clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from bot.demo.seed import seed_demo
    from db import places

    now = fix_now(clock)
    db_path = tmp_path / "auylnet.db"

    async def prepare() -> None:
        db = await Database.open(db_path)
        try:
            await seed_demo(db)
            async with db.transaction() as tx:
                school, medical = (await places.objects_of(tx, "556069100"))[:2]
                ids = [
                    await places.add_installation(
                        tx,
                        village_code="556069100",
                        object_id=building.id,
                        staff_id=1002,
                        technology="fibre",
                        speed_mbps=100,
                        photo_file_id=None,
                        latitude=None,
                        longitude=None,
                        source_key=f"test:{building.id}",
                        now=now,
                    )
                    for building in (school, medical)
                ]
                await places.update_installation(
                    tx, ids[1], speed_mbps=120, technology="fibre", now=now + timedelta(hours=2)
                )
        finally:
            await db.close()

    asyncio.run(prepare())
    monkeypatch.setenv("AUYLNET_DB_PATH", str(db_path))
    out = tmp_path / "installations.csv"
    assert auylnet(["export", "installations", "--area", "55", "--out", str(out), "--language", "ru"]) == 0
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig")), delimiter=";"))
    corrected, building = rows[0].index("Исправлено"), rows[0].index("Здание")
    assert [row[corrected] for row in rows[1:]] == ["", "2026-11-15 14:00"]  # two hours after, Almaty time
    assert [row[building] for row in rows[1:]] == [
        "Средняя школа №1",
        "Медицинский пункт",
    ]  # named in Russian
    kazakh = tmp_path / "installations-kk.csv"
    assert auylnet(["export", "installations", "--area", "55", "--out", str(kazakh), "--language", "kk"]) == 0
    rows = list(csv.reader(io.StringIO(kazakh.read_bytes().decode("utf-8-sig")), delimiter=";"))
    assert [row[building] for row in rows[1:]] == ["№1 орта мектеп", "Медициналық пункт"]
