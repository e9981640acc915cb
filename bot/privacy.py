"""Personal data (Law No. 94-V): what we keep about a person, and erasing it on request.

Features that store personal data register an eraser; ``erase_person`` runs them all in one
transaction with the core ones. The audit log keeps ids (not names) of who did what, which the law
allows for accountability.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from db import audit, places, users

PRIVACY_VERSION = "2026-11"
Eraser = Callable[[aiosqlite.Connection, int], Awaitable[None]]
_ERASERS: list[Eraser] = []


def register_eraser(eraser: Eraser) -> Eraser:
    _ERASERS.append(eraser)
    return eraser


@dataclass(frozen=True)
class PersonalData:
    name: str
    username: str | None
    language: str | None
    village: str | None
    following: int
    roles: list[str]


async def what_we_keep(conn: aiosqlite.Connection, user_id: int) -> PersonalData | None:
    account = await users.get_account(conn, user_id)
    if account is None:
        return None
    village_code = await places.my_village(conn, user_id)
    village = await places.get_village(conn, village_code) if village_code else None
    return PersonalData(
        name=account.full_name,
        username=account.username,
        language=account.language,
        village=village.name(account.language or "kk") if village else None,
        following=len(await places.followed_by(conn, user_id)),
        roles=sorted({grant.role for grant in await users.roles_of(conn, user_id)}),
    )


async def record_consent(conn: aiosqlite.Connection, user_id: int, now: datetime) -> None:
    await audit.record(
        conn,
        actor_id=user_id,
        subject=f"user:{user_id}",
        action="privacy.consent",
        detail={"version": PRIVACY_VERSION},
        now=now,
    )


async def erase_person(conn: aiosqlite.Connection, user_id: int, now: datetime) -> None:
    """Forget a person: names, language, village, follows, drafts, roles; features erase their own."""
    for eraser in _ERASERS:
        await eraser(conn, user_id)
    await conn.execute("DELETE FROM subscriptions WHERE user_id = ?", (user_id,))
    # Relatives booked for classes are named by the person; the bookings stay for the trainers' numbers.
    await conn.execute(
        "UPDATE bookings SET attendee_name = '-' WHERE user_id = ? AND attendee_name IS NOT NULL", (user_id,)
    )
    await conn.execute("DELETE FROM drafts WHERE user_id = ?", (user_id,))
    await conn.execute("DELETE FROM roles WHERE user_id = ?", (user_id,))
    await conn.execute(
        "UPDATE users SET first_name = '-', last_name = NULL, username = NULL, language = NULL,"
        " village_code = NULL WHERE id = ?",
        (user_id,),
    )
    await audit.record(conn, actor_id=user_id, subject=f"user:{user_id}", action="privacy.erase", now=now)
