"""Incidents, the reports (tickets) grouped into them, what residents added, and where staff see them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Literal

import aiosqlite
from pydantic import BaseModel, ConfigDict

from db.timestamps import from_db, to_db

Kind = Literal["home", "school", "medical", "akimat", "village", "mobile"]
KINDS: tuple[Kind, ...] = ("home", "school", "medical", "akimat", "village", "mobile")
Since = Literal["now", "today", "yesterday", "days"]
SINCE: tuple[Since, ...] = ("now", "today", "yesterday", "days")
State = Literal["open", "taken", "in_progress", "resolved"]
Resolution = Literal["fixed", "power", "not_ours", "duplicate", "other"]
RESOLUTIONS: tuple[Resolution, ...] = ("fixed", "power", "not_ours", "duplicate", "other")
Event = Literal["opened", "taken", "in_progress", "resolved", "reopened", "escalated", "withdrawn"]
PostKind = Literal["alert", "reopened", "escalated", "view"]


class Incident(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    village_code: str
    kind: Kind
    state: State
    opened_at: datetime
    taken_at: datetime | None = None
    taken_by: int | None = None
    resolved_at: datetime | None = None
    resolved_by: int | None = None
    resolution: Resolution | None = None
    reopened: int = 0
    escalated_at: datetime | None = None
    reopened_at: datetime | None = None
    withdrawn_at: datetime | None = None
    mass: bool = False
    version: int = 0
    reports: int = 0  # reports that count: not withdrawn
    first_since: Since = "now"

    @property
    def clock_start(self) -> datetime:
        """Where the times to take and to resolve run from: the opening, or the last reopening."""
        return self.reopened_at or self.opened_at


class Report(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    incident_id: int
    user_id: int
    village_code: str
    kind: Kind
    since: Since
    created_at: datetime
    withdrawn_at: datetime | None = None
    phone: str | None = None
    phone_shared_at: datetime | None = None

    @property
    def number(self) -> str:
        """The receipt number a resident quotes: short, unique, readable."""
        return ticket_number(self.id)


def ticket_number(report_id: int) -> str:
    return f"AN-{report_id:06d}"


class Note(BaseModel):
    """One piece a resident showed: words, a photo or a location."""

    model_config = ConfigDict(frozen=True)

    id: int
    report_id: int
    at: datetime
    added_later: bool = False
    text: str | None = None
    photo_file_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None


class IncidentEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: datetime
    event: Event
    actor_id: int | None = None
    resolution: Resolution | None = None


class Post(BaseModel):
    """A message that shows an incident in one chat (an outbox slot there)."""

    model_config = ConfigDict(frozen=True)

    incident_id: int
    chat_id: int
    slot: str
    kind: PostKind
    reply_to: str | None = None
    message_id: int | None = None


class Question(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    report_id: int
    asked_by: int
    asked_at: datetime
    question: str
    answer: str | None = None
    answered_at: datetime | None = None


class Ticket(BaseModel):
    """A line of /myreports: the report, its incident's state and the village's names."""

    model_config = ConfigDict(frozen=True)

    report: Report
    state: State
    resolution: Resolution | None
    closed_by_withdrawal: bool
    village_kk: str
    village_ru: str


class IncidentLine(BaseModel):
    """A line of /outages: the incident with its village's names."""

    model_config = ConfigDict(frozen=True)

    incident: Incident
    village_kk: str
    village_ru: str


_INCIDENT = (
    "SELECT i.*,"
    " (SELECT count(*) FROM reports r WHERE r.incident_id = i.id AND r.withdrawn_at IS NULL) AS reports,"
    " (SELECT r.since FROM reports r WHERE r.incident_id = i.id ORDER BY r.id LIMIT 1) AS first_since"
    " FROM incidents i"
)
_INCIDENT_MOMENTS = ("opened_at", "taken_at", "resolved_at", "escalated_at", "reopened_at", "withdrawn_at")


def _moment(value: str | None) -> datetime | None:
    return from_db(value) if value else None


