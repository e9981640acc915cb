"""The keyboards of the classes feature (``make_*_keyboard``); every label fits a phone (≤ 40 characters)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import ui
from bot.callbacks import CallbackData
from bot.classes import texts, when
from bot.classes.callbacks import (
    LENGTHS,
    BookCb,
    CancelCb,
    ChangeCb,
    ChangeStartCb,
    ClassCb,
    LengthCb,
    NewClassCb,
    OfferCb,
    SeatsCb,
    TongueCb,
    TopicCb,
    TrainerCb,
    VillageCb,
    WalkInCb,
    WhenCb,
)
from bot.classes.service import ClassCard, NoClassesNear
from bot.core.callbacks import MenuCb
from bot.i18n import Translator
from bot.places import keyboards as places_keyboards
from bot.places.search import Place
from db.classes import AGE_GROUPS, TOPICS, Booking, BookingState, Lesson, RosterEntry

CAPACITIES = (10, 15, 20, 30)
MARKS = {"present": "✅", "absent": "❌", None: "⬜"}
SIDE_BY_SIDE = 15  # a label this short still fits when two share a phone's row; three never do


def named(word: Callable[[str], str], name: str) -> str:
    """A label with a person's name in it («✖️ Cancel: …»): the name is shortened so the label fits."""
    label = word(name)
    if len(label) <= ui.MAX_LABEL:
        return label
    return word(ui.shorten(name, max(ui.MAX_LABEL - (len(label) - len(name)), 4)))


def _pairs(*buttons: InlineKeyboardButton) -> list[list[InlineKeyboardButton]]:
    """Buttons two to a row where both fit half a phone's width, else one to a row, in order."""
    rows: list[list[InlineKeyboardButton]] = []
    for button in buttons:
        last = rows[-1] if rows else None
        if last is not None and len(last) == 1 and max(len(last[0].text), len(button.text)) <= SIDE_BY_SIDE:
            last.append(button)
        else:
            rows.append([button])
    return rows


def _back(t: Translator) -> list[InlineKeyboardButton]:
    return [ui.back_to_menu(t)]


# --- residents ---------------------------------------------------------------------------------------
def make_list_keyboard(t: Translator, lessons: Sequence[Lesson]) -> InlineKeyboardMarkup:
    """One button per class in the list: its number and when (the details are in the text above)."""
    rows = [
        [
            ui.button(
                t._("{number}. {when}", number=str(n), when=texts.when(t, lesson)),
                ClassCb(action="show", lesson=lesson.id),
            )
        ]
        for n, lesson in enumerate(lessons, start=1)
    ]
    return ui.keyboard(*rows, _back(t))


def make_no_classes_keyboard(t: Translator, nothing: NoClassesNear) -> InlineKeyboardMarkup:
    """The one step that brings news of classes (choosing the village, following it), then the menu."""
    if nothing.village is None:
        return ui.keyboard([ui.button(t._("🏡 My village"), MenuCb(item="village"))], [ui.back_to_menu(t)])
    if not nothing.following:
        return ui.keyboard([places_keyboards.follow_button(t, nothing.village.code)], [ui.back_to_menu(t)])
    return ui.keyboard([ui.back_to_menu(t)])


def make_card_keyboard(t: Translator, card: ClassCard) -> InlineKeyboardMarkup:
    lesson = card.lesson
    rows = [[cancel_button(t, b.id, b.state, b.attendee_name)] for b in card.mine]
    if card.open:
        if not card.booked_myself:
            free = lesson.taken < lesson.capacity
            label = t._("🙋 Book for me") if free else t._("🙋 Waiting list for me")
            rows.append([ui.button(label, BookCb(lesson=lesson.id, who="me"))])
        rows.append([ui.button(t._("👵 Book for a relative"), BookCb(lesson=lesson.id, who="relative"))])
    if card.has_seat:
        rows.append([ui.button(t._("📅 Add to calendar"), ClassCb(action="ics", lesson=lesson.id))])
    rows.append([ui.button(t._("⬅️ All classes"), ClassCb(action="list")), ui.back_to_menu(t)])
    return ui.keyboard(*rows)


def cancel_button(
    t: Translator, booking_id: int, state: BookingState, attendee: str | None
) -> InlineKeyboardButton:
    """«✖️ Cancel my booking», or a relative's, drawn for the booking's state now."""
    data = CancelCb(booking=booking_id, state=state)
    if attendee:
        return ui.button(named(lambda who: t._("✖️ Cancel: {who}", who=who), attendee), data)
    return ui.button(t._("✖️ Cancel my booking"), data)


