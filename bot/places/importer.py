"""Importing the classifier, rollout plans and social objects from CSV.

Every row is checked first, off the event loop; a file with any problem changes nothing, and each
problem is kept with its line, column and value, to be worded in the reader's language
(``texts.describe_problem``). A valid file is applied in one transaction, and importing the same
file again changes nothing. Every text has a length limit, so imported data cannot make a card or
a button longer than Telegram allows.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from bot.clock import Clock
from bot.places import texts
from bot.places.names import display_area, display_settlement, settlement_kind
from bot.places.rollout import RolloutChange, change_rollout
from db import places
from db.database import Database

ImportKind = Literal["kato", "plan", "objects"]
MAX_ROWS = 100_000
# Kazakhstan's bounding box, with a little margin.
LATITUDES = (40.0, 56.0)
LONGITUDES = (46.0, 88.0)
YEARS = (2018, 2035)
MAX_PLACE_NAME = 200
MAX_BUILDING_NAME = 200
MAX_OPERATOR = 100
MAX_NOTE = 500
MAX_HOTLINE = 32
MAX_VERSION = 40
CHOICES: dict[str, tuple[str, ...]] = {
    "stage": places.STAGES,
    "technology": places.TECHNOLOGIES,
    "planned_technology": places.TECHNOLOGIES,
    "kind": places.OBJECT_KINDS,
    "level": ("oblast", "district", "sub_district", "settlement"),
}
_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]*$")
_NUMBER = re.compile(r"^[+-]?[0-9][0-9 .,]*$")

Row = TypeVar("Row", bound=BaseModel)
Progress = Callable[[int], Awaitable[None]]  # told how many rows were checked, before writing


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where (line, column, value) and what (a code with its details)."""

    code: str
    line: int | None = None
    column: str | None = None
    value: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def english(self) -> str:
        """The problem in the catalogs' source language, for the command line."""
        return texts.describe_problem(None, self)


@dataclass
class ImportResult:
    kind: str
    rows: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    notified: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def errors(self) -> list[str]:
        return [problem.english() for problem in self.problems]

    def summary(self) -> str:
        if self.problems:
            shown = self.errors[:50]
            more = len(self.problems) - len(shown)
            tail = [f"… and {more} more"] if more else []
            return "\n".join([f"{self.kind}: {len(self.problems)} errors, nothing imported", *shown, *tail])
        return (
            f"{self.kind}: {self.rows} rows — {self.added} added, {self.changed} changed,"
            f" {self.unchanged} unchanged"
        )


def _problem(code: str, message: str, **context: Any) -> PydanticCustomError:
    return PydanticCustomError(code, message, context)


