"""A person's data as they see it in /privacy, and forgetting them.

Forgetting keeps the rows other people rely on (a ticket's number, a class's attendance) but takes
every name out: the person's own, their username, and the relatives they booked, wherever a
notification, an audit entry or a draft repeated them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import aiosqlite
from pydantic import BaseModel, ConfigDict

from db.models import Role
from db.timestamps import from_db, to_db

# What a forgotten name becomes: short, and plainly not anybody's name.
SCRUBBED = "-"
# Where names typed or shown elsewhere end up copied: JSON columns, scrubbed value by value.
_JSON_COLUMNS = (("outbox", "params"), ("audit_log", "detail"), ("drafts", "data"))


class Profile(BaseModel):
    """Everything kept about one person, for /privacy."""

    model_config = ConfigDict(frozen=True)

    first_name: str
    last_name: str | None
    username: str | None
    language: str | None
    village_kk: str | None
    village_ru: str | None
    following: int
    reports: int
    bookings: int
    relatives: int
    roles: list[Role]
    first_seen: datetime
    erased_at: datetime | None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name


async def profile(conn: aiosqlite.Connection, user_id: int) -> Profile | None:
    async with conn.execute(
        "SELECT users.first_name, users.last_name, users.username, users.language, users.first_seen,"
        " users.erased_at, villages.name_kk AS village_kk, villages.name_ru AS village_ru,"
        " (SELECT COUNT(*) FROM subscriptions WHERE user_id = users.id) AS following,"
        " (SELECT COUNT(*) FROM reports WHERE user_id = users.id) AS reports,"
        " (SELECT COUNT(*) FROM bookings WHERE user_id = users.id) AS bookings,"
        " (SELECT COUNT(*) FROM bookings WHERE user_id = users.id"
        "   AND attendee_name IS NOT NULL AND attendee_name <> ?) AS relatives,"
        " (SELECT group_concat(DISTINCT role) FROM roles WHERE user_id = users.id) AS roles"
        " FROM users LEFT JOIN villages ON villages.code = users.village_code WHERE users.id = ?",
        (SCRUBBED, user_id),
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    return Profile(
        first_name=row["first_name"],
        last_name=row["last_name"],
        username=row["username"],
        language=row["language"],
        village_kk=row["village_kk"],
        village_ru=row["village_ru"],
        following=row["following"],
        reports=row["reports"],
        bookings=row["bookings"],
        relatives=row["relatives"],
        roles=sorted(row["roles"].split(",")) if row["roles"] else [],
        first_seen=from_db(row["first_seen"]),
        erased_at=from_db(row["erased_at"]) if row["erased_at"] else None,
    )


async def names_of(conn: aiosqlite.Connection, user_id: int) -> list[str]:
    """The words that name this person or the relatives they booked, as stored now."""
    names: set[str] = set()
    async with conn.execute(
        "SELECT first_name, last_name, username, erased_at FROM users WHERE id = ?", (user_id,)
    ) as cursor:
        row = await cursor.fetchone()
    if row is not None and row["erased_at"] is None:
        first, last, username = row["first_name"], row["last_name"], row["username"]
        names |= {first, *([last, f"{first} {last}"] if last else []), *([username] if username else [])}
    async with conn.execute(
        "SELECT DISTINCT attendee_name FROM bookings WHERE user_id = ? AND attendee_name IS NOT NULL",
        (user_id,),
    ) as cursor:
        names |= {row[0] for row in await cursor.fetchall()}
    names.discard(SCRUBBED)
    return sorted(name for name in names if name.strip())


async def forget(conn: aiosqlite.Connection, user_id: int, now: datetime) -> None:
    """Take the person out of the core tables; the rows others rely on stay, without names."""
    await conn.execute("DELETE FROM subscriptions WHERE user_id = ?", (user_id,))
    # Relatives booked for classes are named by the person; the bookings stay for the trainers' numbers.
    await conn.execute(
        "UPDATE bookings SET attendee_name = ? WHERE user_id = ? AND attendee_name IS NOT NULL",
        (SCRUBBED, user_id),
    )
    await conn.execute("DELETE FROM drafts WHERE user_id = ?", (user_id,))
    await conn.execute("DELETE FROM roles WHERE user_id = ?", (user_id,))
    # What was still to be sent to them is not sent; what was sent keeps only its delivery record.
    await conn.execute("DELETE FROM outbox WHERE chat_id = ? AND state IN ('pending', 'failed')", (user_id,))
    await conn.execute("UPDATE outbox SET params = '{}' WHERE chat_id = ?", (user_id,))
    await conn.execute(
        "UPDATE users SET first_name = ?, last_name = NULL, username = NULL, telegram_language = NULL,"
        " language = NULL, village_code = NULL, reply_keyboard = 0, first_seen = ?, last_seen = ?,"
        " erased_at = ? WHERE id = ?",
        (SCRUBBED, to_db(now), to_db(now), to_db(now), user_id),
    )


async def scrub_mentions(conn: aiosqlite.Connection, names: Iterable[str]) -> int:
    """Replace ``names`` (as whole words) in every queued notification, audit entry and draft.

    Returns how many rows changed. A single letter names nobody and is left alone.
    """
    words = sorted({name for name in names if len(name.strip()) >= 2}, key=len, reverse=True)
    if not words:
        return 0
    pattern = re.compile("|".join(rf"(?<!\w){re.escape(word)}(?!\w)" for word in words))
    needles = sorted({form for word in words for form in (word, json.dumps(word)[1:-1])})
    changed = 0
    for table, column in _JSON_COLUMNS:
        condition = " OR ".join(f"instr({column}, ?) > 0" for _ in needles)
        async with conn.execute(f"SELECT rowid, {column} FROM {table} WHERE {condition}", needles) as cursor:
            rows = await cursor.fetchall()
        for rowid, text in rows:
            value = json.loads(text)
            cleaned = _scrub(value, pattern)
            if cleaned != value:
                await conn.execute(
                    f"UPDATE {table} SET {column} = ? WHERE rowid = ?",
                    (json.dumps(cleaned, ensure_ascii=False), rowid),
                )
                changed += 1
    return changed


def _scrub(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(SCRUBBED, value)
    if isinstance(value, list):
        return [_scrub(item, pattern) for item in value]
    if isinstance(value, dict):
        return {_scrub(key, pattern): _scrub(item, pattern) for key, item in value.items()}
    return value
