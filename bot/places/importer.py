"""Importing the classifier, rollout plans and social objects from CSV.

Every row is validated first; a file with any error changes nothing and the errors are listed
with their line numbers. A valid file is applied in one transaction, and importing the same file
again changes nothing.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from bot.clock import Clock
from bot.places.names import display_area, display_settlement
from bot.places.service import RolloutChange, change_rollout
from db import places
from db.database import Database

MAX_ERRORS = 50
# Kazakhstan's bounding box, with a little margin.
LATITUDES = (40.0, 56.0)
LONGITUDES = (46.0, 88.0)

Row = TypeVar("Row", bound=BaseModel)


@dataclass
class ImportResult:
    kind: str
    rows: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    notified: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        if self.errors:
            shown = self.errors[:MAX_ERRORS]
            more = len(self.errors) - len(shown)
            tail = [f"… and {more} more"] if more else []
            return "\n".join([f"{self.kind}: {len(self.errors)} errors, nothing imported", *shown, *tail])
        return (
            f"{self.kind}: {self.rows} rows — {self.added} added, {self.changed} changed,"
            f" {self.unchanged} unchanged"
        )


class KatoRow(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    kato: str
    kato_version: str = ""
    level: Literal["oblast", "district", "sub_district", "settlement"]
    type_code: int
    name_ru: str
    name_kk: str

    @field_validator("kato")
    @classmethod
    def _nine_digits(cls, value: str) -> str:
        if len(value) != 9 or not value.isdigit():
            raise ValueError("KATO code must be 9 digits")
        return value

    @field_validator("name_ru", "name_kk")
    @classmethod
    def _named(cls, value: str) -> str:
        if not value:
            raise ValueError("name is empty")
        return value


class PlanRow(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    kato: str
    stage: places.Stage
    planned_year: int | None = None
    planned_quarter: int | None = None
    operator: str | None = None
    technology: Literal["fibre", "satellite", "radio", "mobile"] | None = None
    planned_technology: Literal["fibre", "satellite", "radio", "mobile"] | None = None
    note: str | None = None
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
        if value is not None and not 2018 <= value <= 2035:
            raise ValueError("planned_year must be between 2018 and 2035")
        return value

    @field_validator("planned_quarter")
    @classmethod
    def _quarter(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= 4:
            raise ValueError("planned_quarter must be 1, 2, 3 or 4")
        return value

    @field_validator("population")
    @classmethod
    def _population(cls, value: int | None) -> int | None:
        if value is not None and not 0 <= value <= 1_000_000:
            raise ValueError("population is out of range")
        return value

    @model_validator(mode="after")
    def _coordinates(self) -> PlanRow:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        if (
            self.latitude is not None
            and self.longitude is not None
            and not (
                LATITUDES[0] <= self.latitude <= LATITUDES[1]
                and LONGITUDES[0] <= self.longitude <= LONGITUDES[1]
            )
        ):
            raise ValueError("coordinates are outside Kazakhstan")
        if self.planned_quarter is not None and self.planned_year is None:
            raise ValueError("planned_quarter needs planned_year")
        return self


class ObjectRow(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    kato: str
    kind: places.ObjectKind
    name: str
    connected: bool = False
    technology: Literal["fibre", "satellite", "radio", "mobile"] | None = None
    speed_mbps: float | None = None

    @field_validator("technology", "speed_mbps", mode="before")
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
            raise ValueError("speed_mbps must be between 0 and 10000")
        return value

    @field_validator("name")
    @classmethod
    def _named(cls, value: str) -> str:
        if not value:
            raise ValueError("name is empty")
        return value


def read_csv(data: bytes) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """Header and (line number, row) pairs; UTF-8 with or without BOM, comma or semicolon."""
    text = data.decode("utf-8-sig")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [name.strip() for name in reader.fieldnames or []]
    reader.fieldnames = header

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        for row in reader:
            if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
                continue
            yield reader.line_num, {key: (value or "") for key, value in row.items() if key is not None}

    return header, rows()


async def read_input(source: Path | bytes) -> bytes:
    """The file's bytes, read off the event loop (a whole classifier is over a megabyte)."""
    if isinstance(source, bytes):
        return source
    return await asyncio.to_thread(Path(source).read_bytes)


