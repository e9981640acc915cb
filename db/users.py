"""Accounts, roles and invites."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import aiosqlite

from db import audit
from db.models import Account, Invite, Role, RoleGrant
from db.timestamps import from_db, to_db

# Contact details are refreshed at most this often, so ordinary updates cost no write.
SEEN_REFRESH = timedelta(minutes=15)


def _account(row: aiosqlite.Row) -> Account:
    return Account(
        id=row["id"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        username=row["username"],
        telegram_language=row["telegram_language"],
        language=row["language"],
        first_seen=from_db(row["first_seen"]),
        last_seen=from_db(row["last_seen"]),
        blocked=bool(row["blocked"]),
        reply_keyboard=bool(row["reply_keyboard"]),
    )


async def get_account(conn: aiosqlite.Connection, user_id: int) -> Account | None:
    async with conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)) as cursor:
        row = await cursor.fetchone()
    return _account(row) if row else None


def needs_refresh(
    account: Account | None,
    *,
    first_name: str,
    last_name: str | None,
    username: str | None,
    telegram_language: str | None,
    now: datetime,
) -> bool:
    """Whether what Telegram tells us about this person differs enough to write it down."""
    if account is None:
        return True
    return (
        account.blocked
        or account.first_name != first_name
        or account.last_name != last_name
        or account.username != username
        or account.telegram_language != telegram_language
        or now - account.last_seen >= SEEN_REFRESH
    )


async def record_contact(
    conn: aiosqlite.Connection,
    *,
    user_id: int,
    first_name: str,
    last_name: str | None,
    username: str | None,
    telegram_language: str | None,
    now: datetime,
) -> Account:
    """Insert or refresh a person; writing to us also means they have not blocked the bot."""
    await conn.execute(
        "INSERT INTO users (id, first_name, last_name, username, telegram_language,"
        " first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET first_name = excluded.first_name,"
        " last_name = excluded.last_name, username = excluded.username,"
        " telegram_language = excluded.telegram_language, last_seen = excluded.last_seen,"
        " blocked = 0",
        (user_id, first_name, last_name, username, telegram_language, to_db(now), to_db(now)),
    )
    account = await get_account(conn, user_id)
    assert account is not None
    return account


async def ensure_account(conn: aiosqlite.Connection, user_id: int, now: datetime) -> None:
    """A placeholder for someone granted a role before they have written to the bot."""
    await conn.execute(
        "INSERT INTO users (id, first_name, first_seen, last_seen) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (id) DO NOTHING",
        (user_id, str(user_id), to_db(now), to_db(now)),
    )


async def set_reply_keyboard(conn: aiosqlite.Connection, user_id: int, *, shown: bool) -> None:
    await conn.execute("UPDATE users SET reply_keyboard = ? WHERE id = ?", (int(shown), user_id))


async def set_language(conn: aiosqlite.Connection, user_id: int, language: str) -> None:
    await conn.execute("UPDATE users SET language = ? WHERE id = ?", (language, user_id))


def _grant(row: aiosqlite.Row) -> RoleGrant:
    return RoleGrant(
        user_id=row["user_id"],
        role=row["role"],
        scope=row["scope"],
        granted_by=row["granted_by"],
        granted_at=from_db(row["granted_at"]),
    )


async def roles_of(conn: aiosqlite.Connection, user_id: int) -> list[RoleGrant]:
    async with conn.execute(
        "SELECT * FROM roles WHERE user_id = ? ORDER BY role, scope", (user_id,)
    ) as cursor:
        return [_grant(row) for row in await cursor.fetchall()]


async def all_roles(conn: aiosqlite.Connection) -> list[tuple[RoleGrant, Account]]:
    async with conn.execute(
        "SELECT roles.*, users.* FROM roles JOIN users ON users.id = roles.user_id"
        " ORDER BY roles.role, users.first_name, roles.scope"
    ) as cursor:
        rows = await cursor.fetchall()
    return [(_grant(row), _account(row)) for row in rows]


async def holders_of(conn: aiosqlite.Connection, role: Role, kato: str | None) -> list[int]:
    """Users holding ``role`` whose scope covers the place ``kato`` (every holder when None)."""
    async with conn.execute(
        "SELECT DISTINCT roles.user_id FROM roles JOIN users ON users.id = roles.user_id"
        " WHERE roles.role = ? AND users.blocked = 0"
        " AND (? IS NULL OR substr(?, 1, length(roles.scope)) = roles.scope)",
        (role, kato, kato),
    ) as cursor:
        return [row[0] for row in await cursor.fetchall()]


async def grant_role(
    conn: aiosqlite.Connection,
    *,
    user_id: int,
    role: Role,
    scope: str = "",
    actor_id: int | None,
    now: datetime,
) -> bool:
    """Give a role; False when the person already had it in that scope."""
    await ensure_account(conn, user_id, now)
    cursor = await conn.execute(
        "INSERT INTO roles (user_id, role, scope, granted_by, granted_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        (user_id, role, scope, actor_id, to_db(now)),
    )
    if cursor.rowcount != 1:
        return False
    await audit.record(
        conn,
        actor_id=actor_id,
        subject=f"user:{user_id}",
        action="role.grant",
        detail={"role": role, "scope": scope},
        now=now,
    )
    return True


async def revoke_role(
    conn: aiosqlite.Connection, *, user_id: int, role: Role, actor_id: int | None, now: datetime
) -> int:
    """Take a role away in every scope; returns how many grants were removed."""
    cursor = await conn.execute("DELETE FROM roles WHERE user_id = ? AND role = ?", (user_id, role))
    if cursor.rowcount:
        await audit.record(
            conn,
            actor_id=actor_id,
            subject=f"user:{user_id}",
            action="role.revoke",
            detail={"role": role},
            now=now,
        )
    return cursor.rowcount


def _invite(row: aiosqlite.Row) -> Invite:
    return Invite(
        code=row["code"],
        role=row["role"],
        scope=row["scope"],
        created_by=row["created_by"],
        created_at=from_db(row["created_at"]),
        expires_at=from_db(row["expires_at"]),
        used_by=row["used_by"],
        used_at=from_db(row["used_at"]) if row["used_at"] else None,
        revoked=bool(row["revoked"]),
    )


async def create_invite(
    conn: aiosqlite.Connection,
    *,
    role: Role,
    scope: str,
    actor_id: int,
    now: datetime,
    valid_for: timedelta,
) -> Invite:
    code = secrets.token_urlsafe(12)
    await conn.execute(
        "INSERT INTO invites (code, role, scope, created_by, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (code, role, scope, actor_id, to_db(now), to_db(now + valid_for)),
    )
    await audit.record(
        conn,
        actor_id=actor_id,
        subject=f"invite:{code}",
        action="invite.create",
        detail={"role": role, "scope": scope, "expires_at": to_db(now + valid_for)},
        now=now,
    )
    return Invite(
        code=code,
        role=role,
        scope=scope,
        created_by=actor_id,
        created_at=now,
        expires_at=now + valid_for,
    )


async def get_invite(conn: aiosqlite.Connection, code: str) -> Invite | None:
    async with conn.execute("SELECT * FROM invites WHERE code = ?", (code,)) as cursor:
        row = await cursor.fetchone()
    return _invite(row) if row else None


async def mark_invite_used(conn: aiosqlite.Connection, code: str, user_id: int, now: datetime) -> bool:
    """Claim a single-use invite; False when someone else claimed it first."""
    cursor = await conn.execute(
        "UPDATE invites SET used_by = ?, used_at = ? WHERE code = ? AND used_by IS NULL",
        (user_id, to_db(now), code),
    )
    return cursor.rowcount == 1


async def revoke_invites(conn: aiosqlite.Connection, actor_id: int, now: datetime) -> int:
    cursor = await conn.execute(
        "UPDATE invites SET revoked = 1 WHERE used_by IS NULL AND revoked = 0 AND expires_at > ?",
        (to_db(now),),
    )
    if cursor.rowcount:
        await audit.record(conn, actor_id=actor_id, subject="invites", action="invite.revoke_all", now=now)
    return cursor.rowcount


async def claim_update(conn: aiosqlite.Connection, update_id: int, now: datetime) -> bool:
    """Record that an update's effect is being committed; False when it already was."""
    cursor = await conn.execute(
        "INSERT INTO handled_updates (update_id, handled_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (update_id, to_db(now)),
    )
    return cursor.rowcount == 1
