"""Progress at a glance: a district's and a region's administrators read their figures as a chart.

The figures are checked twice against the database: as the caption says them, and as the chart
was drawn (the PNG carries the figures it was drawn from).
"""

from __future__ import annotations

import io
import json
import re
from datetime import datetime, timedelta
from typing import Any

from PIL import Image

from bot.clock import Clock
from bot.stats.chart import FIGURES_KEY
from db.database import Database
from tests.conftest import BotFactory
from tests.managers_world import (
    BAYANAUL,
    MARTUK,
    SHAKAT,
    ZHANATILEK,
    fix_now,
    grant,
    incident,
    lesson,
    month_start,
    person,
)

DISTRICT_ADMIN, REGION_ADMIN, AKTOBE_ADMIN, ENGINEER, RESIDENT = 710001, 710002, 710003, 710004, 710005


async def build_world(db: Database, now: datetime) -> None:
    this, last = month_start(now), month_start(now, back=1)
    async with db.transaction() as tx:
        # Баянауыл district, this month: taken after 30 and 90 minutes, one resolved after 5 hours.
        await incident(
            tx,
            BAYANAUL,
            opened=this + timedelta(days=1, hours=10),
            taken=this + timedelta(days=1, hours=10, minutes=30),
            resolved=this + timedelta(days=1, hours=15),
            kind="school",
        )
        await incident(
            tx, ZHANATILEK, opened=this + timedelta(days=2), taken=this + timedelta(days=2, minutes=90)
        )  # unresolved for days: overdue
        await incident(tx, BAYANAUL, opened=now - timedelta(minutes=10), kind="home")  # fresh
        await incident(tx, ZHANATILEK, opened=now - timedelta(hours=3), kind="home")  # nobody took it
        # Last month: taken after 20 and 40 minutes, resolved after 10 and 2 hours.
        await incident(
            tx,
            BAYANAUL,
            opened=last + timedelta(days=3),
            taken=last + timedelta(days=3, minutes=20),
            resolved=last + timedelta(days=3, hours=10),
            kind="medical",
        )
        await incident(
            tx,
            ZHANATILEK,
            opened=last + timedelta(days=4),
            taken=last + timedelta(days=4, minutes=40),
            resolved=last + timedelta(days=4, hours=2),
            kind="medical",
        )
        # Elsewhere in the region, and in another region.
        await incident(tx, SHAKAT, opened=now - timedelta(hours=5))
        await incident(tx, MARTUK, opened=now - timedelta(hours=5))
        # Classes: 4 on the register of a held class, 3 came, one of them 60+; one still to come.
        await lesson(
            tx,
            ENGINEER,
            BAYANAUL,
            starts=this + timedelta(days=3),
            register=[
                (RESIDENT, None, "30to59", "present"),
                (RESIDENT, "Апам Күлән", "60plus", "present"),
                (None, "Серік", "under30", "present"),
                (None, "Дина", "30to59", "absent"),
            ],
        )
        await lesson(
            tx,
            ENGINEER,
            BAYANAUL,
            starts=now + timedelta(days=3),
            state="scheduled",
            register=[(RESIDENT, None, "30to59", None)],
        )
        await lesson(
            tx,
            ENGINEER,
            SHAKAT,
            starts=this + timedelta(days=4),
            register=[(None, "Айдос", "60plus", "present")],
        )


async def rows(db: Database, sql: str, *params: Any) -> list[Any]:
    async with db.read() as conn, conn.execute(sql, params) as cursor:
        return list(await cursor.fetchall())


async def expected_places(db: Database, district: str) -> tuple[dict[str, int], dict[str, list[int]]]:
    stages = {
        stage: count
        for stage, count in await rows(
            db, "SELECT stage, count(*) FROM villages WHERE district_code = ? GROUP BY stage", district
        )
    }
    objects = {
        kind: [online, total]
        for kind, total, online in await rows(
            db,
            "SELECT s.kind, count(*), sum(s.connected) FROM social_objects s JOIN villages v"
            " ON v.code = s.village_code WHERE v.district_code = ? GROUP BY s.kind",
            district,
        )
    }
    return stages, objects


