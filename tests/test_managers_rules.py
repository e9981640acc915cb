"""Rules of the managers' view on real SQLite files: areas, periods, recipients, files, the chart."""

from __future__ import annotations

import io
import json
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from PIL import Image

from bot.announcements import service as announcing
from bot.announcements.service import AnnouncementError, Draft
from bot.config import Settings
from bot.exports import files
from bot.exports.service import Period, Request, inclusive_period, period_of
from bot.i18n import translator
from bot.roles import Member
from bot.stats import service as progress
from bot.stats.chart import FIGURES_KEY, FONT, render_png
from bot.stats.service import StatsError, month_starts, parent_of, quarter_index
from bot.stats.texts import chart_for
from db import announcements, places, users
from db.database import Database
from db.models import Account, RoleGrant
from tests.managers_world import BAYANAUL, MARTUK, SHAKAT, ZHANATILEK, incident, person, report

ZONE = ZoneInfo("Asia/Almaty")
NOW = datetime(2026, 1, 10, 7, 0, tzinfo=UTC)
KAZAKH_LETTERS = "әғқңөұүһіӘҒҚҢӨҰҮҺІ"


def member(user_id: int, *grants: tuple[str, str]) -> Member:
    account = Account(id=user_id, first_name="X", first_seen=NOW, last_seen=NOW)
    return Member(
        account,
        tuple(RoleGrant(user_id=user_id, role=role, scope=scope, granted_at=NOW) for role, scope in grants),  # type: ignore[arg-type]
    )


@pytest.fixture
async def db(tmp_path: Path) -> Database:
    from bot.demo.seed import seed_demo

    database = await Database.open(tmp_path / "rules.db")
    await seed_demo(database)
    yield database  # type: ignore[misc]
    await database.close()


def settings(**values: object) -> Settings:
    return Settings(bot_token="1:" + "x" * 30, _env_file=None, **values)  # type: ignore[arg-type, call-arg]


# --- areas and time ---------------------------------------------------------------------------------
def test_an_area_sits_under_the_one_above() -> None:
    assert parent_of("553630100") == "553630"
    assert parent_of("553630") == "5536"
    assert parent_of("5536") == "55"
    assert parent_of("55") == ""
    assert parent_of("") is None


def test_months_and_quarters_are_counted_in_the_configured_zone() -> None:
    # 10 January 2026, 12:00 in Almaty: last month is December 2025.
    last, this, following = month_starts(NOW, ZONE)
    assert (last.date(), this.date(), following.date()) == (
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    )
    assert this.utcoffset() == timedelta(hours=5)
    # 31 December 20:00 UTC is already 1 January in Almaty.
    late = datetime(2025, 12, 31, 20, 0, tzinfo=UTC)
    assert month_starts(late, ZONE)[1].date() == date(2026, 1, 1)
    assert quarter_index(late, ZONE) == 2026 * 4 + 1


def test_export_periods() -> None:
    today = date(2026, 1, 10)
    assert period_of("this_month", today) == Period(date(2026, 1, 1), date(2026, 2, 1))
    assert period_of("last_month", today) == Period(date(2025, 12, 1), date(2026, 1, 1))
    assert period_of("last_year", today) == Period(date(2025, 1, 1), date(2026, 1, 1))
    assert period_of("all", today) == Period()
    assert inclusive_period(date(2026, 1, 1), date(2026, 1, 31)).label() == "2026-01-01_2026-01-31"
    assert inclusive_period(None, None).label() == "all"
    start, end = Period(date(2026, 1, 1), date(2026, 2, 1)).bounds(ZONE)
    assert start == datetime(2025, 12, 31, 19, 0, tzinfo=UTC) and end is not None


def test_file_names_say_what_is_inside() -> None:
    month = Period(date(2026, 1, 1), date(2026, 2, 1))
    assert Request("reports", "5536", month, True, "xlsx").filename() == (
        "auylnet-reports-5536-2026-01-01_2026-01-31-personal.xlsx"
    )
    assert Request("villages", "", month, False, "csv").filename() == "auylnet-villages-kz-now.csv"


