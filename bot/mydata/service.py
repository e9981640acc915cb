"""Putting together a person's data as a readable JSON document (docs/managers.md).

It holds what is stored about the person and nothing of anybody else: their profile and language,
their village and the villages they follow, their outage reports with what they wrote and the ids of
their photos, their class bookings with the relatives they booked, their privacy consents, their
roles, and, for staff and trainers, what they logged or scheduled. Village names are given in the
person's language next to the codes.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from db import mydata
from db.database import Database

FORMAT_VERSION = 1


def _village(code: str | None, names: dict[str, tuple[str, str]], language: str) -> dict[str, Any] | None:
    if code is None:
        return None
    kk, ru = names.get(code, (code, code))
    return {"code": code, "name": kk if language == "kk" else ru}


async def collect(db: Database, user_id: int, language: str, now: datetime) -> dict[str, Any] | None:
    """Everything about ``user_id``; None when the bot has never met them."""
    async with db.read() as conn:
        account = await mydata.account(conn, user_id)
        if account is None:
            return None
        following = await mydata.following(conn, user_id)
        reports = await mydata.reports(conn, user_id)
        notes = await mydata.report_notes(conn, user_id)
        bookings = await mydata.bookings(conn, user_id)
        consents = await mydata.consents(conn, user_id)
        roles = await mydata.roles(conn, user_id)
        installations = await mydata.installations(conn, user_id)
        classes = await mydata.classes_taught(conn, user_id)
        drafts = await mydata.drafts(conn, user_id)
        optouts = await mydata.announcement_optouts(conn, user_id)
        written = await mydata.announcements_written(conn, user_id)
        codes = {
            account.get("village_code"),
            *(row["village_code"] for row in [*following, *reports, *installations, *classes, *optouts]),
            *(row["class_village"] for row in bookings),
        }
        names = await mydata.village_names(conn, sorted(code for code in codes if code))

    def village(code: str | None) -> dict[str, Any] | None:
        return _village(code, names, language)

    profile = {key: value for key, value in account.items() if key != "village_code"}
    profile["my_village"] = village(account.get("village_code"))
    return {
        "about": "AuylNet: everything stored about you",
        "format_version": FORMAT_VERSION,
        "made_at": now.isoformat(timespec="seconds"),
        "times": "UTC, ISO 8601",
        "profile": profile,
        "following": [
            {"village": village(row["village_code"]), "since": row["created_at"]} for row in following
        ],
        "announcements_stopped_for": [
            {"village": village(row["village_code"]), "since": row["created_at"]} for row in optouts
        ],
        "outage_reports": [
            {
                "ticket": f"AN-{row['id']:06d}",
                **{key: value for key, value in row.items() if key not in ("village_code", "user_id")},
                "village": village(row["village_code"]),
                "added": [
                    {key: value for key, value in note.items() if key != "report_id" and value is not None}
                    for note in notes
                    if note["report_id"] == row["id"]
                ],
            }
            for row in reports
        ],
        "class_bookings": [
            {
                "booked_for": row["attendee_name"] or "yourself",
                **{
                    key: value
                    for key, value in row.items()
                    if key not in ("class_village", "user_id", "attendee_name")
                },
                "class_village": village(row["class_village"]),
            }
            for row in bookings
        ],
        "privacy_consents": [
            {"at": row["at"], "action": row["action"], "detail": json.loads(row["detail"] or "{}")}
            for row in consents
        ],
        "roles": roles,
        "installations_logged": [
            {
                **{key: value for key, value in row.items() if key != "village_code"},
                "village": village(row["village_code"]),
            }
            for row in installations
        ],
        "classes_taught": [
            {
                **{key: value for key, value in row.items() if key != "village_code"},
                "village": village(row["village_code"]),
            }
            for row in classes
        ],
        "announcements_written": written,
        "unfinished_forms": [
            {"flow": row["flow"], "data": json.loads(row["data"]), "updated": row["updated"]}
            for row in drafts
        ],
    }


def as_file(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