def validate(
    data: bytes,
    model: type[Row],
    required: set[str],
    result: ImportResult,
    identity: Callable[[Row], str] | None = None,
) -> list[tuple[int, Row]]:
    """Rows that pass the model, with their line numbers; problems go to ``result.errors``.

    ``identity`` names what a row is about (a settlement, a building): a file that gives the same
    one twice is refused, because whichever row came last would win on one import and lose on the
    next, so re-importing the file would keep flipping it and telling followers each time.
    """
    try:
        header, rows = read_csv(data)
    except UnicodeDecodeError:
        result.errors.append("the file is not UTF-8 text")
        return []
    missing = required - set(header)
    if missing:
        result.errors.append(f"line 1: missing columns: {', '.join(sorted(missing))}")
        return []
    valid: list[tuple[int, Row]] = []
    for line, raw in rows:
        result.rows += 1
        try:
            valid.append(
                (line, model.model_validate({k: v for k, v in raw.items() if k in model.model_fields}))
            )
        except ValidationError as error:
            for problem in error.errors():
                where = ".".join(str(part) for part in problem["loc"]) or "row"
                message = str(problem["msg"]).removeprefix("Value error, ")
                result.errors.append(f"line {line}: {where}: {message}")
    if identity is not None:
        first_seen: dict[str, int] = {}
        for line, row in valid:
            name = identity(row)
            earlier = first_seen.setdefault(name, line)
            if earlier != line:
                result.errors.append(f"line {line}: {name} is already on line {earlier}")
    return valid


async def import_kato(db: Database, path: Path | bytes, clock: Clock | None = None) -> ImportResult:
    result = ImportResult("kato")
    data = await read_input(path)
    rows = validate(
        data,
        KatoRow,
        {"kato", "level", "type_code", "name_ru", "name_kk"},
        result,
        identity=lambda row: f"kato {row.kato}",
    )
    if result.errors:
        return result
    areas: dict[str, tuple[str, str | None, str, str]] = {}
    villages: dict[str, tuple[str, str, str | None, str, str, str]] = {}
    okrug: str | None
    for _line, row in rows:
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
            okrug = code[:6] + "000"
            villages[code] = (
                code[:2] + "0000000",
                code[:4] + "00000",
                okrug,
                display_settlement(row.name_kk, "kk"),
                display_settlement(row.name_ru, "ru"),
                row.kato_version,
            )
    for code, (region, district, okrug, *_rest) in villages.items():
        if district not in areas:
            result.errors.append(f"{code}: its district {district} is not in the file")
        # Some settlements sit directly under a district (EF = 00): their "okrug" code is the district's.
        if okrug not in areas or areas[okrug][0] != "okrug":
            villages[code] = (region, district, None, *_rest)  # type: ignore[assignment]
    if result.errors:
        return result
    async with db.transaction() as tx:
        existing_areas = {
            a.code: (a.level, a.parent, a.name_kk, a.name_ru) for a in await places.all_areas(tx)
        }
        async with tx.execute(
            "SELECT code, region_code, district_code, okrug_code, name_kk, name_ru, kato_version FROM villages"
        ) as cursor:
            existing_villages = {row[0]: tuple(row[1:]) for row in await cursor.fetchall()}
        new_areas = [(code, *value) for code, value in areas.items() if existing_areas.get(code) != value]
        new_villages = [
            (code, *value) for code, value in villages.items() if existing_villages.get(code) != value
        ]
        await tx.executemany(
            "INSERT INTO areas (code, level, parent, name_kk, name_ru) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (code) DO UPDATE SET level = excluded.level, parent = excluded.parent,"
            " name_kk = excluded.name_kk, name_ru = excluded.name_ru",
            new_areas,
        )
        await tx.executemany(
            "INSERT INTO villages (code, region_code, district_code, okrug_code, name_kk, name_ru, kato_version)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET region_code = excluded.region_code,"
            " district_code = excluded.district_code, okrug_code = excluded.okrug_code,"
            " name_kk = excluded.name_kk, name_ru = excluded.name_ru, kato_version = excluded.kato_version",
            new_villages,
        )
    result.added = sum(1 for code in areas if code not in existing_areas) + sum(
        1 for code in villages if code not in existing_villages
    )
    result.changed = len(new_areas) + len(new_villages) - result.added
    result.unchanged = len(areas) + len(villages) - len(new_areas) - len(new_villages)
    return result


