"""The calendar file of a class: one iCalendar (RFC 5545) event with a reminder, written by hand.

Times in UTC with ``Z``; text escaped (``\\``, ``;``, ``,``, newlines); CRLF line ends; lines folded
at 75 octets without splitting a UTF-8 character. The event's ``UID`` is the class's, so a calendar
that imports the file again after the class moved updates the event instead of adding a second one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from db.classes import Lesson

ALARM_BEFORE = timedelta(hours=2)


def calendar_file(
    lesson: Lesson,
    village_name: str,
    summary: str,
    now: datetime,
    *,
    description: str = "",
    alarm: str | None = None,
) -> bytes:
    """The .ics bytes: the event, its place and description, and a reminder two hours before."""
    ends = lesson.starts_at + timedelta(minutes=lesson.minutes)
    hours = int(ALARM_BEFORE.total_seconds()) // 3600
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//AuylNet//Classes//KK",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:class-{lesson.id}@auylnet",
        f"DTSTAMP:{_stamp(now)}",
        f"DTSTART:{_stamp(lesson.starts_at)}",
        f"DTEND:{_stamp(ends)}",
        f"SUMMARY:{_escape(summary)}",
        f"LOCATION:{_escape(lesson.venue + ', ' + village_name)}",
    ]
    if description:
        lines.append(f"DESCRIPTION:{_escape(description)}")
    lines += [
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        f"DESCRIPTION:{_escape(alarm or summary)}",
        f"TRIGGER:-PT{hours}H",
        "END:VALARM",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode("utf-8")


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    """Fold a content line into chunks of at most 75 octets, never splitting a character."""
    out: list[str] = []
    current = ""
    for char in line:
        limit = 75 if not out else 74  # continuation lines start with a space
        if len((current + char).encode("utf-8")) > limit:
            out.append(current)
            current = char
        else:
            current += char
    out.append(current)
    return "\r\n ".join(out)