def _incident(row: aiosqlite.Row) -> Incident:
    data = {key: row[key] for key in row.keys() if key in Incident.model_fields}
    for key in _INCIDENT_MOMENTS:
        data[key] = _moment(data.get(key))
    data["mass"] = bool(data["mass"])
    data["first_since"] = data.get("first_since") or "now"
    return Incident.model_validate(data)


def _report(row: aiosqlite.Row, prefix: str = "") -> Report:
    data = {name: row[prefix + name] for name in _REPORT_COLUMNS}
    for key in ("created_at", "withdrawn_at", "phone_shared_at"):
        data[key] = _moment(data[key])
    return Report.model_validate(data)


_REPORT_COLUMNS = (
    "id",
    "incident_id",
    "user_id",
    "village_code",
    "kind",
    "since",
    "created_at",
    "withdrawn_at",
    "phone",
    "phone_shared_at",
)
_REPORT = "SELECT " + ", ".join(_REPORT_COLUMNS) + " FROM reports"


def _note(row: aiosqlite.Row) -> Note:
    return Note(
        id=row["id"],
        report_id=row["report_id"],
        at=from_db(row["at"]),
        added_later=bool(row["added_later"]),
        text=row["text"],
        photo_file_id=row["photo_file_id"],
        latitude=row["latitude"],
        longitude=row["longitude"],
    )


def _question(row: aiosqlite.Row) -> Question:
    return Question(
        id=row["id"],
        report_id=row["report_id"],
        asked_by=row["asked_by"],
        asked_at=from_db(row["asked_at"]),
        question=row["question"],
        answer=row["answer"],
        answered_at=_moment(row["answered_at"]),
    )


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


# --- incidents -------------------------------------------------------------------------------------
async def get_incident(conn: aiosqlite.Connection, incident_id: int) -> Incident | None:
    async with conn.execute(f"{_INCIDENT} WHERE i.id = ?", (incident_id,)) as cursor:
        row = await cursor.fetchone()
    return _incident(row) if row else None


async def open_incident_for(conn: aiosqlite.Connection, village_code: str, kind: str) -> Incident | None:
    async with conn.execute(
        f"{_INCIDENT} WHERE i.village_code = ? AND i.kind = ? AND i.state != 'resolved'", (village_code, kind)
    ) as cursor:
        row = await cursor.fetchone()
    return _incident(row) if row else None


async def create_incident(conn: aiosqlite.Connection, village_code: str, kind: str, now: datetime) -> int:
    cursor = await conn.execute(
        "INSERT INTO incidents (village_code, kind, opened_at) VALUES (?, ?, ?)",
        (village_code, kind, to_db(now)),
    )
    assert cursor.lastrowid is not None
    await add_event(conn, cursor.lastrowid, "opened", now)
    return cursor.lastrowid


async def unresolved(conn: aiosqlite.Connection, scopes: list[str] | None = None) -> list[Incident]:
    """Open incidents, oldest first; ``scopes`` are KATO prefixes ('' for everywhere)."""
    return [line.incident for line in await unresolved_lines(conn, scopes)]


async def unresolved_lines(
    conn: aiosqlite.Connection,
    scopes: list[str] | None = None,
    *,
    area: str = "",
    taken_by: int | None = None,
) -> list[IncidentLine]:
    """Open incidents with their villages' names, oldest first, in one query.

    ``scopes``: KATO prefixes the reader covers ('' everywhere; None: no limit); ``area`` narrows to
    one region or district; ``taken_by`` to one engineer's.
    """
    where = ["i.state != 'resolved'", "substr(i.village_code, 1, length(?)) = ?"]
    params: list[object] = [area, area]
    if scopes is not None and "" not in scopes:
        if not scopes:
            return []
        where.append("(" + " OR ".join("substr(i.village_code, 1, length(?)) = ?" for _ in scopes) + ")")
        params += [value for scope in scopes for value in (scope, scope)]
    if taken_by is not None:
        where.append("i.taken_by = ?")
        params.append(taken_by)
    async with conn.execute(
        f"SELECT i.*, v.name_kk AS village_kk, v.name_ru AS village_ru FROM ({_INCIDENT}) AS i"
        f" JOIN villages v ON v.code = i.village_code WHERE {' AND '.join(where)} ORDER BY i.opened_at, i.id",
        params,
    ) as cursor:
        rows = await cursor.fetchall()
    return [
        IncidentLine(incident=_incident(row), village_kk=row["village_kk"], village_ru=row["village_ru"])
        for row in rows
    ]


