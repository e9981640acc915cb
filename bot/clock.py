"""Time: stored in UTC, shown in Asia/Almaty, and controllable in tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from db.timestamps import from_db, to_db

__all__ = ["Clock", "from_db", "to_db"]


class Clock:
    """The application's notion of "now"; tests move it forward instead of sleeping."""

    def __init__(self) -> None:
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> None:
        self._offset += delta
