"""Buttons of the progress view, and the area code every managers' button carries."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from bot.callbacks import CallbackData

COUNTRY = "kz"
# An area in a button: "kz" for the whole country (an empty field would read as missing), else a
# region (2 digits), district (4), rural okrug (6) or village (9).
AreaCode = Annotated[str, Field(pattern=r"^(kz|[0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9})$")]


def pack_area(code: str) -> str:
    return code or COUNTRY


def unpack_area(value: str) -> str:
    return "" if value == COUNTRY else value


class StatsCb(CallbackData, prefix="st"):
    """Open the progress of an area (the reader's own, or a part of it)."""

    area: AreaCode
