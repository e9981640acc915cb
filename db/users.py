"""Accounts, roles and invites."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

import aiosqlite
from pydantic import BaseModel, ConfigDict

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
        erased_at=from_db(row["erased_at"]) if row["erased_at"] else None,
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


async def restore(conn: aiosqlite.Connection, user_id: int) -> None:
    """A person who had asked to be forgotten chose to use the bot again."""
    await conn.execute("UPDATE users SET erased_at = NULL WHERE id = ?", (user_id,))


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


async def account_and_roles(
    conn: aiosqlite.Connection, user_id: int
) -> tuple[Account | None, list[RoleGrant]]:
    """A person and their roles in one query (every update asks for both)."""
    async with conn.execute(
        "SELECT u.*, r.role AS grant_role, r.scope AS grant_scope, r.granted_by AS grant_by,"
        " r.granted_at AS grant_at FROM users u LEFT JOIN roles r ON r.user_id = u.id"
        " WHERE u.id = ? ORDER BY r.role, r.scope",
        (user_id,),
    ) as cursor:
        rows = list(await cursor.fetchall())
    if not rows:
        return None, []
    grants = [
        RoleGrant(
            user_id=user_id,
            role=row["grant_role"],
            scope=row["grant_scope"],
            granted_by=row["grant_by"],
            granted_at=from_db(row["grant_at"]),
        )
        for row in rows
        if row["grant_role"] is not None
    ]
    return _account(rows[0]), grants


class RoleEntry(BaseModel):
    """One granted role as the admin list shows it: who, and the area's name in both languages."""

    model_config = ConfigDict(frozen=True)

    grant: RoleGrant
    first_name: str
    last_name: str | None
    username: str | None
    area_kk: str | None  # None: the whole country, or an area no longer in the classifier
    area_ru: str | None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name


# A scope is a KATO prefix ("55", "5536", "553610") or a whole 9-digit code; areas are stored
# under their code padded with zeros, villages under their own code.
_ROLE_ENTRY = (
    "SELECT roles.user_id, roles.role, roles.scope, roles.granted_by, roles.granted_at,"
    " users.first_name, users.last_name, users.username,"
    " COALESCE(areas.name_kk, villages.name_kk) AS area_kk,"
    " COALESCE(areas.name_ru, villages.name_ru) AS area_ru"
    " FROM roles JOIN users ON users.id = roles.user_id"
    " LEFT JOIN areas ON length(roles.scope) BETWEEN 1 AND 8"
    "   AND areas.code = substr(roles.scope || '000000000', 1, 9)"
    " LEFT JOIN villages ON length(roles.scope) = 9 AND villages.code = roles.scope"
)


def _role_entry(row: aiosqlite.Row) -> RoleEntry:
    return RoleEntry(
        grant=_grant(row),
        first_name=row["first_name"],
        last_name=row["last_name"],
        username=row["username"],
        area_kk=row["area_kk"],
        area_ru=row["area_ru"],
    )


async def roles_within(conn: aiosqlite.Connection, areas: Sequence[str]) -> list[RoleEntry]:
    """Every role granted inside one of ``areas`` (KATO prefixes; "" is the whole country), with names."""
    if not areas:
        return []
    inside = " OR ".join("substr(roles.scope, 1, ?) = ?" for _ in areas)
    params = [value for area in areas for value in (len(area), area)]
    async with conn.execute(
        f"{_ROLE_ENTRY} WHERE {inside} ORDER BY roles.scope, users.first_name, users.id, roles.role", params
    ) as cursor:
        return [_role_entry(row) for row in await cursor.fetchall()]


async def role_entry(conn: aiosqlite.Connection, user_id: int, role: Role, scope: str) -> RoleEntry | None:
    async with conn.execute(
        f"{_ROLE_ENTRY} WHERE roles.user_id = ? AND roles.role = ? AND roles.scope = ?",
        (user_id, role, scope),
    ) as cursor:
        row = await cursor.fetchone()
    return _role_entry(row) if row else None


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


async def revoke_grant(
    conn: aiosqlite.Connection, *, user_id: int, role: Role, scope: str, actor_id: int | None, now: datetime
) -> bool:
    """Take away one role in one area; False when the person did not hold it there."""
    cursor = await conn.execute(
        "DELETE FROM roles WHERE user_id = ? AND role = ? AND scope = ?", (user_id, role, scope)
    )
    if cursor.rowcount != 1:
        return False
    await audit.record(
        conn,
        actor_id=actor_id,
        subject=f"user:{user_id}",
        action="role.revoke",
        detail={"role": role, "scope": scope},
        now=now,
    )
    return True


class Revocation(BaseModel):
    """When a role was last taken away, and by whom."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    actor_id: int | None
    actor_first_name: str | None
    actor_last_name: str | None

    @property
    def actor_name(self) -> str | None:
        if self.actor_first_name is None:
            return None
        return (
            f"{self.actor_first_name} {self.actor_last_name}"
            if self.actor_last_name
            else self.actor_first_name
        )


async def last_revocation(
    conn: aiosqlite.Connection, user_id: int, role: Role, scope: str | None
) -> Revocation | None:
    """The revocation of this role in this area (None: any area), when it is the latest thing that
    happened to it."""
    async with conn.execute(
        "SELECT audit_log.action, audit_log.at, audit_log.actor_id, users.first_name, users.last_name"
        " FROM audit_log LEFT JOIN users ON users.id = audit_log.actor_id"
        " WHERE audit_log.subject = ? AND audit_log.action IN ('role.grant', 'role.revoke')"
        " AND json_extract(audit_log.detail, '$.role') = ?"
        # Revocations recorded before roles were taken away per area covered every area.
        " AND (? IS NULL OR json_extract(audit_log.detail, '$.scope') = ?"
        "      OR (audit_log.action = 'role.revoke' AND json_extract(audit_log.detail, '$.scope') IS NULL))"
        " ORDER BY audit_log.id DESC LIMIT 1",
        (f"user:{user_id}", role, scope, scope),
    ) as cursor:
        row = await cursor.fetchone()
    if row is None or row["action"] != "role.revoke":
        return None
    return Revocation(
        at=from_db(row["at"]),
        actor_id=row["actor_id"],
        actor_first_name=row["first_name"],
        actor_last_name=row["last_name"],
    )


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
    source_key: str | None = None,
) -> Invite:
    """A new single-use invite; the one ``source_key`` already made, when the same update comes again."""
    if source_key is not None:
        async with conn.execute("SELECT * FROM invites WHERE source_key = ?", (source_key,)) as cursor:
            row = await cursor.fetchone()
        if row is not None:
            return _invite(row)
    code = secrets.token_urlsafe(12)
    await conn.execute(
        "INSERT INTO invites (code, role, scope, created_by, created_at, expires_at, source_key)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (code, role, scope, actor_id, to_db(now), to_db(now + valid_for), source_key),
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
