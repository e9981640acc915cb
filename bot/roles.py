"""Who may do what: roles, their scopes, and invites."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from db import users
from db.database import Database
from db.models import Account, Invite, Role, RoleGrant

INVITE_VALID_FOR = timedelta(days=3)


@dataclass(frozen=True)
class Member:
    """The person behind an update, with the roles the server knows they hold."""

    account: Account
    grants: tuple[RoleGrant, ...]
    settings_admin: bool = False

    @property
    def id(self) -> int:
        return self.account.id

    @property
    def is_admin(self) -> bool:
        return self.settings_admin or any(grant.role == "admin" for grant in self.grants)

    def can(self, role: Role, kato: str | None = None) -> bool:
        """Holds ``role`` (admins hold every role) for the place ``kato``, or anywhere if None."""
        if self.is_admin:
            return True
        return any(
            grant.role == role and (kato is None or kato.startswith(grant.scope)) for grant in self.grants
        )

    def scopes(self, role: Role) -> list[str]:
        """KATO prefixes this member covers for ``role``; [""] means everywhere."""
        if self.is_admin:
            return [""]
        return sorted({grant.scope for grant in self.grants if grant.role == role})

    @property
    def roles(self) -> set[Role]:
        found: set[Role] = {grant.role for grant in self.grants}
        if self.settings_admin:
            found.add("admin")
        return found


class InviteOutcome(StrEnum):
    GRANTED = "granted"
    ALREADY = "already"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"


async def redeem_invite(
    db: Database, code: str, user_id: int, now: datetime
) -> tuple[InviteOutcome, Invite | None]:
    """Use a single-use invite: grants its role once, before it expires."""
    async with db.transaction() as tx:
        invite = await users.get_invite(tx, code)
        if invite is None:
            return InviteOutcome.UNKNOWN, None
        if invite.revoked:
            return InviteOutcome.REVOKED, invite
        if invite.used_by is not None:
            if invite.used_by == user_id:
                return InviteOutcome.ALREADY, invite
            return InviteOutcome.USED, invite
        if invite.expires_at <= now:
            return InviteOutcome.EXPIRED, invite
        if not await users.mark_invite_used(tx, code, user_id, now):
            return InviteOutcome.USED, invite
        granted = await users.grant_role(
            tx,
            user_id=user_id,
            role=invite.role,
            scope=invite.scope,
            actor_id=invite.created_by,
            now=now,
        )
    return (InviteOutcome.GRANTED if granted else InviteOutcome.ALREADY), invite