class KatoRow(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    kato: str
    kato_version: str = Field("", max_length=MAX_VERSION)
    level: Literal["oblast", "district", "sub_district", "settlement"]
    type_code: int
    name_ru: str = Field(max_length=MAX_PLACE_NAME)
    name_kk: str = Field(max_length=MAX_PLACE_NAME)

    @field_validator("kato")
    @classmethod
    def _nine_digits(cls, value: str) -> str:
        if len(value) != 9 or not value.isdigit():
            raise _problem("kato_digits", "a KATO code has 9 digits")
        return value

    @field_validator("name_ru", "name_kk")
    @classmethod
    def _named(cls, value: str) -> str:
        if not value:
            raise _problem("required", "empty")
        return value


class PlanRow(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    kato: str
    stage: places.Stage
    planned_year: int | None = None
    planned_quarter: int | None = None
    operator: str | None = Field(None, max_length=MAX_OPERATOR)
    hotline: str | None = Field(None, max_length=MAX_HOTLINE)
    technology: places.Technology | None = None
    planned_technology: places.Technology | None = None
    note: str | None = Field(None, max_length=MAX_NOTE)
    latitude: float | None = None
    longitude: float | None = None
    population: int | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("planned_year")
    @classmethod
    def _year(cls, value: int | None) -> int | None:
        if value is not None and not YEARS[0] <= value <= YEARS[1]:
            raise _problem("out_of_range", "out of range", low=YEARS[0], high=YEARS[1])
        return value

    @field_validator("planned_quarter")
    @classmethod
    def _quarter(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= 4:
            raise _problem("out_of_range", "out of range", low=1, high=4)
        return value

    @field_validator("population")
    @classmethod
    def _population(cls, value: int | None) -> int | None:
        if value is not None and not 0 <= value <= 1_000_000:
            raise _problem("out_of_range", "out of range", low=0, high=1_000_000)
        return value

    @field_validator("hotline")
    @classmethod
    def _hotline(cls, value: str | None) -> str | None:
        if value is not None and not _PHONE.match(value):
            raise _problem("hotline_format", "not a phone number")
        return value

    @model_validator(mode="after")
    def _together(self) -> PlanRow:
        if (self.latitude is None) != (self.longitude is None):
            raise _problem("coordinates_pair", "give both latitude and longitude, or neither")
        if (
            self.latitude is not None
            and self.longitude is not None
            and not (
                LATITUDES[0] <= self.latitude <= LATITUDES[1]
                and LONGITUDES[0] <= self.longitude <= LONGITUDES[1]
            )
        ):
            raise _problem("coordinates_outside", "outside Kazakhstan")
        if self.planned_quarter is not None and self.planned_year is None:
            raise _problem("quarter_needs_year", "planned_quarter needs planned_year")
        return self


class ObjectRow(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    kato: str
    kind: places.ObjectKind
    name: str = Field("", max_length=MAX_BUILDING_NAME)
    name_kk: str | None = Field(None, max_length=MAX_BUILDING_NAME)
    name_ru: str | None = Field(None, max_length=MAX_BUILDING_NAME)
    connected: bool = False
    technology: places.Technology | None = None
    speed_mbps: float | None = None

    @field_validator("technology", "speed_mbps", "name_kk", "name_ru", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("connected", mode="before")
    @classmethod
    def _yes_no(cls, value: Any) -> Any:
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in ("", "0", "no", "false", "нет", "жоқ"):
                return False
            if lowered in ("1", "yes", "true", "да", "иә"):
                return True
        return value

    @field_validator("speed_mbps")
    @classmethod
    def _speed(cls, value: float | None) -> float | None:
        if value is not None and not 0 <= value <= 10_000:
            raise _problem("out_of_range", "out of range", low=0, high=10_000)
        return value

    @model_validator(mode="after")
    def _named(self) -> ObjectRow:
        if not (self.name or self.name_kk or self.name_ru):
            raise _problem("no_name", "a building needs a name")
        if not self.name:
            self.name = self.name_kk or self.name_ru or ""
        return self


# --- reading --------------------------------------------------------------------------------------
@dataclass
class Table:
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]


def read_csv(data: bytes, problems: list[Problem]) -> Table | None:
    """Header and (line number, row) pairs; UTF-8 with or without a BOM, comma or semicolon.

    Problems that make the file unreadable, a cell that looks like a spreadsheet formula and a
    column given twice go to ``problems``.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        problems.append(Problem("not_utf8", line=data[: error.start].count(b"\n") + 1))
        return None
    if "\x00" in text:
        problems.append(Problem("broken_csv", line=text[: text.index("\x00")].count("\n") + 1))
        return None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    starts = 1  # the line the row being read starts on
    try:
        header = [name.strip().lower() for name in next(reader, [])]
        seen: set[str] = set()
        for name in header:
            if name and name in seen:
                problems.append(Problem("duplicate_column", line=1, column=name))
            seen.add(name)
        rows: list[tuple[int, dict[str, str]]] = []
        starts = reader.line_num + 1
        for cells in reader:
            line, starts = starts, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                problems.append(Problem("too_many_rows", line=line, params={"limit": MAX_ROWS}))
                break
            row = {name: cell for name, cell in zip(header, cells, strict=False) if name}
            for name, cell in row.items():
                if _looks_like_formula(cell):
                    problems.append(Problem("formula", line=line, column=name, value=cell))
            rows.append((line, row))
    except csv.Error as error:
        code = "cell_too_large" if "field larger" in str(error) else "broken_csv"
        problems.append(Problem(code, line=starts, params={"limit": csv.field_size_limit()}))
        return None
    return Table(header, rows)


def _looks_like_formula(cell: str) -> bool:
    """A cell a spreadsheet would run: «=…», «@…», or «+…»/«-…» that is not a number or phone."""
    value = cell.strip()
    if not value:
        return False
    if value[0] in "=@":
        return True
    return value[0] in "+-" and not (_NUMBER.match(value) or _PHONE.match(value))


def validate(
    data: bytes,
    model: type[Row],
    required: set[str],
    result: ImportResult,
    identity: Callable[[Row], str] | None = None,
    identity_column: str = "kato",
) -> list[tuple[int, Row]]:
    """Rows that pass the model, with their line numbers; problems go to ``result.problems``.

    ``identity`` names what a row is about (a settlement, a building): a file that gives the same
    one twice is refused, because whichever row came last would win on one import and lose on the
    next, so re-importing the file would keep flipping it and telling followers each time.
    """
    table = read_csv(data, result.problems)
    if table is None:
        return []
    if not table.rows and not table.header:
        result.problems.append(Problem("empty_file"))
        return []
    missing = required - set(table.header)
    if missing:
        result.problems.append(
            Problem("missing_columns", line=1, params={"columns": ", ".join(sorted(missing))})
        )
        return []
    valid: list[tuple[int, Row]] = []
    cells: dict[int, dict[str, str]] = {}
    for line, raw in table.rows:
        cells[line] = raw
        result.rows += 1
        given = {key: value for key, value in raw.items() if key in model.model_fields}
        try:
            valid.append((line, model.model_validate(given)))
        except ValidationError as error:
            for found in error.errors():
                result.problems.append(_described(found, line, raw))
    if identity is not None:
        first_seen: dict[str, int] = {}
        for line, row in valid:
            name = identity(row)
            earlier = first_seen.setdefault(name, line)
            if earlier != line:
                result.problems.append(
                    Problem(
                        "duplicate_row",
                        line=line,
                        column=identity_column,
                        value=cells[line].get(identity_column, "").strip(),
                        params={"earlier": earlier},
                    )
                )
    return valid


# Problems of a whole row, and the column an admin should look at for each.
ROW_PROBLEM_COLUMNS = {
    "coordinates_pair": ("latitude", "longitude"),
    "coordinates_outside": ("latitude", "longitude"),
    "quarter_needs_year": ("planned_quarter",),
    "no_name": ("name",),
}


def _described(found: Any, line: int, raw: dict[str, str]) -> Problem:
    kind = str(found["type"])
    column = str(found["loc"][0]) if found["loc"] else None
    value = raw.get(column) if column else None
    if column is None and kind in ROW_PROBLEM_COLUMNS:
        columns = ROW_PROBLEM_COLUMNS[kind]
        column = columns[0]
        value = ", ".join(raw.get(name, "").strip() for name in columns)
    context = dict(found.get("ctx") or {})
    if kind == "literal_error" and column:
        return Problem("invalid_choice", line, column, value, {"choices": ", ".join(CHOICES.get(column, ()))})
    if kind in ("int_parsing", "int_from_float", "float_parsing", "int_type", "float_type"):
        return Problem("not_a_number", line, column, value)
    if kind == "string_too_long":
        return Problem("too_long", line, column, value, {"limit": context.get("max_length", 0)})
    if kind == "missing":
        return Problem("required", line, column, value)
    if kind == "bool_parsing":
        return Problem("not_yes_no", line, column, value)
    if kind in texts.IMPORT_PROBLEMS:
        return Problem(kind, line, column, value, context)
    return Problem("invalid_value", line, column, value)


async def read_input(source: Path | bytes) -> bytes:
    """The file's bytes, read off the event loop (a whole classifier is over a megabyte)."""
    if isinstance(source, bytes):
        return source
    return await asyncio.to_thread(Path(source).read_bytes)


AreaCheck = Callable[[str], bool]


async def _check_places(
    db: Database, rows: list[tuple[int, Any]], allowed: AreaCheck | None, result: ImportResult
) -> None:
    """Rows about a settlement the classifier does not have, or outside the admin's area.

    Checked even when other rows have problems, so the admin sees every problem of the file at once.
    """
    if not rows:
        return
    async with db.read() as conn:
        known = await places.settlement_codes(conn)
    for line, row in rows:
        if row.kato not in known:
            result.problems.append(Problem("unknown_settlement", line, "kato", row.kato))
        elif allowed is not None and not allowed(row.kato):
            result.problems.append(Problem("outside_area", line, "kato", row.kato))
    result.problems.sort(key=lambda problem: problem.line or 0)


# --- the classifier -------------------------------------------------------------------------------
@dataclass
class Classifier:
    areas: dict[str, places.AreaRow]
    villages: dict[str, places.VillageRow]


def _classifier(rows: list[tuple[int, KatoRow]], result: ImportResult) -> Classifier:
    areas: dict[str, places.AreaRow] = {}
    villages: dict[str, places.VillageRow] = {}
    lines: dict[str, int] = {}
    for line, row in rows:
        code = row.kato
        if row.level == "oblast":
            areas[code] = ("region", None, row.name_kk, row.name_ru)
        elif row.level == "district":
            areas[code] = (
                "district",
                code[:2] + "0000000",
                display_area(row.name_kk, "kk"),
                display_area(row.name_ru, "ru"),
            )
        elif row.level == "sub_district":
            areas[code] = (
                "okrug",
                code[:4] + "00000",
                display_area(row.name_kk, "kk"),
                display_area(row.name_ru, "ru"),
            )
        else:
            lines[code] = line
            villages[code] = (
                code[:2] + "0000000",
                code[:4] + "00000",
                code[:6] + "000",
                display_settlement(row.name_kk, "kk"),
                display_settlement(row.name_ru, "ru"),
                row.kato_version,
                settlement_kind(row.name_ru),
            )
    for code, (region, district, okrug, name_kk, name_ru, version, kind) in villages.items():
        if district not in areas:
            result.problems.append(
                Problem("district_missing", lines[code], "kato", code, {"district": district})
            )
        # Some settlements sit directly under a district (EF = 00): they belong to no okrug.
        if okrug not in areas or areas[okrug or ""][0] != "okrug":
            villages[code] = (region, district, None, name_kk, name_ru, version, kind)
    return Classifier(areas, villages)


async def import_kato(
    db: Database,
    path: Path | bytes,
    clock: Clock | None = None,
    *,
    progress: Progress | None = None,
) -> ImportResult:
    result = ImportResult("kato")
    data = await read_input(path)

    def check() -> Classifier | None:
        rows = validate(
            data,
            KatoRow,
            {"kato", "level", "type_code", "name_ru", "name_kk"},
            result,
            identity=lambda row: row.kato,
        )
        return None if result.problems else _classifier(rows, result)

    classifier = await asyncio.to_thread(check)
    if classifier is None or result.problems:
        return result
    if progress is not None:
        await progress(result.rows)
    async with db.transaction() as tx:
        existing_areas, existing_villages = await places.classifier_snapshot(tx)
        new_areas = [
            (code, *value) for code, value in classifier.areas.items() if existing_areas.get(code) != value
        ]
        new_villages = [
            (code, *value)
            for code, value in classifier.villages.items()
            if existing_villages.get(code) != value
        ]
        await places.save_areas(tx, new_areas)
        await places.save_settlements(tx, new_villages)
    result.added = sum(1 for code in classifier.areas if code not in existing_areas) + sum(
        1 for code in classifier.villages if code not in existing_villages
    )
    result.changed = len(new_areas) + len(new_villages) - result.added
    result.unchanged = len(classifier.areas) + len(classifier.villages) - len(new_areas) - len(new_villages)
    return result


# --- rollout plans --------------------------------------------------------------------------------
async def import_plan(
    db: Database,
    path: Path | bytes,
    clock: Clock | None = None,
    *,
    now: datetime | None = None,
    allowed: AreaCheck | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    result = ImportResult("plan")
    now = now or (clock or Clock()).now()
    data = await read_input(path)
    rows = await asyncio.to_thread(
        validate, data, PlanRow, {"kato", "stage"}, result, lambda row: row.kato, "kato"
    )
    await _check_places(db, rows, allowed, result)
    if result.problems:
        return result
    if progress is not None:
        await progress(result.rows)
    async with db.transaction() as tx:
        known = {village.code: village for village in await places.all_villages(tx)}
        for line, row in rows:
            if row.kato not in known:
                result.problems.append(Problem("unknown_settlement", line, "kato", row.kato))
        if result.problems:
            return result
        for _line, given in rows:
            village = known[given.kato]
            row = _with_current_values(given, village)
            change = RolloutChange(
                stage=row.stage,
                planned_year=row.planned_year,
                planned_quarter=row.planned_quarter,
                operator=row.operator,
                technology=row.technology,
                planned_technology=row.planned_technology,
                note=row.note,
            )
            details = (row.latitude, row.longitude, row.population, row.hotline)
            details_changed = (
                village.latitude,
                village.longitude,
                village.population,
                village.hotline,
            ) != details
            if details_changed:
                await places.update_details(
                    tx,
                    row.kato,
                    latitude=row.latitude,
                    longitude=row.longitude,
                    population=row.population,
                    hotline=row.hotline,
                )
            # Followers told of this change read the hotline the same file gives.
            village = village.model_copy(update={"hotline": row.hotline})
            outcome = await change_rollout(tx, village, change, reason="plan_import", actor_id=None, now=now)
            result.notified += outcome.notified
            if outcome.fields or details_changed:
                result.changed += 1
            else:
                result.unchanged += 1
    return result


def _with_current_values(row: PlanRow, village: places.Village) -> PlanRow:
    """Columns the file leaves out keep the village's current values; an empty cell clears one.

    An admin who sends just ``kato,stage`` means to move stages, not to wipe the planned window,
    operator, technology and coordinates of every village in the file.
    """
    absent = set(PlanRow.model_fields) - row.model_fields_set
    return row.model_copy(update={name: getattr(village, name) for name in absent})


# --- social objects -------------------------------------------------------------------------------
async def import_objects(
    db: Database,
    path: Path | bytes,
    clock: Clock | None = None,
    *,
    now: datetime | None = None,
    allowed: AreaCheck | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    result = ImportResult("objects")
    now = now or (clock or Clock()).now()
    data = await read_input(path)
    rows = await asyncio.to_thread(
        validate,
        data,
        ObjectRow,
        {"kato", "kind"},
        result,
        lambda row: f"{row.kato} {row.kind} {row.name}",
        "name",
    )
    await _check_places(db, rows, allowed, result)
    if result.problems:
        return result
    if progress is not None:
        await progress(result.rows)
    async with db.transaction() as tx:
        known = await places.settlement_codes(tx)
        for line, row in rows:
            if row.kato not in known:
                result.problems.append(Problem("unknown_settlement", line, "kato", row.kato))
        if result.problems:
            return result
        current = await places.object_states(tx)
        changes = []
        for _line, row in rows:
            key = (row.kato, row.kind, row.name)
            wanted = (int(row.connected), row.technology, row.speed_mbps, row.name_kk, row.name_ru)
            before = current.get(key)
            if before == wanted:
                result.unchanged += 1
                continue
            changes.append((*key, *wanted))
            if before is None:
                result.added += 1
            else:
                result.changed += 1
        await places.save_objects(tx, changes, now)
    return result


IMPORTERS: dict[str, Callable[..., Awaitable[ImportResult]]] = {
    "kato": import_kato,
    "plan": import_plan,
    "objects": import_objects,
}