async def update_incident(conn: aiosqlite.Connection, incident_id: int, **changes: object) -> None:
    """Change an incident; every call counts as a change staff should see (its version goes up)."""
    allowed = {
        "state",
        "taken_at",
        "taken_by",
        "resolved_at",
        "resolved_by",
        "resolution",
        "reopened",
        "escalated_at",
        "reopened_at",
        "withdrawn_at",
        "mass",
    }
    assert set(changes) <= allowed, changes
    values = [to_db(v) if isinstance(v, datetime) else v for v in changes.values()]
    assignments = "".join(f"{name} = ?, " for name in changes)
    await conn.execute(
        f"UPDATE incidents SET {assignments}version = version + 1 WHERE id = ?",
        (*values, incident_id),
    )


async def overdue_for_taking(conn: aiosqlite.Connection, opened_before: datetime) -> list[int]:
    async with conn.execute(
        "SELECT id FROM incidents WHERE state = 'open' AND escalated_at IS NULL"
        " AND coalesce(reopened_at, opened_at) < ?",
        (to_db(opened_before),),
    ) as cursor:
        return [row[0] for row in await cursor.fetchall()]


async def count_recent_reports(conn: aiosqlite.Connection, incident_id: int, since: datetime) -> int:
    async with conn.execute(
        "SELECT count(*) FROM reports WHERE incident_id = ? AND created_at >= ? AND withdrawn_at IS NULL",
        (incident_id, to_db(since)),
    ) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def district_incidents(conn: aiosqlite.Connection, district_code: str, since: datetime) -> list[int]:
    """Unresolved incidents opened recently in villages of one district."""
    async with conn.execute(
        "SELECT i.id FROM incidents i JOIN villages v ON v.code = i.village_code"
        " WHERE v.district_code = ? AND i.state != 'resolved' AND i.opened_at >= ?",
        (district_code, to_db(since)),
    ) as cursor:
        return [row[0] for row in await cursor.fetchall()]


async def villages_among(conn: aiosqlite.Connection, incident_ids: Sequence[int]) -> int:
    """How many different villages these incidents are in."""
    if not incident_ids:
        return 0
    async with conn.execute(
        f"SELECT count(DISTINCT village_code) FROM incidents WHERE id IN ({_marks(incident_ids)})",
        tuple(incident_ids),
    ) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def add_event(
    conn: aiosqlite.Connection,
    incident_id: int,
    event: Event,
    now: datetime,
    *,
    actor_id: int | None = None,
    resolution: str | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO incident_events (incident_id, at, event, actor_id, resolution) VALUES (?, ?, ?, ?, ?)",
        (incident_id, to_db(now), event, actor_id, resolution),
    )


async def events_of(conn: aiosqlite.Connection, incident_id: int) -> list[IncidentEvent]:
    async with conn.execute(
        "SELECT at, event, actor_id, resolution FROM incident_events WHERE incident_id = ? ORDER BY at, id",
        (incident_id,),
    ) as cursor:
        rows = await cursor.fetchall()
    return [
        IncidentEvent(at=from_db(row[0]), event=row[1], actor_id=row[2], resolution=row[3]) for row in rows
    ]


# --- reports ---------------------------------------------------------------------------------------
async def get_report(conn: aiosqlite.Connection, report_id: int) -> Report | None:
    async with conn.execute(f"{_REPORT} WHERE id = ?", (report_id,)) as cursor:
        row = await cursor.fetchone()
    return _report(row) if row else None


async def report_by_source(conn: aiosqlite.Connection, source_key: str) -> Report | None:
    async with conn.execute(f"{_REPORT} WHERE source_key = ?", (source_key,)) as cursor:
        row = await cursor.fetchone()
    return _report(row) if row else None


