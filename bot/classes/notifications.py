"""How class news is worded: reminders, a seat on offer, a cancelled class."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.classes.callbacks import CancelCb, OfferCb
from bot.i18n import N_, Translator
from bot.notify import Rendered, renderer

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


def when(t: Translator, params: Mapping[str, Any]) -> str:
    return t.datetime(datetime.fromisoformat(str(params["starts_at"])), "d MMMM, HH:mm")


def describe(t: Translator, params: Mapping[str, Any]) -> str:
    return t._(
        "«{topic}», {when}, {venue} ({village})",
        topic=t._(TOPIC_NAMES[str(params["topic"])]),
        when=when(t, params),
        venue=str(params["venue"]),
        village=t.pick(params["village"]),
    )


@renderer("class.reminder")
def reminder(t: Translator, params: Mapping[str, Any]) -> Rendered:
    head = t.n_(
        "⏰ In {n} hour: class {what}.",
        "⏰ In {n} hours: class {what}.",
        int(params["hours"]),
        what=describe(t, params),
    )
    if params.get("attendee"):
        head += "\n" + t._("Booked for: {name}.", name=str(params["attendee"]))
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t._("✖️ I cannot come"), callback_data=CancelCb(booking=int(params["booking"])).pack()
                )
            ]
        ]
    )
    return Rendered(head, markup)


@renderer("class.offer")
def offer(t: Translator, params: Mapping[str, Any]) -> Rendered:
    until = t.datetime(datetime.fromisoformat(str(params["until"])), "d MMMM, HH:mm")
    text = t._(
        "🎟 A seat is free: class {what}. Confirm by {until}, or it goes to the next person.",
        what=describe(t, params),
        until=until,
    )
    booking = int(params["booking"])
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t._("✅ Yes, I will come"), callback_data=OfferCb(booking=booking, accept=True).pack()
                ),
                InlineKeyboardButton(
                    t._("✖️ No, thanks"), callback_data=OfferCb(booking=booking, accept=False).pack()
                ),
            ]
        ]
    )
    return Rendered(text, markup)


@renderer("class.cancelled")
def cancelled(t: Translator, params: Mapping[str, Any]) -> Rendered:
    return Rendered(
        t._(
            "❌ The class {what} is cancelled. Sorry! See /classes for other dates.", what=describe(t, params)
        )
    )


@renderer("class.changed")
def changed(t: Translator, params: Mapping[str, Any]) -> Rendered:
    return Rendered(t._("📢 The class has moved: now {what}. Your booking stays.", what=describe(t, params)))
