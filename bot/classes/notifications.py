"""How class news is worded when the outbox sends it, in the reader's language at that moment:
reminders, a seat on offer, a class cancelled, moved, or newly scheduled in a followed village."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.classes import keyboards, texts
from bot.i18n import Translator
from bot.notify import Rendered, renderer


def when(t: Translator, params: Mapping[str, Any]) -> str:
    return t.datetime(datetime.fromisoformat(str(params["starts_at"])), "d MMMM, HH:mm")


def describe(t: Translator, params: Mapping[str, Any]) -> str:
    """««Смартфон негіздері», 8 наурыз, 10:00, №1 мектеп (Шақат)»: what, when and where."""
    return t._(
        "«{topic}», {when}, {venue} ({village})",
        topic=t._(texts.TOPIC_NAMES[str(params["topic"])]),
        when=when(t, params),
        venue=str(params["venue"]),
        village=t.pick(params["village"]),
    )


def _for_whom(t: Translator, params: Mapping[str, Any]) -> str:
    return "\n" + t._("Booked for: {name}.", name=str(params["attendee"])) if params.get("attendee") else ""


@renderer("class.reminder")
def reminder(t: Translator, params: Mapping[str, Any]) -> Rendered:
    head = t.n_(
        "⏰ In {n} hour: class {what}.",
        "⏰ In {n} hours: class {what}.",
        int(params["hours"]),
        what=describe(t, params),
    )
    markup = keyboards.make_reminder_keyboard(
        t, int(params["booking"]), relative=bool(params.get("attendee"))
    )
    return Rendered(head + _for_whom(t, params), markup)


@renderer("class.offer")
def offer(t: Translator, params: Mapping[str, Any]) -> Rendered:
    until = t.datetime(datetime.fromisoformat(str(params["until"])), "d MMMM, HH:mm")
    text = t._(
        "🎟 A seat is free: class {what}. Confirm by {until}, or it goes to the next person.",
        what=describe(t, params),
        until=until,
    )
    markup = keyboards.make_offer_keyboard(t, int(params["booking"]), relative=bool(params.get("attendee")))
    return Rendered(text + _for_whom(t, params), markup)


@renderer("class.cancelled")
def cancelled(t: Translator, params: Mapping[str, Any]) -> Rendered:
    return Rendered(
        t._(
            "❌ The class {what} is cancelled. Sorry! See /classes for other dates.", what=describe(t, params)
        )
    )


@renderer("class.changed")
def changed(t: Translator, params: Mapping[str, Any]) -> Rendered:
    """The class moved: the new calendar file and the way to cancel come with the news."""
    bookings = [
        (int(entry["id"]), entry["state"], entry.get("attendee")) for entry in params.get("bookings", [])
    ]
    text = t._("📢 The class has moved: now {what}. Your booking stays.", what=describe(t, params))
    return Rendered(text, keyboards.make_moved_keyboard(t, int(params["class"]), bookings))


@renderer("class.new")
def scheduled(t: Translator, params: Mapping[str, Any]) -> Rendered:
    """A class was scheduled in a village the reader follows."""
    lines = [
        t._("🎓 A new free class in a village you follow: {what}.", what=describe(t, params)),
        t._("Language: {name}", name=texts.language(t, str(params.get("language", "kk")))),
        t.n_("{n} seat", "{n} seats", int(params.get("seats", 0))),
    ]
    return Rendered("\n".join(lines), keyboards.make_new_class_keyboard(t, int(params["class"])))