async def report_of(conn: aiosqlite.Connection, incident_id: int, user_id: int) -> Report | None:
    """This person's report of the incident, withdrawn or not."""
    async with conn.execute(
        f"{_REPORT} WHERE incident_id = ? AND user_id = ?", (incident_id, user_id)
    ) as cursor:
        row = await cursor.fetchone()
    return _report(row) if row else None


async def add_report(
    conn: aiosqlite.Connection,
    *,
    incident_id: int,
    user_id: int,
    village_code: str,
    kind: str,
    since: str,
    source_key: str,
    now: datetime,
) -> Report:
    cursor = await conn.execute(
        "INSERT INTO reports (incident_id, user_id, village_code, kind, since, created_at, source_key)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (incident_id, user_id, village_code, kind, since, to_db(now), source_key),
    )
    assert cursor.lastrowid is not None
    report = await get_report(conn, cursor.lastrowid)
    assert report is not None
    return report


async def withdraw_report(conn: aiosqlite.Connection, report_id: int, now: datetime) -> None:
    await conn.execute(
        "UPDATE reports SET withdrawn_at = ? WHERE id = ? AND withdrawn_at IS NULL", (to_db(now), report_id)
    )


async def reinstate_report(conn: aiosqlite.Connection, report_id: int, since: str) -> None:
    """A withdrawn report counts again (its author reported the same outage again)."""
    await conn.execute("UPDATE reports SET withdrawn_at = NULL, since = ? WHERE id = ?", (since, report_id))


async def set_phone(
    conn: aiosqlite.Connection, report_id: int, phone: str | None, now: datetime | None
) -> None:
    await conn.execute(
        "UPDATE reports SET phone = ?, phone_shared_at = ? WHERE id = ?",
        (phone, to_db(now) if now and phone else None, report_id),
    )


async def tickets_of(conn: aiosqlite.Connection, user_id: int, limit: int = 10) -> list[Ticket]:
    """A person's newest reports with their incidents' states and villages' names, in one query."""
    columns = ", ".join(f"r.{name} AS r_{name}" for name in _REPORT_COLUMNS)
    async with conn.execute(
        f"SELECT {columns}, i.state, i.resolution, i.withdrawn_at AS closed_at, v.name_kk, v.name_ru"
        " FROM reports r JOIN incidents i ON i.id = r.incident_id JOIN villages v ON v.code = r.village_code"
        " WHERE r.user_id = ? ORDER BY r.id DESC LIMIT ?",
        (user_id, limit),
    ) as cursor:
        rows = await cursor.fetchall()
    return [
        Ticket(
            report=_report(row, "r_"),
            state=row["state"],
            resolution=row["resolution"],
            closed_by_withdrawal=row["closed_at"] is not None,
            village_kk=row["name_kk"],
            village_ru=row["name_ru"],
        )
        for row in rows
    ]


async def reports_by_user(
    conn: aiosqlite.Connection, user_id: int, limit: int = 10
) -> list[tuple[Report, Incident]]:
    reports = [ticket.report for ticket in await tickets_of(conn, user_id, limit)]
    result = []
    for report in reports:
        incident = await get_incident(conn, report.incident_id)
        assert incident is not None
        result.append((report, incident))
    return result


async def reports_of_incident(conn: aiosqlite.Connection, incident_id: int) -> list[Report]:
    """Every report of the incident, withdrawn ones too, oldest first."""
    async with conn.execute(f"{_REPORT} WHERE incident_id = ? ORDER BY id", (incident_id,)) as cursor:
        return [_report(row) for row in await cursor.fetchall()]


async def reporters(conn: aiosqlite.Connection, incident_id: int) -> list[tuple[int, int]]:
    """(user id, report id) of everyone whose report counts and who has not blocked the bot."""
    async with conn.execute(
        "SELECT r.user_id, r.id FROM reports r JOIN users u ON u.id = r.user_id"
        " WHERE r.incident_id = ? AND r.withdrawn_at IS NULL AND u.blocked = 0 ORDER BY r.id",
        (incident_id,),
    ) as cursor:
        return [(row[0], row[1]) for row in await cursor.fetchall()]


