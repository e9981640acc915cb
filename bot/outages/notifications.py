"""How outage news is worded: staff alerts (one message per incident and chat, edited in place),
photos and map pins under them, and residents' updates.

Every alert, detail and escalation is drawn by :func:`render_incident` from the same parameters, so
the staff group, each engineer's private alert and an open ``/outages`` detail show one state. A
group gets each language in turn (Kazakh first) unless an admin chose one; the residents' own words
and coordinates are written once, below.

Photos, map pins and messages that answer an earlier one use :class:`bot.notify.Rendered`'s
``photo``, ``location`` and ``reply_to_slot``: the outbox sends them as a photo, a map pin, a reply.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot import ui
from bot.config import Language
from bot.i18n import N_, Translator, translator
from bot.notify import Rendered, renderer
from bot.outages import keyboards, texts


def _languages(params: Mapping[str, Any]) -> tuple[Language, ...] | None:
    found = params.get("languages")
    return tuple(found) if found else None


def _incident_lines(t: Translator, params: Mapping[str, Any]) -> list[str]:
    """What an alert says, in one language."""
    lines = []
    if params.get("post") == "escalated":
        lines.append(
            t.n_(
                "⏰ Nobody has taken this outage for {n} minute.",
                "⏰ Nobody has taken this outage for {n} minutes.",
                int(params.get("minutes", 0)),
            )
        )
    if params.get("mass"):
        lines.append(t._("🚨 Mass outage"))
    lines += [
        t._("⚠️ <b>Outage: {village}</b>", village=t.pick(params["village"])),
        t.pick(params["district"]),
        t._("What: {kind}", kind=t._(texts.KIND_NAMES[str(params["kind"])])),
        t._("Since: {since}", since=t._(texts.SINCE_NAMES[str(params["since"])])),
        t.n_("{n} report", "{n} reports", int(params["reports"])),
        t._("Opened: {time}", time=t.datetime(datetime.fromisoformat(str(params["opened_at"])))),
        t._(
            "State: {state}",
            state=t._(texts.HISTORY_NAMES["closed"])
            if params.get("withdrawn")
            else t._(texts.STATE_NAMES[str(params["state"])]),
        ),
    ]
    if params.get("taken_by_name") and params["state"] != "open":
        lines.append(t._("Engineer: {name}", name=str(params["taken_by_name"])))
    if params.get("resolution"):
        lines.append(t._("Result: {result}", result=t._(texts.RESOLUTION_NAMES[str(params["resolution"])])))
    if params.get("reopened") and params["state"] != "resolved":
        lines.append(t._("⚠️ Reopened: residents say it still does not work."))
    return lines


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def map_link(latitude: float, longitude: float) -> str:
    """Coordinates that open a map when tapped."""
    return (
        f'<a href="https://www.openstreetmap.org/?mlat={latitude:.5f}&amp;mlon={longitude:.5f}'
        f'#map=17/{latitude:.5f}/{longitude:.5f}">{latitude:.5f}, {longitude:.5f}</a>'
    )


def _residents_lines(
    t: Translator, params: Mapping[str, Any], languages: Sequence[Language] | None
) -> list[str]:
    """What residents showed, in their own words: the same in every language."""
    lines: list[str] = []
    for item in params.get("texts", []):
        mark = "➕" if item.get("later") else "💬"
        lines.append(f"{mark} {item['number']}: «{_escape(str(item['text']))}»")
    if params.get("more_texts"):
        lines.append(f"💬 … +{int(params['more_texts'])}")
    if params.get("photos"):
        lines.append(f"📷 × {int(params['photos'])}")
    for latitude, longitude, number in params.get("locations", []):
        lines.append(f"📍 {number}: {map_link(float(latitude), float(longitude))}")
    for number, phone in params.get("phones", []):
        lines.append(f"📱 {number}: {_escape(str(phone))}")
    for item in params.get("questions", []):
        lines.append(f"❓ {item['number']}: «{_escape(str(item['question']))}»")
        if item.get("answer"):
            lines.append(f"💬 {item['number']}: «{_escape(str(item['answer']))}»")
    return lines


def incident_text(t: Translator, params: Mapping[str, Any]) -> str:
    languages = _languages(params)
    lines: list[str] = []
    for reader in [translator(language) for language in languages] if languages else [t]:
        if lines:
            lines.append("")
        lines += _incident_lines(reader, params)
    residents = _residents_lines(t, params, languages)
    if residents:
        lines += ["", *residents]
    return ui.fit(lines)


def render_incident(t: Translator, params: Mapping[str, Any]) -> Rendered:
    markup = keyboards.make_staff_keyboard(
        t,
        int(params["incident"]),
        "resolved" if params.get("withdrawn") else str(params["state"]),
        languages=_languages(params),
        view=params.get("post") == "view",
    )
    return Rendered(incident_text(t, params), markup, reply_to_slot=params.get("reply_to"))


@renderer("outage.alert")
def alert(t: Translator, params: Mapping[str, Any]) -> Rendered:
    return render_incident(t, params)


@renderer("outage.escalated")
def escalated(t: Translator, params: Mapping[str, Any]) -> Rendered:
    return render_incident(t, {**params, "post": "escalated"})


def _caption(t: Translator, params: Mapping[str, Any], message: str) -> str:
    languages = _languages(params)
    readers = [translator(language) for language in languages] if languages else [t]
    return " · ".join(reader._(message, number=str(params["number"])) for reader in readers)


@renderer("outage.photo")
def photo(t: Translator, params: Mapping[str, Any]) -> Rendered:
    return Rendered(
        _caption(t, params, N_("📷 Photo from report {number}")),
        photo=str(params["photo"]),
        reply_to_slot=params.get("reply_to"),
    )


@renderer("outage.location")
def location(t: Translator, params: Mapping[str, Any]) -> Rendered:
    latitude, longitude = (float(value) for value in params["location"])
    return Rendered(
        _caption(t, params, N_("📍 Location from report {number}")) + "\n" + map_link(latitude, longitude),
        location=(latitude, longitude),
        reply_to_slot=params.get("reply_to"),
    )


@renderer("outage.state")
def state_changed(t: Translator, params: Mapping[str, Any]) -> Rendered:
    return Rendered(
        t._(
            "Ticket {number} ({village}): {state}.",
            number=str(params["number"]),
            village=t.pick(params["village"]),
            state=t._(texts.STATE_NAMES[str(params["state"])]),
        )
    )


@renderer("outage.resolved")
def resolved(t: Translator, params: Mapping[str, Any]) -> Rendered:
    text = t._(
        "Ticket {number} ({village}): resolved — {result}. Is it working now?",
        number=str(params["number"]),
        village=t.pick(params["village"]),
        result=t._(texts.RESOLUTION_NAMES[str(params["resolution"] or "other")]),
    )
    return Rendered(text, keyboards.make_fixed_keyboard(t, int(params["incident"])))


@renderer("outage.reopened")
def reopened(t: Translator, params: Mapping[str, Any]) -> Rendered:
    return Rendered(
        t._(
            "Ticket {number} ({village}) is open again: engineers are informed.",
            number=str(params["number"]),
            village=t.pick(params["village"]),
        )
    )


def question_text(t: Translator, params: Mapping[str, Any]) -> str:
    return t._(
        "❓ An engineer asks about your ticket {number} ({village}):\n«{question}»",
        number=str(params["number"]),
        village=t.pick(params["village"]),
        question=str(params["question"]),
    )


@renderer("outage.question")
def question(t: Translator, params: Mapping[str, Any]) -> Rendered:
    return Rendered(
        question_text(t, params) + "\n\n" + t._("Press «✍️ Answer» and write your answer."),
        keyboards.make_question_keyboard(t, int(params["question_id"])),
    )


@renderer("outage.answer")
def answer(t: Translator, params: Mapping[str, Any]) -> Rendered:
    return Rendered(
        t._(
            "💬 The resident answered about {number} ({village}):\n«{answer}»\n\nYour question: «{question}»",
            number=str(params["number"]),
            village=t.pick(params["village"]),
            answer=str(params["answer"]),
            question=str(params["question"]),
        ),
        keyboards.make_answered_keyboard(t, int(params["incident"])),
    )
