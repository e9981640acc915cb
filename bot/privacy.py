"""Personal data (Law No. 94-V): what we keep about a person, and forgetting them on request.

Features that store personal data register an eraser; :func:`erase_person` runs them all in one
transaction with the core one, then takes the person's names (their own, their username, the
relatives they booked) out of every notification, audit entry and draft that repeated them. The
audit log keeps ids (not names) of who did what, which the law allows for accountability.

After that nothing about the person is written again until they choose to use the bot again: the
account is marked erased, ``handlers.system.load_member`` stores no name for it, and only a
language choice (the consent the prompt asks for) brings it back (:func:`restore_person`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import aiosqlite

from db import audit, users
from db import privacy as stored
from db.database import Database
from db.models import Account
from db.privacy import Profile

PRIVACY_VERSION = "2026-11"
Eraser = Callable[[aiosqlite.Connection, int], Awaitable[None]]
_ERASERS: list[Eraser] = []

__all__ = ["Eraser", "Profile", "erase_person", "record_consent", "register_eraser", "what_we_keep"]


def register_eraser(eraser: Eraser) -> Eraser:
    """A feature's function that forgets what it stores about a person (called inside the erase)."""
    _ERASERS.append(eraser)
    return eraser


async def what_we_keep(db: Database, user_id: int) -> Profile | None:
    async with db.read() as conn:
        return await stored.profile(conn, user_id)


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
    """Forget a person: names, language, village, follows, drafts, roles, notifications naming them."""
    names = await stored.names_of(conn, user_id)  # before the erasers take the relatives' names
    for eraser in _ERASERS:
        await eraser(conn, user_id)
    await stored.forget(conn, user_id, now)
    await stored.scrub_mentions(conn, names)
    await audit.record(conn, actor_id=user_id, subject=f"user:{user_id}", action="privacy.erase", now=now)


async def forget_me(db: Database, user_id: int, now: datetime) -> None:
    """«Delete my data», as one transaction."""
    async with db.transaction() as tx:
        await erase_person(tx, user_id, now)


async def restore_person(
    conn: aiosqlite.Connection,
    *,
    user_id: int,
    first_name: str,
    last_name: str | None,
    username: str | None,
    telegram_language: str | None,
    now: datetime,
) -> Account:
    """The fresh consent of someone who had asked to be forgotten: their Telegram name is kept again."""
    account = await users.record_contact(
        conn,
        user_id=user_id,
        first_name=first_name,
        last_name=last_name,
        username=username,
        telegram_language=telegram_language,
        now=now,
    )
    await users.restore(conn, user_id)
    return account.model_copy(update={"erased_at": None})
