"""The words of the classes feature: label tables, refusals by code, and small functions that word a value."""

from __future__ import annotations

from collections.abc import Sequence

from bot import ui
from bot.classes.service import (
    AreaNumbers,
    ClassCard,
    ClassError,
    MyClasses,
    NewClassDraft,
    NoClassesNear,
    Roster,
    Scheduled,
    Summary,
)
from bot.core import texts as core
from bot.i18n import N_, Translator
from db.classes import Booking, Lesson

TOPIC_NAMES: dict[str, str] = {
    "smartphone": N_("Smartphone basics"),
    "egov": N_("eGov services"),
    "safety": N_("Online safety and fraud"),
    "kundelik": N_("Kundelik for parents"),
    "payments": N_("Online payments"),
}
AGE_NAMES: dict[str, str] = {
    "under30": N_("under 30"),
    "30to59": N_("30–59"),
    "60plus": N_("60 and older"),
}
# The language a class is taught in, named in the reader's language («орысша» in Kazakh).
LANGUAGE_NAMES: dict[str, str] = {"kk": N_("Kazakh"), "ru": N_("Russian")}

ERRORS: dict[str, str] = {
    "in_the_past": N_("That time has already passed. Choose a time in the future."),
    "bad_capacity": N_("The number of seats must be between 1 and 200."),
    "bad_venue": N_("The venue should be 2 to 100 characters."),
    "unknown_village": N_("I could not find that village. Try the search again."),
    "village_outside_area": core.OUTSIDE_AREA,
    "outside_area": N_("This class is outside your area."),
    "not_open": N_("This class is no longer open."),
    "already_started": N_("This class has already started."),
    "cancel_started": N_("This class has already started: close its register instead."),
    "register_not_open": N_("The register opens when the class starts: {when}."),
    "register_closed": N_("This class has taken place and its register is closed."),
    "not_your_booking": N_("This booking is not yours or is already cancelled."),
    "booking_changed": N_("This message is out of date: the booking has changed since. Here it is now."),
    "offer_expired": N_("Sorry, the time to confirm this seat has passed."),
    "not_your_class": N_("This is another trainer's class."),
    "not_booked": N_("This person is not on the roster."),
    "bad_name": N_("Please type a name of 2 to 80 characters."),
    "already_booked": N_("This person is already booked for this class: {name}."),
    "below_booked": N_("More people are already booked than that. Choose a bigger number."),
    "bad_choice": core.STALE_BUTTON,
}


def error_text(t: Translator, error: ClassError) -> str:
    """A refusal in the person's words, with the real reason."""
    if error.code == "not_trainer":
        return t._(core.ONLY_FOR_ROLE, role=t._(core.ROLE_NAMES["trainer"]))
    if error.code == "relatives_per_class":
        return t.n_(
            "You can book at most {n} relative for one class.",
            "You can book at most {n} relatives for one class.",
            int(error.params["n"]),
        )
    if error.code == "relatives_per_week":
        return t.n_(
            "You can book at most {n} relative for the classes of one week.",
            "You can book at most {n} relatives for the classes of one week.",
            int(error.params["n"]),
        )
    return t._(ERRORS.get(error.code, core.SOMETHING_WENT_WRONG), **error.params)


def topic(t: Translator, lesson: Lesson) -> str:
    return t._(TOPIC_NAMES[lesson.topic])


def language(t: Translator, code: str) -> str:
    return t._(LANGUAGE_NAMES[code])


def when(t: Translator, lesson: Lesson) -> str:
    return t.datetime(lesson.starts_at, "d MMMM, HH:mm")


def seats_line(t: Translator, lesson: Lesson) -> str:
    free = lesson.capacity - lesson.taken
    if free > 0:
        return t.n_("{n} seat left", "{n} seats left", free)
    return t.n_(
        "No seats left; {n} person is waiting.", "No seats left; {n} people are waiting.", lesson.waiting
    )


def list_line(t: Translator, number: int, lesson: Lesson) -> str:
    """One class in the list: what, when, where, in which language, and the seats."""
    free = lesson.capacity - lesson.taken
    seats = t.n_("{n} seat left", "{n} seats left", free) if free > 0 else t._("waiting list")
    return t._(
        "{number}. «{topic}», {when}, {village}. Language: {language}. {seats}",
        number=str(number),
        topic=topic(t, lesson),
        when=when(t, lesson),
        village=lesson.village(t.language),
        language=language(t, lesson.language),
        seats=seats,
    )


def booking_line(t: Translator, booking: Booking) -> str:
    """Where a booking stands, worded for one's own booking or a relative's."""
    who = booking.attendee_name
    if booking.state == "booked":
        return t._("✅ Booked: {who}", who=who) if who else t._("✅ You are booked")
    if booking.state == "offered":
        if who:
            return t._("🎟 A seat is offered to {who}: confirm it in the message above.", who=who)
        return t._("🎟 A seat is offered to you: confirm it in the message above.")
    return t._("⏳ On the waiting list: {who}", who=who) if who else t._("⏳ You are on the waiting list")


def booked_notice(t: Translator, booking: Booking) -> str:
    """The word on the button after booking."""
    who = booking.attendee_name
    if booking.state == "booked":
        return t._("Booked: {who}.", who=who) if who else t._("You are booked.")
    return t._("On the waiting list: {who}.", who=who) if who else t._("You are on the waiting list.")


# --- whole screens ------------------------------------------------------------------------------------
MAX_LISTED = 10


def list_text(t: Translator, lessons: Sequence[Lesson]) -> str:
    lines = [t._("🎓 Free classes: choose one to see the details.")]
    lines += [list_line(t, n, lesson) for n, lesson in enumerate(lessons, start=1)]
    return ui.fit(lines)


