"""Announcements to an area, who they go to, how their delivery went, and opt-outs."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import aiosqlite
from pydantic import BaseModel, ConfigDict

from db.timestamps import from_db, to_db

UNRESOLVED = ("open", "taken", "in_progress")


class Announcement(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    author_id: int
    area: str
    audiences: tuple[str, ...]
    text_kk: str
    text_ru: str
    recipients: int
    created_at: datetime


class Recipient(BaseModel):
    """A person to tell, and the village of the area that makes them one (None for a trainer)."""

    model_config = ConfigDict(frozen=True)

    user_id: int
    village_code: str | None
    audience: str


def dedup_key(announcement_id: int, user_id: int) -> str:
    """The outbox key of one recipient's copy: all copies of one announcement share its prefix."""
    return f"{_key_prefix(announcement_id)}{user_id}"


def _key_prefix(announcement_id: int) -> str:
    return f"announcement:{announcement_id}:"


def _announcement(row: aiosqlite.Row) -> Announcement:
    data = dict(row)
    data["audiences"] = tuple(data["audiences"].split(","))
    data["created_at"] = from_db(data["created_at"])
    return Announcement.model_validate({key: data[key] for key in Announcement.model_fields})


async def create(
    conn: aiosqlite.Connection,
    *,
    author_id: int,
    area: str,
    audiences: Collection[str],
    text_kk: str,
    text_ru: str,
    recipients: int,
    source_key: str,
    now: datetime,
) -> int:
    cursor = await conn.execute(
        "INSERT INTO announcements (author_id, area, audiences, text_kk, text_ru, recipients, created_at,"
        " source_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (author_id, area, ",".join(audiences), text_kk, text_ru, recipients, to_db(now), source_key),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def get(conn: aiosqlite.Connection, announcement_id: int) -> Announcement | None:
    async with conn.execute("SELECT * FROM announcements WHERE id = ?", (announcement_id,)) as cursor:
        row = await cursor.fetchone()
    return _announcement(row) if row else None


async def by_source(conn: aiosqlite.Connection, source_key: str) -> Announcement | None:
    async with conn.execute("SELECT * FROM announcements WHERE source_key = ?", (source_key,)) as cursor:
        row = await cursor.fetchone()
    return _announcement(row) if row else None


async def written_by(conn: aiosqlite.Connection, user_id: int) -> list[Announcement]:
    async with conn.execute(
        "SELECT * FROM announcements WHERE author_id = ? ORDER BY id", (user_id,)
    ) as cursor:
        return [_announcement(row) for row in await cursor.fetchall()]


async def recipients(conn: aiosqlite.Connection, area: str, audiences: Collection[str]) -> list[Recipient]:
    """Everyone an announcement to ``area`` reaches, once each, without those who opted out of a
    village's announcements (for that village). Trainers are those whose area overlaps it."""
    found: dict[int, Recipient] = {}
    inside = (len(area), area)
    # Not those who opted out for that village, nor those who asked to be forgotten (their tickets
    # keep their number, not them).
    not_opted_out = (
        "NOT EXISTS (SELECT 1 FROM announcement_optouts o WHERE o.user_id = c.user_id"
        " AND o.village_code = c.village_code)"
        " AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = c.user_id AND u.erased_at IS NOT NULL)"
    )
    if "followers" in audiences:
        async with conn.execute(
            "SELECT c.user_id, min(c.village_code) FROM subscriptions c"
            f" WHERE substr(c.village_code, 1, ?) = ? AND {not_opted_out} GROUP BY c.user_id",
            inside,
        ) as cursor:
            for user_id, village in await cursor.fetchall():
                found.setdefault(
                    user_id, Recipient(user_id=user_id, village_code=village, audience="followers")
                )
    if "tickets" in audiences:
        async with conn.execute(
            "SELECT c.user_id, min(c.village_code) FROM reports c JOIN incidents i ON i.id = c.incident_id"
            f" WHERE i.state IN {UNRESOLVED} AND substr(c.village_code, 1, ?) = ? AND {not_opted_out}"
            " GROUP BY c.user_id",
            inside,
        ) as cursor:
            for user_id, village in await cursor.fetchall():
                found.setdefault(
                    user_id, Recipient(user_id=user_id, village_code=village, audience="tickets")
                )
    if "trainers" in audiences:
        async with conn.execute(
            "SELECT DISTINCT user_id FROM roles WHERE role = 'trainer'"
            " AND (substr(?, 1, length(scope)) = scope OR substr(scope, 1, ?) = ?) ORDER BY user_id",
            (area, *inside),
        ) as cursor:
            for (user_id,) in await cursor.fetchall():
                found.setdefault(user_id, Recipient(user_id=user_id, village_code=None, audience="trainers"))
    return sorted(found.values(), key=lambda recipient: recipient.user_id)


async def delivery(conn: aiosqlite.Connection, announcement_id: int) -> dict[str, int]:
    """How many copies are in each outbox state (read through the outbox's unique key index)."""
    prefix = _key_prefix(announcement_id)
    async with conn.execute(
        "SELECT state, count(*) FROM outbox WHERE dedup_key >= ? AND dedup_key < ? GROUP BY state",
        (prefix, prefix[:-1] + ";"),  # ';' follows ':': every key with the prefix, and nothing else
    ) as cursor:
        return {state: count for state, count in await cursor.fetchall()}


async def opt_out(conn: aiosqlite.Connection, user_id: int, village_code: str, now: datetime) -> bool:
    cursor = await conn.execute(
        "INSERT INTO announcement_optouts (user_id, village_code, created_at) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        (user_id, village_code, to_db(now)),
    )
    return cursor.rowcount == 1


async def opt_in(conn: aiosqlite.Connection, user_id: int, village_code: str) -> bool:
    cursor = await conn.execute(
        "DELETE FROM announcement_optouts WHERE user_id = ? AND village_code = ?", (user_id, village_code)
    )
    return cursor.rowcount == 1


async def opted_out(conn: aiosqlite.Connection, user_id: int) -> list[tuple[str, datetime]]:
    async with conn.execute(
        "SELECT village_code, created_at FROM announcement_optouts WHERE user_id = ? ORDER BY created_at",
        (user_id,),
    ) as cursor:
        return [(row[0], from_db(row[1])) for row in await cursor.fetchall()]


async def forget(conn: aiosqlite.Connection, user_id: int) -> None:
    await conn.execute("DELETE FROM announcement_optouts WHERE user_id = ?", (user_id,))
