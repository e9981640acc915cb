"""Time: stored in UTC, shown in Asia/Almaty, and controllable in tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    """The application's notion of "now"; tests move it forward instead of sleeping."""

    def __init__(self) -> None:
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> None:
        self._offset += delta


def to_db(moment: datetime) -> str:
    """ISO 8601 in UTC, second precision: sorts and compares correctly as text."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def from_db(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)