async def chart_figures(client: Any, message: Any) -> dict[str, Any]:
    """The figures the chart was drawn from, read out of the PNG the person received."""
    async with client.session.get(client.base_url + message.raw["file_url"]) as response:
        png = await response.read()
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size[0] >= 800
    figures: dict[str, Any] = json.loads(image.info[FIGURES_KEY])
    return figures


def numbers(pattern: str, text: str) -> tuple[int, ...]:
    found = re.search(pattern, text)
    assert found is not None, f"{pattern!r} not in {text!r}"
    return tuple(int(value.replace("\u00a0", "").replace(" ", "")) for value in found.groups())


async def test_a_district_and_a_region_read_their_progress(
    client, bot_factory: BotFactory, clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    now = fix_now(clock)
    bakyt = await client.user("Бақыт", id=DISTRICT_ADMIN, language_code="kk")
    irina = await client.user("Ирина", id=REGION_ADMIN, language_code="ru")
    askar = await client.user("Асқар", id=AKTOBE_ADMIN, language_code="kk")
    async with bot_factory(seed=True) as app:
        db = app.bot_data.db
        await grant(db, DISTRICT_ADMIN, "admin", "5536", now)
        await grant(db, REGION_ADMIN, "admin", "55", now)
        await grant(db, AKTOBE_ADMIN, "admin", "15", now)
        await grant(db, ENGINEER, "trainer", "55", now)
        await person(db, RESIDENT, "Айгүл", "kk", now)
        await build_world(db, now)
        stages, objects = await expected_places(db, "553600000")

        # The district's administrator: one photo, the figures as its caption, in Kazakh.
        await bakyt.send("/stats")
        chart = await bakyt.wait_for(lambda m: bool(m.photo), timeout=30)
        text = chart.text
        assert text.startswith("📊 Баянауыл ауданы, ")
        assert numbers(
            r"Ауылдар: (\d+)\. Қосылды (\d+), құрылыс (\d+), жобалау (\d+), жоспарда (\d+),"
            r" бағдарламада жоқ (\d+)",
            text,
        ) == (
            sum(stages.values()),
            *(stages.get(s, 0) for s in ("connected", "construction", "design", "planned", "none")),
        )
        assert numbers(r"Ашық ақаулар: (\d+), мерзімі өткен: (\d+)", text) == (3, 2)
        assert "Қолға алу уақыты (медиана): " in text and "— 30 мин" in text and "— 1 сағ" in text
        assert "Шешу уақыты (медиана): " in text and "— 6 сағ" in text and "— 5 сағ" in text
        assert numbers(
            r"Өткізілген сабақтар: (\d+)\. Оқытылды: (\d+), оның ішінде 60 жастан бастап: (\d+)"
            r" \((\d+)%\)\. Қатысу: (\d+)%",
            text,
        ) == (1, 3, 1, 33, 75)
        for kind, (online, total) in objects.items():
            label = {
                "school": "мектептер",
                "medical": "медпункттер",
                "akimat": "әкімдіктер",
                "library": "кітапханалар",
                "other": "басқа ғимараттар",
            }[kind]
            assert f"{label} {online}/{total}" in text

        figures = await chart_figures(client, chart)
        assert figures["area"] == "5536"
        assert figures["stages"] == {
            s: stages.get(s, 0) for s in ("connected", "construction", "design", "planned", "none")
        }
        assert {kind: value for kind, value in figures["objects"].items() if value[1]} == objects
        assert figures["outages"] == {"open": 3, "overdue": 2}
        assert figures["median_hours"] == {
            "take": {"last": 0.5, "this": 1.0},
            "resolve": {"last": 6.0, "this": 5.0},
        }
        assert figures["classes"] == {"held": 1, "registered": 4, "trained": 3, "seniors": 1}
        # A district has no parts to open and no region above for this reader: only the menu.
        assert chart.labels == ["⬅️ Мәзір"]

        # Neither another region nor the region above the district is his to see.
        for area in ("15", "55", "kz"):
            answer = await bakyt.press_data(chart.message_id, f"st:{area}")
            assert answer == "Бұл аумақ сіздің аумағыңызға кірмейді."
        assert len([m for m in await bakyt.messages() if m.photo]) == 1

        # The region's administrator, in Russian: the region, then its Баянауыл district.
        await irina.send("/stats")
        region = await irina.wait_for(lambda m: bool(m.photo), timeout=30)
        assert region.text.startswith("📊 Павлодарская область, ")
        assert numbers(r"Открытых сбоев: (\d+), просрочено: (\d+)", region.text) == (4, 3)
        assert numbers(r"Проведено занятий: (\d+)\. Обучено: (\d+)", region.text) == (2, 4)
        region_figures = await chart_figures(client, region)
        assert (
            region_figures["villages"]
            == (await rows(db, "SELECT count(*) FROM villages WHERE region_code = '550000000'"))[0][0]
        )
        assert "Баянаульский район" in region.labels and region.labels[-1] == "⬅️ Меню"
        await irina.press_on(region, "Баянаульский район")
        district = await irina.wait_for(lambda m: bool(m.photo) and "Баянаульский" in m.text, timeout=30)
        assert district.text.startswith("📊 Баянаульский район, ")
        assert numbers(r"Открытых сбоев: (\d+), просрочено: (\d+)", district.text) == (3, 2)
        assert "Время до устранения (медиана): " in district.text and "— 6 ч" in district.text
        assert (await chart_figures(client, district)) | {"as_of": None} == figures | {"as_of": None}
        assert district.labels == ["⬆️ Павлодарская область", "⬅️ Меню"]
        photos = [m for m in await irina.messages() if m.photo]
        assert [m.message_id for m in photos] == [district.message_id], (
            "the district's chart replaced the region's"
        )
        await irina.press_on(district, district.labels[0])
        back = await irina.wait_for(
            lambda m: bool(m.photo) and m.text.startswith("📊 Павлодарская"), timeout=30
        )
        assert back.message_id != district.message_id

        # Aktobe's administrator cannot open Pavlodar region by a forged button.
        await askar.send("/stats")
        aktobe = await askar.wait_for(lambda m: bool(m.photo), timeout=30)
        assert aktobe.text.startswith("📊 Ақтөбе облысы, ")
        assert numbers(r"Ашық ақаулар: (\d+), мерзімі өткен: (\d+)", aktobe.text) == (1, 1)
        assert await askar.press_data(aktobe.message_id, "st:55") == "Бұл аумақ сіздің аумағыңызға кірмейді."

        # One answer per tap: every press was answered.
        assert (await client.stats(callback_window=5))["unanswered_callbacks"] == 0


async def test_a_resident_is_told_progress_is_for_staff(client, bot_factory: BotFactory) -> None:  # type: ignore[no-untyped-def]
    resident = await client.user("Айгүл", id=RESIDENT, language_code="kk")
    olga = await client.user("Ольга", language_code="ru")
    async with bot_factory(seed=True):
        await resident.send("/stats")
        assert (await resident.next_message()).text == "Жұмыс барысы тек инженерлер мен әкімшілерге арналған."
        await olga.send("/stats")
        assert (await olga.next_message()).text == "Ход работ доступен только инженерам и администраторам."


async def test_a_month_without_outages_says_there_is_no_data_instead_of_a_dash(
    client, bot_factory: BotFactory, clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    now = fix_now(clock)
    askar = await client.user("Асқар", id=AKTOBE_ADMIN, language_code="kk")
    irina = await client.user("Ирина", id=REGION_ADMIN, language_code="ru")
    async with bot_factory(seed=True) as app:
        db = app.bot_data.db
        await grant(db, AKTOBE_ADMIN, "admin", "15", now)
        await grant(db, REGION_ADMIN, "admin", "15", now)
        async with db.read() as conn, conn.execute("SELECT count(*) FROM incidents") as cursor:
            assert (await cursor.fetchone())[0] == 0
        for reader, take, resolve, nothing in (
            (askar, "Қолға алу уақыты", "Шешу уақыты", "дерек жоқ"),
            (irina, "Время до взятия в работу", "Время до устранения", "нет данных"),
        ):
            await reader.send("/stats")
            chart = await reader.wait_for(lambda m: bool(m.photo), timeout=30)
            assert "— —" not in chart.text
            for line in (take, resolve):
                assert re.search(rf"{line} \(\w+\): \w+ — {nothing}, \w+ — {nothing}\.", chart.text), (
                    chart.text
                )
