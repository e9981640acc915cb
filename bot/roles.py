"""Who may do what: roles held for an area, and invites.

Every permission is a (role, area) pair. An area is a KATO code prefix: ``""`` is the whole
country, ``"55"`` Pavlodar region, ``"5536"`` a district, a full code one village. An admin of an
area holds every role there and nowhere else; admins named in the settings hold every role
everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from db import users
from db.database import Database
from db.models import Account, Invite, Role, RoleGrant

INVITE_VALID_FOR = timedelta(days=3)
EVERYWHERE = ""


@dataclass(frozen=True)
class Member:
    """The person behind an update, with the roles the server knows they hold."""

    account: Account
    grants: tuple[RoleGrant, ...]
    settings_admin: bool = False

    @property
    def id(self) -> int:
        return self.account.id

    def scopes(self, role: Role) -> list[str]:
        """The areas this member covers for ``role``, narrowest overlaps removed; [""] is everywhere."""
        if self.settings_admin:
            return [EVERYWHERE]
        found = sorted({grant.scope for grant in self.grants if grant.role in (role, "admin")})
        return [
            scope for scope in found if not any(scope != other and scope.startswith(other) for other in found)
        ]

    def holds(self, role: Role) -> bool:
        """Holds ``role`` somewhere (an admin holds every role in their area): menus and first steps."""
        return bool(self.scopes(role))

    def can(self, role: Role, kato: str) -> bool:
        """Holds ``role`` for the place or area ``kato``."""
        return any(kato.startswith(scope) for scope in self.scopes(role))

    def covers(self, role: Role, area: str) -> bool:
        """May act on the whole of ``area`` for ``role``: the same as :meth:`can` for an area code."""
        return self.can(role, area)

    @property
    def is_admin(self) -> bool:
        """An admin of some area (the admin menu is shown); what they may touch is :meth:`can`."""
        return self.holds("admin")

    @property
    def is_global_admin(self) -> bool:
        return self.can("admin", EVERYWHERE)

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