def make_age_keyboard(t: Translator, lesson_id: int, who: str) -> InlineKeyboardMarkup:
    # One a row: three side by side, a phone cuts «60 лет и старше» / «60 жастан бастап».
    ages = [
        [
            ui.button(
                t._(texts.AGE_NAMES[age]),
                BookCb(lesson=lesson_id, who="me" if who == "me" else "relative", age=age),
            )
        ]
        for age in AGE_GROUPS
    ]
    return ui.keyboard(*ages, [ui.button(t._("⬅️ Back"), ClassCb(action="show", lesson=lesson_id))])


def make_cancel_question_keyboard(t: Translator, booking: Booking) -> InlineKeyboardMarkup:
    confirm = CancelCb(booking=booking.id, state=booking.state, confirmed=True)
    return ui.keyboard(
        [ui.button(t._("✖️ Yes, cancel the booking"), confirm)],
        [ui.button(t._("⬅️ No, keep it"), ClassCb(action="show", lesson=booking.class_id))],
    )


def make_offer_keyboard(t: Translator, booking_id: int, *, relative: bool) -> InlineKeyboardMarkup:
    yes = t._("✅ Yes, confirm the seat") if relative else t._("✅ Yes, I will come")
    return ui.keyboard(
        [
            ui.button(yes, OfferCb(booking=booking_id, accept=True)),
            ui.button(t._("✖️ No, thanks"), OfferCb(booking=booking_id, accept=False)),
        ]
    )


def make_reminder_keyboard(t: Translator, booking_id: int, *, relative: bool) -> InlineKeyboardMarkup:
    label = t._("✖️ Cancel the booking") if relative else t._("✖️ I cannot come")
    return ui.keyboard([ui.button(label, CancelCb(booking=booking_id, state="booked"))])


def make_moved_keyboard(
    t: Translator, lesson_id: int, bookings: Sequence[tuple[int, BookingState, str | None]]
) -> InlineKeyboardMarkup:
    """«Class moved»: the new calendar file, and the way to cancel (one booking, or the card for several).

    ``bookings`` are the reader's (id, state, relative's name or None).
    """
    rows = [[ui.button(t._("📅 New calendar file"), ClassCb(action="ics", lesson=lesson_id))]]
    if len(bookings) == 1:
        rows.append([cancel_button(t, *bookings[0])])
    else:
        rows.append([ui.button(t._("🎓 Open the class"), ClassCb(action="show", lesson=lesson_id))])
    return ui.keyboard(*rows)


def make_new_class_keyboard(t: Translator, lesson_id: int) -> InlineKeyboardMarkup:
    return ui.keyboard(
        [ui.button(t._("🎓 See the class and book"), ClassCb(action="show", lesson=lesson_id))]
    )


# --- trainers: scheduling ----------------------------------------------------------------------------
def make_trainer_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return ui.keyboard(
        [ui.button(t._("➕ New class"), NewClassCb(step="start"))],
        [ui.button(t._("📋 My classes"), TrainerCb(action="mine"))],
        [ui.button(t._("📊 Statistics"), TrainerCb(action="numbers"))],
        _back(t),
    )


def make_village_keyboard(t: Translator, found: Sequence[Place]) -> InlineKeyboardMarkup:
    """The villages matching what the trainer typed, then search again and menu (the places' list)."""
    return places_keyboards.make_village_choice_keyboard(
        t, found, lambda code: VillageCb(village=code), VillageCb()
    )


def day_label(t: Translator, day: date) -> str:
    return t.date(day, "EEEE, d MMMM")


def make_day_keyboard(
    t: Translator, days: Sequence[date], lesson_id: int | None = None
) -> InlineKeyboardMarkup:
    """The next days, one a row: for a new class, or (``lesson_id``) for a class being moved."""
    rows = []
    for day in days:
        data: CallbackData = WhenCb(day=day) if lesson_id is None else ChangeCb(lesson=lesson_id, day=day)
        rows.append([ui.button(day_label(t, day), data)])
    return ui.keyboard(*rows, [ui.cancel_button(t)])


def make_time_keyboard(t: Translator, day: date, lesson_id: int | None = None) -> InlineKeyboardMarkup:
    times = [
        ui.button(
            when.time_label(hhmm),
            WhenCb(day=day, time=hhmm)
            if lesson_id is None
            else ChangeCb(lesson=lesson_id, day=day, time=hhmm),
        )
        for hhmm in when.TIMES
    ]
    return ui.keyboard(times, [ui.cancel_button(t)])


def make_length_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return ui.keyboard(
        [ui.button(t._("{n} min", n=minutes), LengthCb(minutes=minutes)) for minutes in LENGTHS],
        [ui.cancel_button(t)],
    )


def make_topic_keyboard(t: Translator) -> InlineKeyboardMarkup:
    rows = [[ui.button(t._(texts.TOPIC_NAMES[topic]), TopicCb(topic=topic))] for topic in TOPICS]
    return ui.keyboard(*rows, [ui.cancel_button(t)])