async def reports_since(conn: aiosqlite.Connection, user_id: int, since: datetime) -> list[datetime]:
    async with conn.execute(
        "SELECT created_at FROM reports WHERE user_id = ? AND created_at >= ? ORDER BY created_at",
        (user_id, to_db(since)),
    ) as cursor:
        return [from_db(row[0]) for row in await cursor.fetchall()]


# --- what residents added --------------------------------------------------------------------------
async def add_note(
    conn: aiosqlite.Connection,
    report_id: int,
    now: datetime,
    *,
    text: str | None = None,
    photo_file_id: str | None = None,
    location: tuple[float, float] | None = None,
    added_later: bool = False,
    source_key: str | None = None,
) -> Note | None:
    """Add one piece to a report; None when ``source_key`` added it before."""
    latitude, longitude = location if location else (None, None)
    cursor = await conn.execute(
        "INSERT INTO report_notes (report_id, at, added_later, text, photo_file_id, latitude, longitude,"
        " source_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source_key) DO NOTHING",
        (report_id, to_db(now), int(added_later), text, photo_file_id, latitude, longitude, source_key),
    )
    if cursor.rowcount != 1 or cursor.lastrowid is None:
        return None
    async with conn.execute("SELECT * FROM report_notes WHERE id = ?", (cursor.lastrowid,)) as found:
        row = await found.fetchone()
    assert row is not None
    return _note(row)


async def notes_of(conn: aiosqlite.Connection, report_ids: Iterable[int]) -> list[Note]:
    ids = list(report_ids)
    if not ids:
        return []
    async with conn.execute(
        f"SELECT * FROM report_notes WHERE report_id IN ({_marks(ids)}) ORDER BY id", tuple(ids)
    ) as cursor:
        return [_note(row) for row in await cursor.fetchall()]


# --- questions to the reporter ---------------------------------------------------------------------
async def add_question(
    conn: aiosqlite.Connection, report_id: int, asked_by: int, question: str, source_key: str, now: datetime
) -> Question | None:
    """None when ``source_key`` asked it before."""
    cursor = await conn.execute(
        "INSERT INTO report_questions (report_id, asked_by, asked_at, question, source_key)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (source_key) DO NOTHING",
        (report_id, asked_by, to_db(now), question, source_key),
    )
    if cursor.rowcount != 1 or cursor.lastrowid is None:
        return None
    return await get_question(conn, cursor.lastrowid)


async def get_question(conn: aiosqlite.Connection, question_id: int) -> Question | None:
    async with conn.execute("SELECT * FROM report_questions WHERE id = ?", (question_id,)) as cursor:
        row = await cursor.fetchone()
    return _question(row) if row else None


async def answer_question(
    conn: aiosqlite.Connection, question_id: int, answer: str, source_key: str, now: datetime
) -> bool:
    """Record the answer once; False when it was answered before (by this update or another)."""
    cursor = await conn.execute(
        "UPDATE report_questions SET answer = ?, answered_at = ?, answer_key = ? WHERE id = ? AND answer IS NULL",
        (answer, to_db(now), source_key, question_id),
    )
    return cursor.rowcount == 1


async def question_by_source(conn: aiosqlite.Connection, source_key: str) -> Question | None:
    """The question this update asked, or answered."""
    async with conn.execute(
        "SELECT * FROM report_questions WHERE source_key = ? OR answer_key = ?", (source_key, source_key)
    ) as cursor:
        row = await cursor.fetchone()
    return _question(row) if row else None


async def questions_of(conn: aiosqlite.Connection, report_ids: Iterable[int]) -> list[Question]:
    ids = list(report_ids)
    if not ids:
        return []
    async with conn.execute(
        f"SELECT * FROM report_questions WHERE report_id IN ({_marks(ids)}) ORDER BY id", tuple(ids)
    ) as cursor:
        return [_question(row) for row in await cursor.fetchall()]


