"""When a class is: typed dates, day and time buttons, the year rollover and the calendar week."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.classes.when import chosen_start, local_day, next_days, parse_when, time_label, week_of

ALMATY = ZoneInfo("Asia/Almaty")


@pytest.mark.parametrize(
    ("typed", "today", "expected"),
    [
        ("25.12 14:00", date(2026, 11, 23), datetime(2026, 12, 25, 14, 0, tzinfo=ALMATY)),
        (" 5.1 9:30 ", date(2026, 11, 23), datetime(2027, 1, 5, 9, 30, tzinfo=ALMATY)),  # next year
        ("05.01.2026 09:30", date(2026, 11, 23), datetime(2026, 1, 5, 9, 30, tzinfo=ALMATY)),  # as typed
        ("22.11 10:00", date(2026, 11, 23), datetime(2026, 11, 22, 10, 0, tzinfo=ALMATY)),  # yesterday stays
        (
            "24.09 10:00",
            date(2026, 11, 23),
            datetime(2026, 9, 24, 10, 0, tzinfo=ALMATY),
        ),  # 60 days back stays
        ("23.09 10:00", date(2026, 11, 23), datetime(2027, 9, 23, 10, 0, tzinfo=ALMATY)),  # 61: next year
        ("25.12 14.00", date(2026, 11, 23), datetime(2026, 12, 25, 14, 0, tzinfo=ALMATY)),
        ("29.02 10:00", date(2027, 11, 23), datetime(2028, 2, 29, 10, 0, tzinfo=ALMATY)),  # leap year ahead
    ],
)
def test_a_typed_date_and_time(typed: str, today: date, expected: datetime) -> None:
    assert parse_when(typed, today, ALMATY) == expected


@pytest.mark.parametrize(
    "typed", ["31.02 10:00", "25.12 25:00", "25.12 14:60", "tomorrow", "25.12", "14:00", ""]
)
def test_what_is_not_a_date_and_time(typed: str) -> None:
    assert parse_when(typed, date(2026, 11, 23), ALMATY) is None


def test_the_day_buttons_are_the_next_seven_days_in_the_zone() -> None:
    late_evening_utc = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)  # already 1 January in Almaty
    today = local_day(late_evening_utc, ALMATY)
    assert today == date(2027, 1, 1)
    assert next_days(today) == [date(2027, 1, n) for n in range(2, 9)]


def test_a_day_and_a_time_button() -> None:
    assert chosen_start(date(2026, 12, 1), "1400", ALMATY) == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert chosen_start(date(2026, 12, 1), "2460", ALMATY) is None
    assert chosen_start(date(2026, 12, 1), "14:0", ALMATY) is None
    assert time_label("0930") == "09:30"


def test_the_calendar_week_runs_monday_to_monday_in_the_zone() -> None:
    sunday_night = datetime(2026, 11, 29, 18, 30, tzinfo=UTC)  # Sunday 23:30 in Almaty
    monday_early = datetime(2026, 11, 29, 19, 30, tzinfo=UTC)  # Monday 00:30 in Almaty
    assert week_of(sunday_night, ALMATY) == (
        datetime(2026, 11, 23, tzinfo=ALMATY),
        datetime(2026, 11, 30, tzinfo=ALMATY),
    )
    assert week_of(monday_early, ALMATY)[0] == datetime(2026, 11, 30, tzinfo=ALMATY)
