"""Every button of the classes feature.

Fields are typed narrowly (``Literal`` choices, :data:`Id`, :data:`Kato`, dates, times, seat counts),
so forged or out-of-range data fails parsing and gets the out-of-date answer. What parses may still
be stale: the rules check the person, the class and its state on the server.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from bot.callbacks import CallbackData, Id, Kato
from bot.config import Language
from db.classes import AgeGroup, BookingState, Topic

HourMinute = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3])[0-5][0-9]$")]
Seats = Annotated[int, Field(ge=1, le=200)]
LENGTHS = (60, 90, 120)


def _a_length(minutes: int) -> int:
    if minutes not in LENGTHS:
        raise ValueError(f"{minutes} is not one of {LENGTHS}")
    return minutes


Minutes = Annotated[int, AfterValidator(_a_length)]  # a Literal of ints would not take the packed "90"


# --- residents ---------------------------------------------------------------------------------------
class ClassCb(CallbackData, prefix="cl"):
    """A resident opens the list of classes, one class's card, or its calendar file."""

    action: Literal["list", "show", "ics"]
    lesson: Id = 0


class BookCb(CallbackData, prefix="cb"):
    """Book a class for oneself or a relative; without an age, the age question comes first."""

    lesson: Id
    who: Literal["me", "relative"]
    age: AgeGroup | None = None


class CancelCb(CallbackData, prefix="cx"):
    """Cancel one booking. ``state`` is the booking's state when the button was drawn: a button drawn
    for a place on the waiting list does not cancel the seat the person has accepted since."""

    booking: Id
    state: BookingState
    confirmed: bool = False


class OfferCb(CallbackData, prefix="co"):
    """The answer to a seat offered from the waiting list."""

    booking: Id
    accept: bool


# --- trainers: scheduling ----------------------------------------------------------------------------
class NewClassCb(CallbackData, prefix="cn"):
    """Start scheduling a class, or save the one checked on the summary."""

    step: Literal["start", "save"]


class VillageCb(CallbackData, prefix="cv"):
    """The village of a new class; without one, «search again»."""

    village: Kato | None = None


class WhenCb(CallbackData, prefix="ck"):
    """The day of a new class, then its time."""

    day: date
    time: HourMinute | None = None


class LengthCb(CallbackData, prefix="cm"):
    minutes: Minutes


class TopicCb(CallbackData, prefix="cp"):
    topic: Topic


class TongueCb(CallbackData, prefix="cg"):
    """The language a new class is taught in."""

    language: Language


class SeatsCb(CallbackData, prefix="cs"):
    """The number of seats of a new class."""

    seats: Seats


class ChangeStartCb(CallbackData, prefix="cq"):
    """A trainer starts changing a scheduled class: its time, venue or number of seats."""

    lesson: Id
    what: Literal["time", "venue", "seats"]


class ChangeCb(CallbackData, prefix="cc"):
    """A new time (a day, then a time) or a number of seats for a scheduled class."""

    lesson: Id
    day: date | None = None
    time: HourMinute | None = None
    seats: Seats | None = None


# --- trainers: the register --------------------------------------------------------------------------
class TrainerCb(CallbackData, prefix="ct"):
    """A trainer's screens and the register: marks, closing, cancelling (``confirmed`` after the question)."""

    action: Literal["home", "mine", "numbers", "roster", "mark", "close", "cancel"]
    lesson: Id = 0
    booking: Id | None = None
    confirmed: bool = False


class WalkInCb(CallbackData, prefix="cw"):
    """Someone came without booking: start (no age yet), then their age group."""

    lesson: Id
    age: AgeGroup | None = None
