"""Buttons of the export chooser: each carries everything chosen so far, so no draft is kept."""

from __future__ import annotations

from typing import Literal

from bot.callbacks import CallbackData
from bot.exports.service import Format, Kind, PeriodChoice
from bot.stats.callbacks import AreaCode


class ExportCb(CallbackData, prefix="ex"):
    step: Literal["kind", "area", "period", "format", "file"]
    kind: Kind | None = None
    area: AreaCode | None = None
    period: PeriodChoice | None = None
    fmt: Format | None = None
    personal: bool = False
