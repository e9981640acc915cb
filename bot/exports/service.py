"""Exports: which tables there are, who may take which, and building them (docs/managers.md).

From the bot, exports are for administrators, for an area inside their own. Columns with personal
data (people's names and Telegram ids, what residents wrote, their photos and locations) are only in
an export an administrator of that area asked for with personal data, and such a file says so in its
name (``…-personal.xlsx``). The command line is run by the operator, who holds the database itself,
and may ask for either.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from bot.config import Language
from bot.exports import files, texts
from bot.exports.files import CellType, Table
from bot.i18n import Translator, translator
from bot.places.texts import TECHNOLOGY_NAMES
from bot.roles import Member
from bot.stats import offload
from db import exports, stats
from db.database import Database
from db.exports import Row
from db.models import Role

Kind = Literal["villages", "objects", "installations", "incidents", "reports", "classes", "attendance"]
KINDS: tuple[Kind, ...] = (
    "villages",
    "objects",
    "installations",
    "incidents",
    "reports",
    "classes",
    "attendance",
)
# Tables that describe things as they are now: a period means nothing for them.
SNAPSHOTS: tuple[Kind, ...] = ("villages", "objects")
Format = Literal["csv", "xlsx"]
FORMATS: tuple[Format, ...] = ("xlsx", "csv")
EXPORT_ROLE: Role = "admin"


class ExportError(ValueError):
    """A request the rules refuse; ``code`` names it for a localized message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Period:
    """[start, end) as local dates; None at either side is open."""

    start: date | None = None
    end: date | None = None

    def bounds(self, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
        def moment(day: date | None) -> datetime | None:
            return None if day is None else datetime(day.year, day.month, day.day, tzinfo=zone)

        return moment(self.start), moment(self.end)

    def label(self) -> str:
        """For file names: ``2026-11-01_2026-11-30``, ``all``, ``from-2026-01-01``."""
        if self.start is None and self.end is None:
            return "all"
        last = (self.end - timedelta(days=1)).isoformat() if self.end else None
        if self.start is None:
            return f"to-{last}"
        if last is None:
            return f"from-{self.start.isoformat()}"
        return f"{self.start.isoformat()}_{last}"


PeriodChoice = Literal["this_month", "last_month", "this_year", "last_year", "all"]
PERIOD_CHOICES: tuple[PeriodChoice, ...] = ("this_month", "last_month", "this_year", "last_year", "all")


def period_of(choice: PeriodChoice, today: date) -> Period:
    this_month = today.replace(day=1)
    if choice == "this_month":
        return Period(this_month, (this_month + timedelta(days=32)).replace(day=1))
    if choice == "last_month":
        return Period((this_month - timedelta(days=1)).replace(day=1), this_month)
    if choice == "this_year":
        return Period(date(today.year, 1, 1), date(today.year + 1, 1, 1))
    if choice == "last_year":
        return Period(date(today.year - 1, 1, 1), date(today.year, 1, 1))
    return Period()


def inclusive_period(first: date | None, last: date | None) -> Period:
    """From the first day to the last day, both included (the command line's --from and --to)."""
    return Period(first, last + timedelta(days=1) if last else None)


@dataclass(frozen=True)
class Request:
    kind: Kind
    area: str  # a KATO prefix, "" for the whole country
    period: Period
    personal: bool
    fmt: Format

    def filename(self) -> str:
        area = self.area or "kz"
        period = "now" if self.kind in SNAPSHOTS else self.period.label()
        personal = "-personal" if self.personal else ""
        return f"auylnet-{self.kind}-{area}-{period}{personal}.{self.fmt}"


@dataclass(frozen=True)
class Built:
    request: Request
    table: Table
    place: stats.Place

    @property
    def rows(self) -> int:
        return len(self.table.rows)


def has_personal_columns(kind: Kind) -> bool:
    return any(column.personal for column in COLUMNS[kind])


def check(member: Member, request: Request) -> None:
    """An administrator of (the whole of) the area: they may have its personal data too."""
    if not member.is_admin:
        raise ExportError("not_admin")
    if not member.can(EXPORT_ROLE, request.area):
        raise ExportError("outside_area")


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    rows: int
    place: stats.Place


async def export_for(
    db: Database, member: Member, request: Request, language: Language, zone: str
) -> ExportFile:
    """An export asked for in the bot: checked for this member, then read and written in the worker
    process (a large table is seconds of Python that the bot's other users should not wait for)."""
    check(member, request)
    return await offload.run(make_file, str(db.path), request, language, zone)


def make_file(path: str, request: Request, language: Language, zone: str) -> ExportFile:
    """In the worker process: read the rows with a connection of its own and write the file."""
    built = asyncio.run(build(path, request, translator(language), ZoneInfo(zone)))
    return ExportFile(files.write(built.table, request.fmt), built.rows, built.place)


async def build(path: str | Path, request: Request, t: Translator, zone: ZoneInfo) -> Built:
    """Read the rows of an export (no checks: the command line's operator, or after :func:`check`)."""
    start, end = request.period.bounds(zone)
    async with stats.snapshot(path) as conn:
        place = await stats.place(conn, request.area)
        if place is None:
            raise ExportError("unknown_area")
        if request.kind == "villages":
            rows = await exports.villages(conn, request.area)
        elif request.kind == "objects":
            rows = await exports.objects(conn, request.area)
        else:
            read = READERS[request.kind]
            rows = await read(conn, request.area, start, end)
    columns = [column for column in COLUMNS[request.kind] if request.personal or not column.personal]
    cell = Cells(t, zone)
    table = Table(
        sheet=t._(texts.KIND_NAMES[request.kind]),
        headers=[t._(column.header) for column in columns],
        types=[column.type for column in columns],
        rows=[[column.value(row, cell) for column in columns] for row in rows],
    )
    return Built(request, table, place)


# --- columns --------------------------------------------------------------------------------------
class Cells:
    """Turning stored values into cells: local times, names in the reader's language, labels."""

    def __init__(self, t: Translator, zone: ZoneInfo) -> None:
        self.t = t
        self.zone = zone

    def time(self, value: str | None) -> datetime | None:
        """Local time without a zone: spreadsheets have no time zones; the docs say which one."""
        if not value:
            return None
        return datetime.fromisoformat(value).astimezone(self.zone).replace(tzinfo=None)

    def label(self, table: dict[str, str], value: str | None) -> str | None:
        return self.t._(table[value]) if value in table else value

    def name(self, row: Row, prefix: str) -> str | None:
        value: str | None = row.get(f"{prefix}_kk" if self.t.language == "kk" else f"{prefix}_ru")
        return value

    def building(self, row: Row, column: str) -> str | None:
        """A building's name in the reader's language, else in the other one, else as it was given."""
        own, other = ("kk", "ru") if self.t.language == "kk" else ("ru", "kk")
        named: str | None = row.get(f"{column}_{own}") or row.get(f"{column}_{other}") or row.get(column)
        return named


@dataclass(frozen=True)
class Column:
    header: str
    type: CellType
    value: Callable[[Row, Cells], Any]
    personal: bool = False


def _field(name: str) -> Callable[[Row, Cells], Any]:
    return lambda row, cell: row.get(name)


def _time(name: str) -> Callable[[Row, Cells], Any]:
    return lambda row, cell: cell.time(row.get(name))


def _label(name: str, table: dict[str, str]) -> Callable[[Row, Cells], Any]:
    return lambda row, cell: cell.label(table, row.get(name))


def _person(name: str) -> Callable[[Row, Cells], Any]:
    return lambda row, cell: (row.get(name) or "").strip() or None


def _hours_between(start: str, end: str, per: float) -> Callable[[Row, Cells], Any]:
    def value(row: Row, cell: Cells) -> float | None:
        if not row.get(end):
            return None
        began = datetime.fromisoformat(row.get("reopened_at") or row[start])
        seconds = (datetime.fromisoformat(row[end]) - began).total_seconds()
        return round(max(0.0, seconds) / per, 2)

    return value


_PLACE = (
    Column(texts.H_VILLAGE_CODE, "text", _field("village_code")),
    Column(texts.H_VILLAGE, "text", lambda row, cell: cell.name(row, "village")),
    Column(texts.H_DISTRICT, "text", lambda row, cell: cell.name(row, "district")),
    Column(texts.H_REGION, "text", lambda row, cell: cell.name(row, "region")),
)

COLUMNS: dict[Kind, tuple[Column, ...]] = {
    "villages": (
        *_PLACE,
        Column(texts.H_STAGE, "text", _label("stage", texts.STAGES)),
        Column(texts.H_PLANNED_YEAR, "int", _field("planned_year")),
        Column(texts.H_PLANNED_QUARTER, "int", _field("planned_quarter")),
        Column(texts.H_OPERATOR, "text", _field("operator")),
        Column(texts.H_TECHNOLOGY, "text", _label("technology", TECHNOLOGY_NAMES)),
        Column(texts.H_PLANNED_TECHNOLOGY, "text", _label("planned_technology", TECHNOLOGY_NAMES)),
        Column(texts.H_POPULATION, "int", _field("population")),
        Column(texts.H_OBJECTS_ONLINE, "int", _field("objects_online")),
        Column(texts.H_OBJECTS_TOTAL, "int", _field("objects_total")),
        Column(texts.H_SCHOOLS_ONLINE, "int", _field("schools_online")),
        Column(texts.H_SCHOOLS_TOTAL, "int", _field("schools_total")),
        Column(texts.H_MEDICAL_ONLINE, "int", _field("medical_online")),
        Column(texts.H_MEDICAL_TOTAL, "int", _field("medical_total")),
        Column(texts.H_CHANGED_AT, "datetime", _time("changed_at")),
        Column(texts.H_CHANGE_REASON, "text", _field("change_reason")),
    ),
    "objects": (
        *_PLACE,
        Column(texts.H_ID, "int", _field("id")),
        Column(texts.H_OBJECT_KIND, "text", _label("kind", texts.OBJECT_KINDS)),
        Column(texts.H_OBJECT_NAME, "text", lambda row, cell: cell.building(row, "name")),
        Column(texts.H_ONLINE, "int", _field("connected")),
        Column(texts.H_TECHNOLOGY, "text", _label("technology", TECHNOLOGY_NAMES)),
        Column(texts.H_SPEED, "float", _field("speed_mbps")),
        Column(texts.H_CONNECTED_AT, "datetime", _time("connected_at")),
    ),
    "installations": (
        Column(texts.H_ID, "int", _field("id")),
        Column(texts.H_LOGGED_AT, "datetime", _time("created_at")),
        *_PLACE,
        Column(texts.H_OBJECT_KIND, "text", _label("object_kind", texts.OBJECT_KINDS)),
        Column(texts.H_OBJECT_NAME, "text", lambda row, cell: cell.building(row, "object_name")),
        Column(texts.H_TECHNOLOGY, "text", _label("technology", TECHNOLOGY_NAMES)),
        Column(texts.H_SPEED, "float", _field("speed_mbps")),
        Column(texts.H_LATITUDE, "float", _field("latitude")),
        Column(texts.H_LONGITUDE, "float", _field("longitude")),
        Column(texts.H_CORRECTED_AT, "datetime", _time("updated_at")),
        Column(texts.H_STAFF_ID, "int", _field("staff_id"), personal=True),
        Column(texts.H_STAFF_NAME, "text", _person("staff_name"), personal=True),
    ),
    "incidents": (
        Column(texts.H_ID, "int", _field("id")),
        *_PLACE,
        Column(texts.H_WHAT, "text", _label("kind", texts.OUTAGE_KINDS)),
        Column(texts.H_STATE, "text", _label("state", texts.OUTAGE_STATES)),
        Column(texts.H_OPENED_AT, "datetime", _time("opened_at")),
        Column(texts.H_TAKEN_AT, "datetime", _time("taken_at")),
        Column(texts.H_RESOLVED_AT, "datetime", _time("resolved_at")),
        Column(texts.H_RESOLUTION, "text", _label("resolution", texts.RESOLUTIONS)),
        Column(texts.H_REPORTS, "int", _field("reports")),
        Column(texts.H_REOPENED, "int", _field("reopened")),
        Column(texts.H_MASS, "int", _field("mass")),
        Column(texts.H_MINUTES_TO_TAKE, "float", _hours_between("opened_at", "taken_at", 60)),
        Column(texts.H_HOURS_TO_RESOLVE, "float", _hours_between("opened_at", "resolved_at", 3600)),
        Column(texts.H_TAKEN_BY, "text", _person("taken_by_name"), personal=True),
        Column(texts.H_RESOLVED_BY, "text", _person("resolved_by_name"), personal=True),
    ),
    "reports": (
        Column(texts.H_TICKET, "text", lambda row, cell: f"AN-{row['id']:06d}"),
        Column(texts.H_FILED_AT, "datetime", _time("created_at")),
        *_PLACE,
        Column(texts.H_WHAT, "text", _label("kind", texts.OUTAGE_KINDS)),
        Column(texts.H_SINCE, "text", _label("since", texts.SINCE)),
        Column(texts.H_INCIDENT, "int", _field("incident_id")),
        Column(texts.H_STATE, "text", _label("incident_state", texts.OUTAGE_STATES)),
        Column(texts.H_REPORTER_ID, "int", _field("user_id"), personal=True),
        Column(texts.H_REPORTER, "text", _person("reporter_name"), personal=True),
        Column(texts.H_DESCRIPTION, "text", _field("description"), personal=True),
        Column(texts.H_PHOTO, "text", _field("photo_file_id"), personal=True),
        Column(texts.H_LATITUDE, "float", _field("latitude"), personal=True),
        Column(texts.H_LONGITUDE, "float", _field("longitude"), personal=True),
    ),
    "classes": (
        Column(texts.H_ID, "int", _field("id")),
        Column(texts.H_STARTS_AT, "datetime", _time("starts_at")),
        Column(texts.H_MINUTES, "int", _field("minutes")),
        *_PLACE,
        Column(texts.H_VENUE, "text", _field("venue")),
        Column(texts.H_TOPIC, "text", _label("topic", texts.TOPICS)),
        Column(texts.H_LANGUAGE, "text", _field("language")),
        Column(texts.H_CAPACITY, "int", _field("capacity")),
        Column(texts.H_STATE, "text", _label("state", texts.CLASS_STATES)),
        Column(texts.H_BOOKED, "int", _field("booked")),
        Column(texts.H_WAITING, "int", _field("waiting")),
        Column(texts.H_PRESENT, "int", _field("present")),
        Column(texts.H_SENIORS_PRESENT, "int", _field("seniors_present")),
        Column(texts.H_TRAINER_ID, "int", _field("trainer_id"), personal=True),
        Column(texts.H_TRAINER, "text", _person("trainer_name"), personal=True),
    ),
    "attendance": (
        Column(texts.H_CLASS, "int", _field("class_id")),
        Column(texts.H_STARTS_AT, "datetime", _time("starts_at")),
        *_PLACE,
        Column(texts.H_TOPIC, "text", _label("topic", texts.TOPICS)),
        Column(texts.H_CLASS_STATE, "text", _label("class_state", texts.CLASS_STATES)),
        Column(texts.H_AGE, "text", _label("age_group", texts.AGE_GROUPS)),
        Column(texts.H_BOOKING_STATE, "text", _label("state", texts.BOOKING_STATES)),
        Column(texts.H_ATTENDANCE, "text", _label("attendance", texts.ATTENDANCE)),
        Column(texts.H_WALK_IN, "int", _field("walk_in")),
        Column(texts.H_BOOKED_AT, "datetime", _time("created_at")),
        Column(
            texts.H_ATTENDEE,
            "text",
            lambda row, cell: row.get("attendee_name") or row.get("booker_name"),
            personal=True,
        ),
        Column(texts.H_BOOKER_ID, "int", _field("user_id"), personal=True),
        Column(texts.H_BOOKER, "text", _person("booker_name"), personal=True),
    ),
}
READERS = {
    "installations": exports.installations,
    "incidents": exports.incidents,
    "reports": exports.reports,
    "classes": exports.classes,
    "attendance": exports.attendance,
}


@dataclass(frozen=True)
class AreaChoice:
    whole: stats.Place | None  # the area itself, to take entirely (None: several areas to pick from)
    parts: list[stats.Place]


async def area_choice(db: Database, member: Member, area: str | None) -> AreaChoice:
    """Where an export can be taken: the member's own area (or areas), or a part of one."""
    if not member.is_admin:
        raise ExportError("not_admin")
    async with stats.snapshot(db.path) as conn:
        if area is None:
            scopes = member.scopes(EXPORT_ROLE)
            if len(scopes) > 1:
                found = [await stats.place(conn, scope) for scope in scopes]
                return AreaChoice(None, [place for place in found if place is not None])
            area = scopes[0]
        if not member.can(EXPORT_ROLE, area):
            raise ExportError("outside_area")
        whole = await stats.place(conn, area)
        if whole is None:
            raise ExportError("unknown_area")
        parts = await stats.children(conn, area) if whole.level in ("country", "region") else []
    return AreaChoice(whole, parts)


async def place_of(db: Database, area: str) -> stats.Place | None:
    async with stats.snapshot(db.path) as conn:
        return await stats.place(conn, area)