# --- where staff see an incident -------------------------------------------------------------------
async def posts_of(conn: aiosqlite.Connection, incident_id: int) -> list[Post]:
    async with conn.execute(
        "SELECT incident_id, chat_id, slot, kind, reply_to, message_id FROM outage_posts"
        " WHERE incident_id = ? ORDER BY created_at, rowid",
        (incident_id,),
    ) as cursor:
        rows = await cursor.fetchall()
    return [Post.model_validate(dict(row)) for row in rows]


async def add_post(
    conn: aiosqlite.Connection,
    *,
    incident_id: int,
    chat_id: int,
    slot: str,
    kind: PostKind,
    now: datetime,
    reply_to: str | None = None,
    message_id: int | None = None,
) -> Post:
    await conn.execute(
        "INSERT INTO outage_posts (incident_id, chat_id, slot, kind, reply_to, message_id, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (slot, chat_id) DO NOTHING",
        (incident_id, chat_id, slot, kind, reply_to, message_id, to_db(now)),
    )
    return Post(
        incident_id=incident_id,
        chat_id=chat_id,
        slot=slot,
        kind=kind,
        reply_to=reply_to,
        message_id=message_id,
    )


async def view_at(conn: aiosqlite.Connection, chat_id: int, message_id: int) -> Post | None:
    """The /outages detail shown by this message, if it shows one."""
    async with conn.execute(
        "SELECT incident_id, chat_id, slot, kind, reply_to, message_id FROM outage_posts"
        " WHERE chat_id = ? AND message_id = ?",
        (chat_id, message_id),
    ) as cursor:
        row = await cursor.fetchone()
    return Post.model_validate(dict(row)) if row else None


async def drop_views(conn: aiosqlite.Connection, incident_id: int, chat_id: int) -> None:
    """Stop keeping the earlier details of an incident in a chat current (a newer one is shown)."""
    await conn.execute(
        "DELETE FROM outage_posts WHERE incident_id = ? AND chat_id = ? AND kind = 'view'",
        (incident_id, chat_id),
    )


# --- staff groups ----------------------------------------------------------------------------------
async def group_language(conn: aiosqlite.Connection, chat_id: int) -> str | None:
    async with conn.execute("SELECT language FROM group_languages WHERE chat_id = ?", (chat_id,)) as cursor:
        row = await cursor.fetchone()
    return str(row[0]) if row else None


async def set_group_language(
    conn: aiosqlite.Connection, chat_id: int, language: str | None, actor_id: int, now: datetime
) -> None:
    """One language for the group, or both again (None)."""
    if language is None:
        await conn.execute("DELETE FROM group_languages WHERE chat_id = ?", (chat_id,))
        return
    await conn.execute(
        "INSERT INTO group_languages (chat_id, language, set_by, set_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (chat_id) DO UPDATE SET language = excluded.language, set_by = excluded.set_by,"
        " set_at = excluded.set_at",
        (chat_id, language, actor_id, to_db(now)),
    )


async def incidents_posted_in(conn: aiosqlite.Connection, chat_id: int) -> list[int]:
    """Unresolved incidents with a message in this chat."""
    async with conn.execute(
        "SELECT DISTINCT p.incident_id FROM outage_posts p JOIN incidents i ON i.id = p.incident_id"
        " WHERE p.chat_id = ? AND i.state != 'resolved' ORDER BY p.incident_id",
        (chat_id,),
    ) as cursor:
        return [row[0] for row in await cursor.fetchall()]


# --- privacy ---------------------------------------------------------------------------------------
async def forget_reporter(conn: aiosqlite.Connection, user_id: int) -> None:
    """Keep a person's tickets (numbers, what, when) but nothing they wrote, showed or shared."""
    mine = "SELECT id FROM reports WHERE user_id = ?"
    await conn.execute(f"DELETE FROM report_notes WHERE report_id IN ({mine})", (user_id,))
    await conn.execute(
        f"UPDATE report_questions SET answer = NULL, question = '-' WHERE report_id IN ({mine})", (user_id,)
    )
    await conn.execute(
        "UPDATE reports SET phone = NULL, phone_shared_at = NULL WHERE user_id = ?", (user_id,)
    )
