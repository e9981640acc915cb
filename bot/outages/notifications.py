"""How outage news is worded: staff alerts (edited in place) and residents' updates."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import N_, Translator
from bot.notify import Rendered, renderer
from bot.outages.callbacks import FixedCb, StaffCb

KIND_NAMES: dict[str, str] = {
    "home": N_("home internet"),
    "school": N_("the school"),
    "medical": N_("the medical post"),
    "akimat": N_("the akimat"),
    "village": N_("the whole village"),
    "mobile": N_("mobile internet"),
}
SINCE_NAMES: dict[str, str] = {
    "now": N_("just now"),
    "today": N_("since today"),
    "yesterday": N_("since yesterday"),
    "days": N_("for several days"),
}
STATE_NAMES: dict[str, str] = {
    "open": N_("🆕 new, engineers are informed"),
    "taken": N_("🙋 an engineer has taken it"),
    "in_progress": N_("🔧 repair in progress"),
    "resolved": N_("✅ resolved"),
}
RESOLUTION_NAMES: dict[str, str] = {
    "fixed": N_("fixed"),
    "power": N_("it was a power cut"),
    "not_ours": N_("not our network"),
    "duplicate": N_("duplicate"),
    "other": N_("other reason"),
}


def _button(label: str, data: StaffCb | FixedCb) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=data.pack())


def staff_keyboard(t: Translator, incident: int, state: str) -> InlineKeyboardMarkup | None:
    if state == "resolved":
        return None
    row = []
    if state == "open":
        row.append(_button(t._("🙋 Take it"), StaffCb(incident=incident, action="take")))
    if state in ("open", "taken"):
        row.append(_button(t._("🔧 In progress"), StaffCb(incident=incident, action="progress")))
    row.append(_button(t._("✅ Resolved"), StaffCb(incident=incident, action="resolve")))
    return InlineKeyboardMarkup([row])


def alert_text(t: Translator, params: Mapping[str, Any]) -> str:
    lines = []
    if params.get("mass"):
        lines.append(t._("🚨 Mass outage"))
    lines += [
        t._("⚠️ <b>Outage: {village}</b>", village=t.pick(params["village"])),
        t.pick(params["district"]),
        t._("What: {kind}", kind=t._(KIND_NAMES[str(params["kind"])])),
        t._("Since: {since}", since=t._(SINCE_NAMES[str(params["since"])])),
        t.n_("{n} report", "{n} reports", int(params["reports"])),
        t._("Opened: {time}", time=t.datetime(datetime.fromisoformat(str(params["opened_at"])))),
        t._("State: {state}", state=t._(STATE_NAMES[str(params["state"])])),
    ]
    if params.get("taken_by_name") and params["state"] != "open":
        lines.append(t._("Engineer: {name}", name=str(params["taken_by_name"])))
    if params.get("resolution"):
        lines.append(t._("Result: {result}", result=t._(RESOLUTION_NAMES[str(params["resolution"])])))
    if params.get("reopened"):
        lines.append(t._("⚠️ Reopened: residents say it still does not work."))
    return "\n".join(lines)


@renderer("outage.alert")
def alert(t: Translator, params: Mapping[str, Any]) -> Rendered:
    return Rendered(alert_text(t, params), staff_keyboard(t, int(params["incident"]), str(params["state"])))


@renderer("outage.escalated")
def escalated(t: Translator, params: Mapping[str, Any]) -> Rendered:
    head = t.n_(
        "⏰ Nobody has taken this outage for {n} minute.",
        "⏰ Nobody has taken this outage for {n} minutes.",
        int(params["minutes"]),
    )
    return Rendered(
        head + "\n\n" + alert_text(t, params),
        staff_keyboard(t, int(params["incident"]), str(params["state"])),
    )


@renderer("outage.state")
def state_changed(t: Translator, params: Mapping[str, Any]) -> Rendered:
    return Rendered(
        t._(
            "Ticket {number} ({village}): {state}.",
            number=str(params["number"]),
            village=t.pick(params["village"]),
            state=t._(STATE_NAMES[str(params["state"])]),
        )
    )


@renderer("outage.resolved")
def resolved(t: Translator, params: Mapping[str, Any]) -> Rendered:
    text = t._(
        "Ticket {number} ({village}): resolved — {result}. Is it working now?",
        number=str(params["number"]),
        village=t.pick(params["village"]),
        result=t._(RESOLUTION_NAMES[str(params["resolution"] or "other")]),
    )
    incident = int(params["incident"])
    keyboard = InlineKeyboardMarkup(
        [
            [
                _button(t._("👍 Yes, it works"), FixedCb(incident=incident, working=True)),
                _button(t._("👎 No, still down"), FixedCb(incident=incident, working=False)),
            ]
        ]
    )
    return Rendered(text, keyboard)


@renderer("outage.reopened")
def reopened(t: Translator, params: Mapping[str, Any]) -> Rendered:
    return Rendered(
        t._(
            "Ticket {number} ({village}) is open again: engineers are informed.",
            number=str(params["number"]),
            village=t.pick(params["village"]),
        )
    )
