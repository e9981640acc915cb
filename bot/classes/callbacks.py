"""Buttons of the classes feature, shared by the handlers and the notification renderers."""

from __future__ import annotations

from bot.callbacks import CallbackData


class LessonCb(CallbackData, prefix="cl"):
    """A resident looks at a class, books it, or cancels."""

    action: str  # show, me, relative, cancel, ics
    lesson: int
    age: str | None = None


class OfferCb(CallbackData, prefix="co"):
    booking: int
    accept: bool


class TrainerCb(CallbackData, prefix="ct"):
    """A trainer's action: roster, mark, walk-in, close, cancel."""

    action: str
    lesson: int
    booking: int | None = None
    confirmed: bool = False


class CancelCb(CallbackData, prefix="cx"):
    """A resident cancels one booking (their own, or their relative's)."""

    booking: int


class NewLessonCb(CallbackData, prefix="cn"):
    """A step of scheduling a class."""

    step: str
    value: str


class WalkInCb(CallbackData, prefix="cw"):
    lesson: int
    age: str


class ChangeCb(CallbackData, prefix="cc"):
    """A trainer changes a scheduled class: a day (then a time), or a number of seats."""

    lesson: int
    day: str | None = None  # ISO date
    time: str | None = None  # HHMM
    seats: int | None = None
