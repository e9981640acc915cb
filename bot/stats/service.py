"""Progress for an area: the rules of who may see which area, and the figures the text and the
chart show (written out for people in docs/managers.md).

Readers are staff and admins, for their area (an admin holds the staff role in their area). A
region's reader may open each of its districts; nobody sees an area outside their own, whatever
button they press.
"""

from __future__ import annotations

import asyncio
import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import Settings
from bot.roles import Member
from bot.stats import offload
from db import stats
from db.database import Database
from db.models import Role
from db.stats import ClassCounts, ObjectCounts, OutageCounts, Place, StageCounts

READER_ROLE: Role = "staff"
# The drill-down goes from the country to regions and from a region to its districts.
DRILLS_INTO = ("country", "region")


class StatsError(ValueError):
    """A request the rules refuse; ``code`` names it for a localized message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Medians:
    """Median durations in seconds, None for a month with nothing to measure."""

    last_month: float | None
    this_month: float | None


@dataclass(frozen=True)
class Progress:
    place: Place
    as_of: datetime
    this_month: date  # the first day, in the configured zone
    last_month: date
    stages: StageCounts
    objects: list[ObjectCounts]
    outages: OutageCounts
    take: Medians
    resolve: Medians
    classes: ClassCounts
    children: list[Place]  # what the reader may open from here
    parent: Place | None  # the area above, when the reader covers it

    @property
    def villages(self) -> int:
        return sum(self.stages.by_stage.values())

    def figures(self) -> dict[str, Any]:
        """The numbers the text and the chart show, as plain data."""

        def hours(seconds: float | None) -> float | None:
            return None if seconds is None else round(seconds / 3600, 2)

        return {
            "area": self.place.code,
            "as_of": self.as_of.isoformat(timespec="seconds"),
            "villages": self.villages,
            "stages": {stage: self.stages.by_stage[stage] for stage in reversed(stats.STAGES)},
            "due": self.stages.due,
            "due_connected": self.stages.due_connected,
            "objects": {row.kind: [row.online, row.total] for row in self.objects},
            "outages": {"open": self.outages.open, "overdue": self.outages.overdue},
            "median_hours": {
                "take": {"last": hours(self.take.last_month), "this": hours(self.take.this_month)},
                "resolve": {"last": hours(self.resolve.last_month), "this": hours(self.resolve.this_month)},
            },
            "classes": {
                "held": self.classes.held,
                "registered": self.classes.registered,
                "trained": self.classes.trained,
                "seniors": self.classes.seniors,
            },
        }


def parent_of(code: str) -> str | None:
    """The area one level up: a district's region, a region's country; None above the country."""
    return {9: code[:6], 6: code[:4], 4: code[:2], 2: ""}.get(len(code))


def month_starts(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime, datetime]:
    """The starts of last month, this month and next month, in ``zone``."""
    local = now.astimezone(zone)
    this = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last = (this - timedelta(days=1)).replace(day=1)
    following = (this + timedelta(days=32)).replace(day=1)
    return last, this, following


def quarter_index(now: datetime, zone: ZoneInfo) -> int:
    local = now.astimezone(zone)
    return local.year * 4 + (local.month - 1) // 3 + 1


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


async def my_areas(db: Database, member: Member) -> list[Place]:
    """The areas this member reads progress for (one each for a staff member's or admin's scopes)."""
    scopes = member.scopes(READER_ROLE)
    if not scopes:
        raise StatsError("not_reader")
    async with stats.snapshot(db.path) as conn:
        found = [await stats.place(conn, scope) for scope in scopes]
    return [place for place in found if place is not None]


async def progress(db: Database, member: Member, area: str, settings: Settings, now: datetime) -> Progress:
    """Everything the progress view shows for ``area``, if the member covers it.

    The counting runs in the worker process (``bot.stats.offload``): over a whole country it is a
    fifth of a second of SQLite and Python, and in this process it would hold the interpreter's lock
    against the event loop that answers everyone else.
    """
    if not member.holds(READER_ROLE):
        raise StatsError("not_reader")
    if not member.can(READER_ROLE, area):
        raise StatsError("outside_area")
    above = parent_of(area)
    query = Query(
        path=str(db.path),
        area=area,
        now=now,
        zone=settings.timezone,
        take_within_minutes=settings.take_within_minutes,
        resolve_within_hours=settings.resolve_within_hours,
        parent=above if above is not None and member.can(READER_ROLE, above) else None,
    )
    return await offload.run(read_progress, query)


@dataclass(frozen=True)
class Query:
    """What to count, as plain data for the worker process (the reader's rights already checked)."""

    path: str
    area: str
    now: datetime
    zone: str
    take_within_minutes: int
    resolve_within_hours: int
    parent: str | None  # the area above, when the reader may open it


def read_progress(query: Query) -> Progress:
    """In the worker process: count with a connection and an event loop of its own."""
    return asyncio.run(_read_progress(query))


async def _read_progress(query: Query) -> Progress:
    area, now, zone = query.area, query.now, ZoneInfo(query.zone)
    last, this, following = month_starts(now, zone)
    async with stats.snapshot(query.path) as conn:
        place = await stats.place(conn, area)
        if place is None:
            raise StatsError("unknown_area")
        stage_counts = await stats.stages(conn, area, quarter_index(now, zone))
        object_counts = await stats.objects(conn, area)
        outage_counts = await stats.outages(
            conn,
            area,
            take_by=now - timedelta(minutes=query.take_within_minutes),
            resolve_by=now - timedelta(hours=query.resolve_within_hours),
        )
        take = Medians(*map(median, await stats.durations(conn, area, "taken_at", last, this, following)))
        resolve = Medians(
            *map(median, await stats.durations(conn, area, "resolved_at", last, this, following))
        )
        class_counts = await stats.classes(conn, area)
        children = await stats.children(conn, area) if place.level in DRILLS_INTO else []
        parent = await stats.place(conn, query.parent) if query.parent is not None else None
    return Progress(
        place=place,
        as_of=now,
        this_month=this.date(),
        last_month=last.date(),
        stages=stage_counts,
        objects=object_counts,
        outages=outage_counts,
        take=take,
        resolve=resolve,
        classes=class_counts,
        children=children,
        parent=parent,
    )