async def import_plan(db: Database, path: Path | bytes, clock: Clock | None = None) -> ImportResult:
    result = ImportResult("plan")
    now = (clock or Clock()).now()
    data = await read_input(path)
    rows = validate(data, PlanRow, {"kato", "stage"}, result, identity=lambda row: f"kato {row.kato}")
    if result.errors:
        return result
    async with db.transaction() as tx:
        known = {v.code: v for v in await places.all_villages(tx)}
        for line, row in rows:
            if row.kato not in known:
                result.errors.append(
                    f"line {line}: kato: no settlement {row.kato} (import the classifier first)"
                )
        if result.errors:
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
            outcome = await change_rollout(tx, village, change, reason="plan_import", actor_id=None, now=now)
            details_changed = (village.latitude, village.longitude, village.population) != (
                row.latitude,
                row.longitude,
                row.population,
            )
            if details_changed:
                await tx.execute(
                    "UPDATE villages SET latitude = ?, longitude = ?, population = ? WHERE code = ?",
                    (row.latitude, row.longitude, row.population, row.kato),
                )
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


async def import_objects(db: Database, path: Path | bytes, clock: Clock | None = None) -> ImportResult:
    result = ImportResult("objects")
    now = (clock or Clock()).now()
    data = await read_input(path)
    rows = validate(
        data,
        ObjectRow,
        {"kato", "kind", "name"},
        result,
        identity=lambda row: f"{row.kind} «{row.name}» in {row.kato}",
    )
    if result.errors:
        return result
    async with db.transaction() as tx:
        async with tx.execute("SELECT code FROM villages") as cursor:
            known = {row[0] for row in await cursor.fetchall()}
        for line, row in rows:
            if row.kato not in known:
                result.errors.append(
                    f"line {line}: kato: no settlement {row.kato} (import the classifier first)"
                )
        if result.errors:
            return result
        for _line, row in rows:
            async with tx.execute(
                "SELECT connected, technology, speed_mbps FROM social_objects"
                " WHERE village_code = ? AND kind = ? AND name = ?",
                (row.kato, row.kind, row.name),
            ) as cursor:
                current = await cursor.fetchone()
            wanted = (int(row.connected), row.technology, row.speed_mbps)
            if current is not None and tuple(current) == wanted:
                result.unchanged += 1
                continue
            await tx.execute(
                "INSERT INTO social_objects (village_code, kind, name, connected, technology, speed_mbps,"
                " connected_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (village_code, kind, name) DO UPDATE SET"
                " connected = excluded.connected, technology = excluded.technology,"
                " speed_mbps = excluded.speed_mbps, connected_at = CASE WHEN excluded.connected"
                " THEN coalesce(social_objects.connected_at, excluded.connected_at) END",
                (row.kato, row.kind, row.name, *wanted, _iso(now) if row.connected else None),
            )
            if current is None:
                result.added += 1
            else:
                result.changed += 1
    return result


def _iso(now: Any) -> str:
    from bot.clock import to_db

    return to_db(now)
