"""Everything stored about one person, for /mydata: only rows that are theirs.

Rows are read whole (``SELECT *`` of the person's own rows), so a column added later shows up
without a change here. Other people appear in none of it: no other reporters of an outage, no
trainer's or engineer's name, no one who granted a role.
"""

from __future__ import annotations

from typing import Any

import aiosqlite

Row = dict[str, Any]


async def _rows(conn: aiosqlite.Connection, sql: str, params: tuple[Any, ...]) -> list[Row]:
    async with conn.execute(sql, params) as cursor:
        return [dict(row) for row in await cursor.fetchall()]


async def account(conn: aiosqlite.Connection, user_id: int) -> Row | None:
    found = await _rows(conn, "SELECT * FROM users WHERE id = ?", (user_id,))
    return found[0] if found else None


async def village_names(conn: aiosqlite.Connection, codes: list[str]) -> dict[str, tuple[str, str]]:
    if not codes:
        return {}
    marks = ", ".join("?" for _ in codes)
    rows = await _rows(
        conn, f"SELECT code, name_kk, name_ru FROM villages WHERE code IN ({marks})", tuple(codes)
    )
    return {row["code"]: (row["name_kk"], row["name_ru"]) for row in rows}


async def following(conn: aiosqlite.Connection, user_id: int) -> list[Row]:
    return await _rows(
        conn,
        "SELECT village_code, created_at FROM subscriptions WHERE user_id = ? ORDER BY created_at",
        (user_id,),
    )


async def reports(conn: aiosqlite.Connection, user_id: int) -> list[Row]:
    return await _rows(
        conn,
        "SELECT r.*, i.state AS ticket_state, i.resolved_at AS ticket_resolved_at FROM reports r"
        " JOIN incidents i ON i.id = r.incident_id WHERE r.user_id = ? ORDER BY r.id",
        (user_id,),
    )


async def report_notes(conn: aiosqlite.Connection, user_id: int) -> list[Row]:
    """What the person added to their reports: words, photos' file ids, locations."""
    return await _rows(
        conn,
        "SELECT n.report_id, n.at, n.added_later, n.text, n.photo_file_id, n.latitude, n.longitude"
        " FROM report_notes n JOIN reports r ON r.id = n.report_id WHERE r.user_id = ? ORDER BY n.id",
        (user_id,),
    )


async def bookings(conn: aiosqlite.Connection, user_id: int) -> list[Row]:
    return await _rows(
        conn,
        "SELECT b.*, c.starts_at AS class_starts_at, c.village_code AS class_village, c.venue AS class_venue,"
        " c.topic AS class_topic, c.state AS class_state FROM bookings b JOIN classes c ON c.id = b.class_id"
        " WHERE b.user_id = ? ORDER BY b.id",
        (user_id,),
    )


async def consents(conn: aiosqlite.Connection, user_id: int) -> list[Row]:
    """The person's own privacy choices in the audit log: consents given, data erased."""
    return await _rows(
        conn,
        "SELECT at, action, detail FROM audit_log WHERE subject = ? AND actor_id = ? AND action LIKE 'privacy.%'"
        " ORDER BY id",
        (f"user:{user_id}", user_id),
    )


async def roles(conn: aiosqlite.Connection, user_id: int) -> list[Row]:
    return await _rows(
        conn, "SELECT role, scope, granted_at FROM roles WHERE user_id = ? ORDER BY granted_at", (user_id,)
    )


async def installations(conn: aiosqlite.Connection, user_id: int) -> list[Row]:
    return await _rows(conn, "SELECT * FROM installations WHERE staff_id = ? ORDER BY id", (user_id,))


async def classes_taught(conn: aiosqlite.Connection, user_id: int) -> list[Row]:
    return await _rows(
        conn,
        "SELECT id, village_code, venue, starts_at, minutes, topic, language, capacity, state, created_at"
        " FROM classes WHERE trainer_id = ? ORDER BY starts_at",
        (user_id,),
    )


async def drafts(conn: aiosqlite.Connection, user_id: int) -> list[Row]:
    return await _rows(
        conn, "SELECT flow, data, updated FROM drafts WHERE user_id = ? ORDER BY flow", (user_id,)
    )


async def announcement_optouts(conn: aiosqlite.Connection, user_id: int) -> list[Row]:
    return await _rows(
        conn,
        "SELECT village_code, created_at FROM announcement_optouts WHERE user_id = ? ORDER BY created_at",
        (user_id,),
    )


async def announcements_written(conn: aiosqlite.Connection, user_id: int) -> list[Row]:
    return await _rows(
        conn,
        "SELECT id, area, audiences, text_kk, text_ru, recipients, created_at FROM announcements"
        " WHERE author_id = ? ORDER BY id",
        (user_id,),
    )