def no_classes_text(t: Translator, nothing: NoClassesNear) -> str:
    """No class to book: what would bring news of one, unless it already does."""
    if nothing.village is None:
        return t._("No classes are planned yet. Choose your village: I will show the classes near it.")
    village = nothing.village.name(t.language)
    if nothing.following:
        return t._(
            "No classes are planned near {village} yet. You follow its news: I will tell you when one is.",
            village=village,
        )
    return t._(
        "No classes are planned near {village} yet. Follow its news: I will tell you when one is.",
        village=village,
    )


def card_text(t: Translator, card: ClassCard, head: str | None = None) -> str:
    """A class as a resident sees it: what, when, where, the language, seats, and their bookings."""
    lesson = card.lesson
    lines = [head, ""] if head else []
    lines += [
        t._("🎓 <b>{topic}</b>", topic=topic(t, lesson)),
        t._("When: {when}, {minutes} min", when=when(t, lesson), minutes=lesson.minutes),
        t._("Where: {venue}, {village}", venue=lesson.venue, village=lesson.village(t.language)),
        t._("Language: {name}", name=language(t, lesson.language)),
    ]
    if card.open:
        lines.append(seats_line(t, lesson))
    lines += [booking_line(t, booking) for booking in card.mine]
    return "\n".join(lines)


def cancel_question(t: Translator, booking: Booking, lesson: Lesson) -> str:
    lines = [
        t._("Cancel the booking?"),
        t._("«{topic}», {when}, {venue} ({village})", topic=topic(t, lesson), when=when(t, lesson),
            venue=lesson.venue, village=lesson.village(t.language)),
    ]  # fmt: skip
    if booking.attendee_name:
        lines.append(t._("Booked for: {name}.", name=booking.attendee_name))
    return "\n".join(lines)


def new_class_summary(t: Translator, draft: NewClassDraft) -> str:
    assert draft.starts is not None and draft.topic and draft.language and draft.capacity is not None
    return "\n".join(
        [
            t._("<b>Check and save</b>"),
            t._("Where: {venue}, {village}", venue=draft.venue or "", village=draft.village_name(t.language)),
            t._(
                "When: {when}, {minutes} min",
                when=t.datetime(draft.starts, "d MMMM, HH:mm"),
                minutes=draft.minutes,
            ),
            t._("Topic: {topic}", topic=t._(TOPIC_NAMES[draft.topic])),
            t._("Language: {name}", name=language(t, draft.language)),
            t.n_("{n} seat", "{n} seats", draft.capacity),
        ]
    )


def scheduled_text(t: Translator, scheduled: Scheduled) -> str:
    lines = [
        t._(
            "✅ Class No. {number} is scheduled. Residents can book it in /classes.",
            number=str(scheduled.lesson.id),
        )
    ]
    if scheduled.followers_told:
        lines.append(
            t.n_(
                "{n} follower of the village is told.",
                "{n} followers of the village are told.",
                scheduled.followers_told,
            )
        )
    return "\n".join(lines)


def my_classes_text(t: Translator, mine: MyClasses) -> str:
    if not mine.lessons:
        return t._("You have no scheduled classes. /newclass schedules one.")
    lines = [t._("📋 Classes in your area") if mine.whole_area else t._("📋 My classes")]
    lines += [list_line(t, n, lesson) for n, lesson in enumerate(mine.lessons, start=1)]
    return ui.fit(lines)


def roster_text(t: Translator, roster: Roster, head: str | None = None) -> str:
    lesson = roster.lesson
    lines = [head, ""] if head else []
    lines += [
        t._("📋 <b>{topic}</b>, {when}", topic=topic(t, lesson), when=when(t, lesson)),
        t._("Where: {venue}, {village}", venue=lesson.venue, village=lesson.village(t.language)),
    ]
    if lesson.state == "closed":
        lines.append(t._("The register is closed."))
    elif roster.open:
        lines.append(
            t.n_(
                "{n} person booked; tap a name to mark present or absent.",
                "{n} people booked; tap a name to mark present or absent.",
                len(roster.entries),
            )
        )
    else:
        lines.append(t.n_("{n} person booked.", "{n} people booked.", len(roster.entries)))
        lines.append(t._("The register opens when the class starts."))
    return "\n".join(lines)


def closed_text(t: Translator, summary: Summary) -> str:
    return "\n".join(
        [
            t._("🏁 The class is closed."),
            t._("Present: {n}", n=summary.present),
            t._("Did not come: {n}", n=summary.no_shows),
            t._("Aged 60 and older: {n}", n=summary.seniors),
            t._("Walk-ins: {n}", n=summary.walk_ins),
        ]
    )


def numbers_text(t: Translator, found: dict[str, list[AreaNumbers]], *, whole_area: bool) -> str:
    lines = [t._("📊 <b>Classes in your area</b>") if whole_area else t._("📊 <b>My classes</b>")]
    if not found.get("region"):
        lines.append(t._("No closed classes yet."))
    headings = {"region": t._("By region"), "district": t._("By district"), "village": t._("By village")}
    for level, heading in headings.items():
        if found.get(level):
            lines += ["", f"<b>{heading}</b>"]
            for item in found[level][:10]:
                lines.append(
                    t._(
                        "{name}: {trained} trained, {seniors} of them aged 60+ ({share}%), attendance {rate}%",
                        name=item.name(t.language) or item.code,
                        trained=item.trained,
                        seniors=item.seniors,
                        share=round(item.senior_share * 100),
                        rate=round(item.attendance_rate * 100),
                    )
                )
    return ui.fit(lines)
