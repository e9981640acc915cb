"""When a class is: the date and time a trainer types or picks, in the configured time zone.

Pure rules, no Telegram and no database: a typed «25.12 14:00», the next seven days as buttons,
a day button plus a time button, and the calendar week a class falls in (for the fair-use limit).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# The start times offered as buttons, as they are packed into a button ("HHMM").
TIMES: tuple[str, ...] = ("1000", "1100", "1400", "1500", "1800")
DAYS_AHEAD = 7
# A typed date without a year this far behind today means next year (05.01 typed in December); a
# date just behind us stays in this year, so it is refused as past instead of moving a year on.
YEAR_ROLLOVER_DAYS = 60
_TYPED = re.compile(r"^\s*(\d{1,2})\.(\d{1,2})(?:\.(\d{4}))?\s+(\d{1,2})[:.](\d{2})\s*$")
_HHMM = re.compile(r"^([01]\d|2[0-3])([0-5]\d)$")


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    """The calendar day ``moment`` falls on in ``zone``."""
    return moment.astimezone(zone).date()


def parse_when(text: str, today: date, zone: ZoneInfo) -> datetime | None:
    """«25.12 14:00» or «25.12.2027 14:00» as a moment in ``zone``; None when it is not a date and time.

    ``today`` is the day in ``zone`` the person types on; it decides the year when none is given.
    """
    match = _TYPED.match(text)
    if match is None:
        return None
    day, month, year, hour, minute = (int(part) if part else None for part in match.groups())
    assert day is not None and month is not None and hour is not None and minute is not None
    try:
        moment = time(hour, minute)
    except ValueError:  # 25:00
        return None
    chosen = _day(year, month, day) if year else _day(today.year, month, day)
    if year is None and (chosen is None or chosen < today - timedelta(days=YEAR_ROLLOVER_DAYS)):
        chosen = _day(today.year + 1, month, day)  # 29.02 typed in a year without one: the next leap year
    return datetime.combine(chosen, moment, tzinfo=zone) if chosen else None


def _day(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:  # 31.02
        return None


def next_days(today: date, count: int = DAYS_AHEAD) -> list[date]:
    """The days offered as buttons: tomorrow and the days after it."""
    return [today + timedelta(days=n) for n in range(1, count + 1)]


def chosen_start(day: date, hhmm: str, zone: ZoneInfo) -> datetime | None:
    """A day button and a time button ("HHMM") as a moment in ``zone``; None when the time is malformed."""
    match = _HHMM.match(hhmm)
    if match is None:
        return None
    return datetime.combine(day, time(int(match[1]), int(match[2])), tzinfo=zone)


def time_label(hhmm: str) -> str:
    """The time of a button («1400») as people read it («14:00»)."""
    return f"{hhmm[:2]}:{hhmm[2:]}"


def week_of(moment: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The calendar week (Monday 00:00 to the next Monday 00:00, in ``zone``) that ``moment`` is in."""
    day = local_day(moment, zone)
    monday = day - timedelta(days=day.weekday())
    start = datetime.combine(monday, time(0, 0), tzinfo=zone)
    return start, datetime.combine(monday + timedelta(days=7), time(0, 0), tzinfo=zone)
