"""The words of outages: label tables, refusals by code, and small functions that word a value."""

from __future__ import annotations

import html
from datetime import datetime

from bot.core import texts as core
from bot.i18n import N_, Translator
from bot.outages.service import Draft, ErrorCode, Filed, HistoryEvent, OutageError, TicketView

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
WITHDRAWN_STATE = N_("✖️ withdrawn")
RESOLUTION_NAMES: dict[str, str] = {
    "fixed": N_("fixed"),
    "power": N_("it was a power cut"),
    "not_ours": N_("not our network"),
    "duplicate": N_("duplicate"),
    "other": N_("other reason"),
}
HISTORY_NAMES: dict[HistoryEvent, str] = {
    "sent": N_("📨 you sent it"),
    "added": N_("➕ you added information"),
    "taken": N_("🙋 an engineer took it"),
    "in_progress": N_("🔧 repair started"),
    "resolved": N_("✅ resolved: {result}"),
    "reopened": N_("↩️ opened again"),
    "withdrawn": N_("✖️ you withdrew it"),
    "closed": N_("✖️ closed: every report was withdrawn"),
}
# Button labels for staff; in a group each is written in the group's languages (see keyboards.py).
TAKE = N_("Take it")
IN_PROGRESS = N_("In progress")
RESOLVED = N_("Resolved")
BACK = N_("Back")
BOTH_LANGUAGES = N_("Both languages")

ERRORS: dict[ErrorCode, str] = {
    "unknown_village": N_("I could not find that village. Try the search again."),
    "unknown_incident": N_("This outage no longer exists."),
    "unknown_report": N_("This report no longer exists."),
    "unknown_question": N_("This question no longer exists."),
    "bad_choice": core.STALE_BUTTON,
    "not_connected": N_("This has no internet yet, so there is nothing to report. Open /report again."),
    "too_many": N_("You have sent many reports in the last hour. You can send a new one after {time}."),
    "too_long": core.TOO_LONG,
    "too_many_photos": N_("That is enough photos for one report, thank you."),
    "not_your_report": N_("This is not your report."),
    "withdrawn": N_("This report was withdrawn."),
    "already_resolved": N_("This outage is already resolved."),
    "taken_by_other": N_("Another engineer has already taken this outage."),
    "not_staff": core.ONLY_FOR_ROLE,
    "outside_area": core.OUTSIDE_AREA,
    "already_answered": N_("You have already answered this question. Thank you!"),
    "not_own_contact": N_("Please press the button below the text field to share your own number."),
    "not_admin": N_("Only an administrator for the whole country can choose the staff group's language."),
    "not_a_group": N_("Use this command in the staff group."),
}


def error_text(t: Translator, error: OutageError, limit: int = 0) -> str:
    """A refusal in the person's language, with the real reason."""
    message = ERRORS.get(error.code, core.SOMETHING_WENT_WRONG)
    if error.code == "too_many" and error.until is not None:
        return t._(message, time=t.time(error.until))
    if error.code == "too_long":
        return t._(message, length=error.length or 0, limit=limit)
    if error.code == "not_staff":
        return t._(message, role=t._(core.ROLE_NAMES["staff"]))
    return t._(message)


def state_name(t: Translator, state: str, *, withdrawn: bool = False) -> str:
    return t._(WITHDRAWN_STATE) if withdrawn else t._(STATE_NAMES[state])


def window_text(t: Translator, year: int | None, quarter: int | None) -> str:
    """A village's planned date, as the rollout plan gives it."""
    if year is None:
        return t._("not set yet")
    if quarter is None:
        return t._("{year}", year=str(year))
    return t._("quarter {quarter} of {year}", quarter=str(quarter), year=str(year))


def moment(t: Translator, at: datetime) -> str:
    return t.datetime(at, "d MMMM, HH:mm")


def ticket_text(t: Translator, filed: Filed) -> str:
    """The receipt: number, date and time, what was reported, and who else reported it."""
    report, incident = filed.report, filed.incident
    if not filed.new:
        return t._(
            "You have already reported this: ticket {number}. State: {state}.",
            number=report.number,
            state=t._(STATE_NAMES[incident.state]),
        )
    lines = [
        t._(
            "✅ Ticket {number} accepted on {date}.", number=report.number, date=t.datetime(report.created_at)
        ),
        t._(
            "What: {kind}, {since}.", kind=t._(KIND_NAMES[report.kind]), since=t._(SINCE_NAMES[report.since])
        ),
    ]
    others = incident.reports - 1
    if others > 0:
        lines.append(
            t.n_(
                "{n} neighbour has reported this too; engineers are informed.",
                "{n} neighbours have reported this too; engineers are informed.",
                others,
            )
        )
    else:
        lines.append(t._("Engineers are informed."))
    lines.append(t._("I will tell you when something changes."))
    return "\n".join(lines)


def draft_contents(t: Translator, draft: Draft) -> str:
    """What a report being written carries so far: «your words, 2 photos, your location»."""
    parts = []
    if draft.texts:
        parts.append(t._("your words"))
    if draft.photos:
        parts.append(t.n_("{n} photo", "{n} photos", len(draft.photos)))
    if draft.location:
        parts.append(t._("your location"))
    return ", ".join(parts)


def ticket_view_text(t: Translator, view: TicketView) -> str:
    """/myreports, one ticket: what it is, where it stands, what I sent and what happened since."""
    report, incident = view.report, view.incident
    withdrawn = report.withdrawn_at is not None or incident.withdrawn_at is not None
    lines = [
        t._("<b>Ticket {number}</b>", number=report.number),
        t._(
            "{village}: {kind}, {since}",
            village=view.village.name(t.language),
            kind=t._(KIND_NAMES[report.kind]),
            since=t._(SINCE_NAMES[report.since]),
        ),
        t._("State: {state}", state=state_name(t, incident.state, withdrawn=withdrawn)),
    ]
    if incident.reports > 1 and not withdrawn:
        lines.append(t.n_("{n} report in all", "{n} reports in all", incident.reports))
    if report.phone:
        lines.append(t._("📱 The engineers may call you: {phone}", phone=report.phone))
    if view.notes:
        lines += ["", t._("What you sent:")]
        for note in view.notes:
            if note.text:
                lines.append(f"{'➕' if note.added_later else '💬'} «{html.escape(note.text, quote=False)}»")
            elif note.photo_file_id:
                lines.append(t._("📷 a photo"))
            else:
                lines.append(t._("📍 your location"))
    lines += ["", t._("History:")]
    for item in view.history:
        if item.event == "resolved":
            result = t._(RESOLUTION_NAMES.get(item.resolution or "other", RESOLUTION_NAMES["other"]))
            event = t._(HISTORY_NAMES["resolved"], result=result)
        else:
            event = t._(HISTORY_NAMES[item.event])
        lines.append(f"{moment(t, item.at)} — {event}")
    return "\n".join(lines)