# --- who may read what ----------------------------------------------------------------------------
async def test_progress_is_for_staff_and_admins_of_the_area(db: Database) -> None:
    region_admin = member(1, ("admin", "55"))
    engineer = member(2, ("staff", "5536"))
    trainer = member(3, ("trainer", "55"))
    found = await progress.progress(db, region_admin, "5536", settings(), NOW)
    assert found.place.name_kk == "Баянауыл ауданы" and found.parent is not None and found.parent.code == "55"
    found = await progress.progress(db, engineer, "5536", settings(), NOW)
    assert found.parent is None and found.children == []
    for reader, area, code in (
        (engineer, "55", "outside_area"),
        (engineer, "1546", "outside_area"),
        (region_admin, "", "outside_area"),
        (trainer, "55", "not_reader"),
    ):
        with pytest.raises(StatsError) as refused:
            await progress.progress(db, reader, area, settings(), NOW)
        assert refused.value.code == code
    assert [
        place.code for place in await progress.my_areas(db, member(4, ("staff", "5536"), ("staff", "15")))
    ] == [
        "15",
        "5536",
    ]


async def test_overdue_follows_the_service_level_settings(db: Database) -> None:
    async with db.transaction() as tx:
        await incident(tx, BAYANAUL, opened=NOW - timedelta(minutes=45))  # open 45 minutes
        await incident(tx, ZHANATILEK, opened=NOW - timedelta(hours=5), taken=NOW - timedelta(hours=4))
    admin = member(1, ("admin", "55"))
    found = await progress.progress(db, admin, "5536", settings(), NOW)
    assert (found.outages.open, found.outages.overdue) == (2, 0)
    found = await progress.progress(db, admin, "5536", settings(take_within_minutes=30), NOW)
    assert found.outages.overdue == 1
    found = await progress.progress(db, admin, "5536", settings(resolve_within_hours=3), NOW)
    assert found.outages.overdue == 1


# --- recipients of an announcement -------------------------------------------------------------------
async def test_recipients_are_the_areas_people_once_each(db: Database) -> None:
    for user_id in range(1, 8):
        await person(db, user_id, f"P{user_id}", "kk", NOW)
    async with db.transaction() as tx:
        await places.follow(tx, 1, BAYANAUL, NOW)
        await places.follow(tx, 1, ZHANATILEK, NOW)  # follows two villages of the district: told once
        await places.follow(tx, 2, ZHANATILEK, NOW)
        await places.follow(tx, 3, SHAKAT, NOW)  # another district
        await places.follow(tx, 4, MARTUK, NOW)  # another region
        open_one = await incident(tx, BAYANAUL, opened=NOW - timedelta(hours=1))
        await report(tx, open_one, 5, BAYANAUL, at=NOW)
        closed = await incident(
            tx, ZHANATILEK, opened=NOW - timedelta(days=2), resolved=NOW - timedelta(days=1)
        )
        await report(tx, closed, 6, ZHANATILEK, at=NOW - timedelta(days=2))
        for user_id, scope in ((7, "55"), (6, "15")):
            await users.grant_role(tx, user_id=user_id, role="trainer", scope=scope, actor_id=None, now=NOW)
        await announcements.opt_out(tx, 2, ZHANATILEK, NOW)
        found = await announcements.recipients(tx, "5536", ["followers"])
        assert [(r.user_id, r.village_code) for r in found] == [(1, BAYANAUL)]
        found = await announcements.recipients(tx, "5536", ["followers", "tickets", "trainers"])
        assert [(r.user_id, r.audience) for r in found] == [(1, "followers"), (5, "tickets"), (7, "trainers")]
        assert [r.user_id for r in await announcements.recipients(tx, "55", ["followers"])] == [1, 3]
        assert [r.user_id for r in await announcements.recipients(tx, BAYANAUL, ["trainers"])] == [7]
        assert [r.user_id for r in await announcements.recipients(tx, "", ["trainers"])] == [6, 7]
        # Someone who asked to be forgotten keeps a ticket's number, and hears nothing more.
        await tx.execute("UPDATE users SET erased_at = ? WHERE id = 5", (NOW.isoformat(),))
        found = await announcements.recipients(tx, "5536", ["tickets"])
        assert [r.user_id for r in found] == []


