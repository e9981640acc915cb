"""The rows of each export: one query per kind, for an area (a KATO prefix) and a period.

Rows come back as plain dicts; times as stored (ISO 8601, UTC). Columns with personal data
(``*_name``, ``*_id`` of people, ``description``, ``photo_file_id``, a resident's location) are
read here and left out by ``bot.exports.service`` unless the export may carry them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiosqlite

from db.timestamps import to_db

Row = dict[str, Any]

# Names of a village's district and region, joined once per query.
_PLACE_COLUMNS = (
    "v.code AS village_code, v.name_kk AS village_kk, v.name_ru AS village_ru,"
    " d.name_kk AS district_kk, d.name_ru AS district_ru, r.name_kk AS region_kk, r.name_ru AS region_ru"
)
_PLACE_JOINS = (
    " LEFT JOIN areas d ON d.code = v.district_code AND d.level = 'district'"
    " LEFT JOIN areas r ON r.code = v.region_code AND r.level = 'region'"
)
_PERSON = "trim(coalesce({u}.first_name, '') || ' ' || coalesce({u}.last_name, ''))"


def _in_period(column: str, start: datetime | None, end: datetime | None) -> tuple[str, list[str]]:
    sql, params = "", []
    if start is not None:
        sql += f" AND {column} >= ?"
        params.append(to_db(start))
    if end is not None:
        sql += f" AND {column} < ?"
        params.append(to_db(end))
    return sql, params


async def _rows(conn: aiosqlite.Connection, sql: str, params: list[Any]) -> list[Row]:
    async with conn.execute(sql, params) as cursor:
        return [dict(row) for row in await cursor.fetchall()]


async def villages(conn: aiosqlite.Connection, area: str) -> list[Row]:
    """Every village of the area with its rollout state and its buildings online of all."""
    return await _rows(
        conn,
        f"SELECT {_PLACE_COLUMNS}, v.stage, v.planned_year, v.planned_quarter, v.operator, v.technology,"
        " v.planned_technology, v.population, v.changed_at, v.change_reason,"
        " (SELECT count(*) FROM social_objects s WHERE s.village_code = v.code) AS objects_total,"
        " (SELECT count(*) FROM social_objects s WHERE s.village_code = v.code AND s.connected) AS objects_online,"
        " (SELECT count(*) FROM social_objects s WHERE s.village_code = v.code AND s.kind = 'school')"
        "   AS schools_total,"
        " (SELECT count(*) FROM social_objects s WHERE s.village_code = v.code AND s.kind = 'school'"
        "   AND s.connected) AS schools_online,"
        " (SELECT count(*) FROM social_objects s WHERE s.village_code = v.code AND s.kind = 'medical')"
        "   AS medical_total,"
        " (SELECT count(*) FROM social_objects s WHERE s.village_code = v.code AND s.kind = 'medical'"
        "   AND s.connected) AS medical_online"
        f" FROM villages v {_PLACE_JOINS} WHERE substr(v.code, 1, ?) = ? ORDER BY v.code",
        [len(area), area],
    )


async def objects(conn: aiosqlite.Connection, area: str) -> list[Row]:
    """Every school, medical post, akimat… of the area and whether it is online."""
    return await _rows(
        conn,
        f"SELECT {_PLACE_COLUMNS}, s.id, s.kind, s.name, s.name_kk, s.name_ru, s.connected, s.technology, s.speed_mbps,"
        f" s.connected_at FROM social_objects s JOIN villages v ON v.code = s.village_code {_PLACE_JOINS}"
        " WHERE substr(s.village_code, 1, ?) = ? ORDER BY v.code, s.kind, s.name",
        [len(area), area],
    )


async def installations(
    conn: aiosqlite.Connection, area: str, start: datetime | None, end: datetime | None
) -> list[Row]:
    period, params = _in_period("i.created_at", start, end)
    return await _rows(
        conn,
        f"SELECT {_PLACE_COLUMNS}, i.id, i.created_at, s.kind AS object_kind,"
        " CASE WHEN i.updated_at = i.created_at THEN NULL ELSE i.updated_at END AS updated_at,"
        " s.name AS object_name, s.name_kk AS object_name_kk, s.name_ru AS object_name_ru, i.technology, i.speed_mbps, i.latitude, i.longitude,"
        f" i.staff_id, {_PERSON.format(u='u')} AS staff_name"
        " FROM installations i JOIN villages v ON v.code = i.village_code"
        f" JOIN social_objects s ON s.id = i.object_id {_PLACE_JOINS} LEFT JOIN users u ON u.id = i.staff_id"
        f" WHERE substr(i.village_code, 1, ?) = ?{period} ORDER BY i.id",
        [len(area), area, *params],
    )


async def incidents(
    conn: aiosqlite.Connection, area: str, start: datetime | None, end: datetime | None
) -> list[Row]:
    period, params = _in_period("i.opened_at", start, end)
    return await _rows(
        conn,
        f"SELECT {_PLACE_COLUMNS}, i.id, i.kind, i.state, i.opened_at, i.taken_at, i.resolved_at,"
        " i.resolution, i.reopened, i.reopened_at, i.mass,"
        " (SELECT count(*) FROM reports r WHERE r.incident_id = i.id) AS reports,"
        f" i.taken_by, {_PERSON.format(u='taker')} AS taken_by_name,"
        f" i.resolved_by, {_PERSON.format(u='resolver')} AS resolved_by_name"
        f" FROM incidents i JOIN villages v ON v.code = i.village_code {_PLACE_JOINS}"
        " LEFT JOIN users taker ON taker.id = i.taken_by LEFT JOIN users resolver ON resolver.id = i.resolved_by"
        f" WHERE substr(i.village_code, 1, ?) = ?{period} ORDER BY i.id",
        [len(area), area, *params],
    )


async def reports(
    conn: aiosqlite.Connection, area: str, start: datetime | None, end: datetime | None
) -> list[Row]:
    period, params = _in_period("p.created_at", start, end)
    return await _rows(
        conn,
        f"SELECT {_PLACE_COLUMNS}, p.id, p.created_at, p.kind, p.since, p.incident_id, i.state AS incident_state,"
        f" p.user_id, {_PERSON.format(u='u')} AS reporter_name,"
        # What the resident added, one cell each: their words, their photos' ids, their first location.
        " (SELECT group_concat(n.text, ' / ') FROM report_notes n WHERE n.report_id = p.id) AS description,"
        " (SELECT group_concat(n.photo_file_id, ' ') FROM report_notes n WHERE n.report_id = p.id) AS photo_file_id,"
        " (SELECT n.latitude FROM report_notes n WHERE n.report_id = p.id AND n.latitude IS NOT NULL"
        "  ORDER BY n.id LIMIT 1) AS latitude,"
        " (SELECT n.longitude FROM report_notes n WHERE n.report_id = p.id AND n.longitude IS NOT NULL"
        "  ORDER BY n.id LIMIT 1) AS longitude"
        " FROM reports p JOIN villages v ON v.code = p.village_code JOIN incidents i ON i.id = p.incident_id"
        f" {_PLACE_JOINS} LEFT JOIN users u ON u.id = p.user_id"
        f" WHERE substr(p.village_code, 1, ?) = ?{period} ORDER BY p.id",
        [len(area), area, *params],
    )


async def classes(
    conn: aiosqlite.Connection, area: str, start: datetime | None, end: datetime | None
) -> list[Row]:
    period, params = _in_period("c.starts_at", start, end)
    return await _rows(
        conn,
        f"SELECT {_PLACE_COLUMNS}, c.id, c.starts_at, c.minutes, c.venue, c.topic, c.language, c.capacity,"
        " c.state,"
        " (SELECT count(*) FROM bookings b WHERE b.class_id = c.id AND b.state = 'booked') AS booked,"
        " (SELECT count(*) FROM bookings b WHERE b.class_id = c.id AND b.state = 'waiting') AS waiting,"
        " (SELECT count(*) FROM bookings b WHERE b.class_id = c.id AND b.state = 'booked'"
        "   AND b.attendance = 'present') AS present,"
        " (SELECT count(*) FROM bookings b WHERE b.class_id = c.id AND b.state = 'booked'"
        "   AND b.attendance = 'present' AND b.age_group = '60plus') AS seniors_present,"
        f" c.trainer_id, {_PERSON.format(u='u')} AS trainer_name"
        f" FROM classes c JOIN villages v ON v.code = c.village_code {_PLACE_JOINS}"
        " LEFT JOIN users u ON u.id = c.trainer_id"
        f" WHERE substr(c.village_code, 1, ?) = ?{period} ORDER BY c.starts_at, c.id",
        [len(area), area, *params],
    )


async def attendance(
    conn: aiosqlite.Connection, area: str, start: datetime | None, end: datetime | None
) -> list[Row]:
    """One row per person on a class's register or waiting list."""
    period, params = _in_period("c.starts_at", start, end)
    return await _rows(
        conn,
        f"SELECT {_PLACE_COLUMNS}, b.id, b.class_id, c.starts_at, c.topic, c.state AS class_state,"
        " b.age_group, b.state, b.attendance, b.walk_in, b.created_at,"
        f" b.user_id, {_PERSON.format(u='u')} AS booker_name, b.attendee_name"
        " FROM bookings b JOIN classes c ON c.id = b.class_id JOIN villages v ON v.code = c.village_code"
        f" {_PLACE_JOINS} LEFT JOIN users u ON u.id = b.user_id"
        f" WHERE substr(c.village_code, 1, ?) = ?{period} ORDER BY c.starts_at, b.class_id, b.id",
        [len(area), area, *params],
    )