def make_language_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return ui.keyboard(
        [ui.button(texts.language(t, code).capitalize(), TongueCb(language=code)) for code in ("kk", "ru")],
        [ui.cancel_button(t)],
    )


def make_seats_keyboard(t: Translator, lesson_id: int | None = None) -> InlineKeyboardMarkup:
    seats = [
        ui.button(str(n), SeatsCb(seats=n) if lesson_id is None else ChangeCb(lesson=lesson_id, seats=n))
        for n in CAPACITIES
    ]
    return ui.keyboard(seats, [ui.cancel_button(t)])


def make_save_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return ui.keyboard([ui.button(t._("✅ Save"), NewClassCb(step="save"))], [ui.cancel_button(t)])


# --- trainers: the register --------------------------------------------------------------------------
def make_my_classes_keyboard(t: Translator, lessons: Sequence[Lesson]) -> InlineKeyboardMarkup:
    rows = [
        [
            ui.button(
                t._("{number}. {when}", number=str(n), when=texts.when(t, lesson)),
                TrainerCb(action="roster", lesson=lesson.id),
            )
        ]
        for n, lesson in enumerate(lessons, start=1)
    ]
    return ui.keyboard(*rows, [ui.button(t._("➕ New class"), NewClassCb(step="start")), ui.back_to_menu(t)])


ROSTER_AGES = {"under30": "<30", "30to59": "30–59", "60plus": "60+"}  # the same in both languages
ROSTER_LABEL = 28  # what one full-width button shows whole on a phone


def roster_label(entry: RosterEntry) -> str:
    """«✅ Айгүл Серікова (60+)»: the mark, the name (shortened if it must be), the age group in
    figures, so the whole label stays readable on a phone."""
    mark, age = MARKS[entry.booking.attendance], ROSTER_AGES[entry.booking.age_group]
    label = f"{mark} {entry.name} ({age})"
    if len(label) <= ROSTER_LABEL:
        return label
    room = ROSTER_LABEL - (len(label) - len(entry.name)) - 1  # and the "…"
    words = entry.name.split()
    kept = next((words[:n] for n in range(len(words), 0, -1) if len(" ".join(words[:n])) <= room), [])
    name = " ".join(kept) + "…" if kept else ui.shorten(entry.name, max(room + 1, 4))
    return f"{mark} {name} ({age})"


def make_roster_keyboard(
    t: Translator, lesson: Lesson, entries: Sequence[RosterEntry], *, register_open: bool, changeable: bool
) -> InlineKeyboardMarkup:
    rows = [
        [ui.button(roster_label(entry), TrainerCb(action="mark", lesson=lesson.id, booking=entry.booking.id))]
        for entry in entries[:80]
    ]
    if register_open:
        rows += _pairs(
            ui.button(t._("➕ Walk-in"), WalkInCb(lesson=lesson.id)),
            ui.button(t._("🏁 Close the class"), TrainerCb(action="close", lesson=lesson.id)),
        )
    if changeable:
        rows += _pairs(
            ui.button(t._("🕐 New time"), ChangeStartCb(lesson=lesson.id, what="time")),
            ui.button(t._("📍 New place"), ChangeStartCb(lesson=lesson.id, what="venue")),
            ui.button(t._("🪑 Seats"), ChangeStartCb(lesson=lesson.id, what="seats")),
        )
        rows.append([ui.button(t._("✖️ Cancel the class"), TrainerCb(action="cancel", lesson=lesson.id))])
    rows += _pairs(ui.button(t._("⬅️ My classes"), TrainerCb(action="mine")), ui.back_to_menu(t))
    return ui.keyboard(*rows)


def make_close_question_keyboard(t: Translator, lesson_id: int) -> InlineKeyboardMarkup:
    return ui.keyboard(
        [ui.button(t._("🏁 Yes, close"), TrainerCb(action="close", lesson=lesson_id, confirmed=True))],
        [ui.button(t._("⬅️ Back"), TrainerCb(action="roster", lesson=lesson_id))],
    )


def make_cancel_class_keyboard(t: Translator, lesson_id: int) -> InlineKeyboardMarkup:
    return ui.keyboard(
        [
            ui.button(
                t._("✖️ Yes, cancel the class"), TrainerCb(action="cancel", lesson=lesson_id, confirmed=True)
            )
        ],
        [ui.button(t._("⬅️ Back"), TrainerCb(action="roster", lesson=lesson_id))],
    )


def make_walk_in_age_keyboard(t: Translator, lesson_id: int) -> InlineKeyboardMarkup:
    ages = [ui.button(t._(texts.AGE_NAMES[age]), WalkInCb(lesson=lesson_id, age=age)) for age in AGE_GROUPS]
    return ui.keyboard(*_pairs(*ages), [ui.cancel_button(t)])


def make_done_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return ui.keyboard(*_pairs(ui.button(t._("📋 My classes"), TrainerCb(action="mine")), ui.back_to_menu(t)))