async def test_an_announcement_is_sent_once_and_only_inside_the_area(db: Database) -> None:
    await person(db, 1, "Айгүл", "kk", NOW)
    async with db.transaction() as tx:
        await places.follow(tx, 1, BAYANAUL, NOW)
    admin = member(9, ("admin", "5536"))
    await person(db, 9, "Admin", "kk", NOW)
    draft = Draft(text_kk="Жұмыс", text_ru="Работы", area="5536", audiences=("followers",))
    first = await announcing.send(db, admin, draft, source_key="press:1", now=NOW)
    again = await announcing.send(db, admin, draft, source_key="press:1", now=NOW)
    assert first.id == again.id and first.recipients == 1
    async with db.read() as conn:
        assert await announcements.delivery(conn, first.id) == {"pending": 1}
    for wrong, code in (
        (Draft(text_kk="a", text_ru="a", area="55", audiences=("followers",)), "outside_area"),
        (Draft(text_kk="a", text_ru="a", area="1546", audiences=("followers",)), "outside_area"),
        (Draft(text_kk="a", text_ru="a", area="5536", audiences=()), "no_audience"),
        (Draft(text_kk="a", text_ru=None, area="5536"), "incomplete"),
        (Draft(text_kk="a", text_ru="a", area="5536", audiences=("trainers",)), "no_recipients"),
    ):
        with pytest.raises(AnnouncementError) as refused:
            await announcing.send(db, admin, wrong, source_key=f"press:{code}", now=NOW)
        assert refused.value.code == code
    with pytest.raises(AnnouncementError) as refused:
        await announcing.summary(db, member(10, ("admin", "15")), first.id)
    assert refused.value.code == "outside_area"
    assert (await announcing.summary(db, member(11, ("admin", "55")), first.id)).pending == 1


# --- files ------------------------------------------------------------------------------------------
TABLE = files.Table(
    sheet="Өтініштер: [1/2]",
    headers=["№", "Уақыт", "Жылдамдық", "Сипаттама"],
    types=["int", "datetime", "float", "text"],
    rows=[
        [1, datetime(2026, 1, 5, 9, 30), 52.5, "=1+1"],
        [2, None, None, "+7 701 000 00 00"],
        [3, datetime(2026, 1, 6, 0, 0), 10.0, "Қалыпты мәтін; «тырнақша»"],
    ],
)


def test_csv_has_a_bom_semicolons_and_no_formulas() -> None:
    content = files.write_csv(TABLE)
    assert content.startswith(b"\xef\xbb\xbf")
    lines = content.decode("utf-8-sig").splitlines()
    assert lines[0] == "№;Уақыт;Жылдамдық;Сипаттама"
    assert lines[1] == "1;2026-01-05 09:30;52,5;'=1+1"
    assert lines[2] == "2;;;'+7 701 000 00 00"
    assert lines[3] == '3;2026-01-06 00:00;10,0;"Қалыпты мәтін; «тырнақша»"'
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert files.neutralise(start + "x") == "'" + start + "x"
    assert files.neutralise("x=1") == "x=1"


def test_xlsx_cells_are_typed() -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(files.write_xlsx(TABLE))).active
    assert sheet.title == "Өтініштер   1 2", "characters a sheet name cannot have are replaced"
    assert [cell.value for cell in sheet[1]] == TABLE.headers
    number, moment, speed, text = sheet[2]
    assert number.value == 1 and number.data_type == "n"
    assert moment.is_date and moment.value == datetime(2026, 1, 5, 9, 30)
    assert speed.value == 52.5 and speed.data_type == "n"
    assert text.value == "=1+1" and text.data_type == "s" and text.quotePrefix
    assert sheet["D3"].value == "+7 701 000 00 00" and sheet["D3"].data_type == "s"
    assert sheet["B3"].value is None
    assert sheet.freeze_panes == "A2"


# --- the chart ---------------------------------------------------------------------------------------
def test_the_font_has_every_kazakh_letter() -> None:
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    path = font_manager.findfont(FONT, fallback_to_default=False)
    assert Path(path).name == "DejaVuSans.ttf"
    characters = FT2Font(path).get_charmap()
    assert [letter for letter in KAZAKH_LETTERS if ord(letter) not in characters] == []


async def test_the_chart_draws_the_figures_it_carries(db: Database) -> None:
    found = await progress.progress(db, member(1, ("admin", "55")), "5536", settings(), NOW)
    chart = chart_for(translator("kk"), found)
    assert "Ауылдар кезең бойынша" in chart.stages_title
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph is a warning in matplotlib: fail on it
        png = render_png(chart)
    image = Image.open(io.BytesIO(png))
    assert image.size == (1000, 720)
    assert json.loads(image.info[FIGURES_KEY]) == found.figures()
