"""Rules of administration: every action is a (role, area) check made here, for every way in.

An area is a KATO prefix: ``""`` the whole country, ``"55"`` a region, ``"5536"`` a district,
``"553610"`` a rural okrug, a 9-digit code one village. An admin of an area invites, grants, revokes
and sees roles inside that area only, and never makes a role wider than their own: only an admin of
the whole country gives a role everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import aiosqlite

from bot.roles import EVERYWHERE, INVITE_VALID_FOR, InviteOutcome, Member
from db import outbox, places, users
from db.database import Database
from db.models import Invite, Role
from db.outbox import OutboxHealth
from db.users import Revocation, RoleEntry

INVITE_PREFIX = "inv_"
ROLES_PER_PAGE = 8
INVITE_USED = "admin.invite_used"
ROLE_REVOKED = "admin.role_revoked"

Level = Literal["country", "region", "district", "okrug", "village"]
_SCOPE_LENGTH: dict[str, int] = {"region": 2, "district": 4, "okrug": 6}
_LEVEL_OF_LENGTH: dict[int, str] = {2: "region", 4: "district", 6: "okrug"}


class AdminError(Exception):
    """An administration request the rules refuse; ``code`` names the reason for the words."""

    def __init__(
        self,
        code: Literal[
            "not_admin",
            "outside_area",
            "wider_than_yours",
            "unknown_area",
            "not_global",
            "own_role",
            "already_revoked",
            "no_such_role",
        ],
        *,
        scope: str = "",
        entry: RoleEntry | None = None,
        revocation: Revocation | None = None,
        areas: tuple[Area, ...] = (),
    ) -> None:
        super().__init__(code)
        self.code = code
        self.scope = scope  # the area asked for
        self.entry = entry
        self.revocation = revocation
        self.areas = areas  # the admin's own areas, to say what they may do instead


@dataclass(frozen=True)
class Area:
    """A place an admin can give a role for, named in both languages."""

    scope: str
    level: Level
    names: Mapping[str, str] = field(default_factory=dict)  # empty for the whole country
    parent_names: Mapping[str, str] = field(default_factory=dict)  # the region of a district, …

    @property
    def everywhere(self) -> bool:
        return self.scope == EVERYWHERE

    def params(self) -> dict[str, object]:
        """As notification parameters."""
        return {"scope": self.scope, "names": dict(self.names), "parent": dict(self.parent_names)}


COUNTRY = Area(EVERYWHERE, "country")


def _named(area: places.Area) -> dict[str, str]:
    return {"kk": area.name_kk, "ru": area.name_ru}


async def find_area(conn: aiosqlite.Connection, scope: str) -> Area | None:
    """The area a scope (or a full 9-digit area code) stands for; None when there is none."""
    scope = scope.strip()
    if scope == EVERYWHERE:
        return COUNTRY
    if not scope.isdigit():
        return None
    if len(scope) in _LEVEL_OF_LENGTH:
        found = await places.get_area(conn, scope.ljust(9, "0"))
        if found is None or found.level != _LEVEL_OF_LENGTH[len(scope)]:
            return None
        parent = await places.get_area(conn, found.parent) if found.parent else None
        return Area(scope, found.level, _named(found), _named(parent) if parent else {})
    if len(scope) == 9:
        area = await places.get_area(conn, scope)
        if area is not None:
            return await find_area(conn, scope[: _SCOPE_LENGTH[area.level]])
        village = await places.get_village(conn, scope)
        if village is not None:
            district = await places.get_area(conn, village.district_code)
            return Area(
                scope,
                "village",
                {"kk": village.name_kk, "ru": village.name_ru},
                _named(district) if district else {},
            )
    return None


def _scope_of(area: places.Area) -> str:
    return area.code[: _SCOPE_LENGTH[area.level]]


def require_admin(member: Member) -> None:
    """The first gate of every admin screen: an admin of some area."""
    if not member.is_admin:
        raise AdminError("not_admin")


async def _require_inside(
    conn: aiosqlite.Connection, member: Member, scope: str, *, giving: bool = False
) -> None:
    """The admin covers the whole of ``scope``; otherwise the refusal names the admin's own areas."""
    if member.can("admin", scope):
        return
    areas = await admin_areas(conn, member)
    wider = giving and scope == EVERYWHERE
    raise AdminError("wider_than_yours" if wider else "outside_area", scope=scope, areas=areas)


async def admin_areas(conn: aiosqlite.Connection, member: Member) -> tuple[Area, ...]:
    """The areas this member administers, named."""
    found = []
    for scope in member.scopes("admin"):
        area = await find_area(conn, scope)
        found.append(area if area is not None else Area(scope, "region"))
    return tuple(found)


# --- the panel --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Panel:
    areas: tuple[Area, ...]
    everywhere: bool


async def panel(db: Database, member: Member) -> Panel:
    require_admin(member)
    async with db.read() as conn:
        areas = await admin_areas(conn, member)
    return Panel(areas, member.is_global_admin)


# --- invites ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AreaChoices:
    """What the invite's area can be: the whole of ``current``, or one of its parts."""

    role: Role
    current: Area | None  # None: the admin's own areas are listed
    parts: tuple[Area, ...]
    everywhere: bool  # the whole country may be chosen (admins of the whole country)
    top: bool  # the first list this admin sees (back goes to the choice of role)


async def invite_choices(db: Database, member: Member, role: Role, parent: str | None) -> AreaChoices:
    """The areas an invite for ``role`` may be made for, under ``parent`` (None: the top)."""
    require_admin(member)
    async with db.read() as conn:
        if parent is None:
            scopes = member.scopes("admin")
            if scopes == [EVERYWHERE]:
                regions = await places.areas_with_villages(conn, "region", None)
                regions_named = tuple(Area(_scope_of(r), "region", _named(r)) for r in regions)
                return AreaChoices(role, None, regions_named, everywhere=True, top=True)
            if len(scopes) > 1:
                return AreaChoices(role, None, await admin_areas(conn, member), everywhere=False, top=True)
            parent = scopes[0]
            top = True
        else:
            top = parent in member.scopes("admin") and len(member.scopes("admin")) == 1
        await _require_inside(conn, member, parent)
        current = await find_area(conn, parent)
        if current is None:
            raise AdminError("unknown_area", scope=parent)
        parts: tuple[Area, ...] = ()
        if current.level == "region":
            districts = await places.areas_with_villages(conn, "district", parent.ljust(9, "0"))
            parts = tuple(Area(_scope_of(d), "district", _named(d), current.names) for d in districts)
    return AreaChoices(role, current, parts, everywhere=False, top=top)


@dataclass(frozen=True)
class NewInvite:
    invite: Invite
    area: Area


async def create_invite(
    db: Database, member: Member, role: Role, scope: str, *, source_key: str | None, now: datetime
) -> NewInvite:
    """A single-use invite for ``role`` in ``scope``, which must be a known area inside the admin's own."""
    require_admin(member)
    async with db.transaction() as tx:
        area = await find_area(tx, scope)
        if area is None:
            raise AdminError("unknown_area", scope=scope)
        await _require_inside(tx, member, area.scope, giving=True)
        invite = await users.create_invite(
            tx,
            role=role,
            scope=area.scope,
            actor_id=member.id,
            now=now,
            valid_for=INVITE_VALID_FOR,
            source_key=source_key,
        )
    return NewInvite(invite, area)


@dataclass(frozen=True)
class InviteUse:
    outcome: InviteOutcome
    invite: Invite | None = None
    area: Area | None = None


async def use_invite(
    db: Database, member: Member, code: str, *, admin_ids: frozenset[int], now: datetime
) -> InviteUse:
    """Use a single-use invite: grants its role once, before it expires, while its maker may still
    give that role; the maker hears that it was used."""
    async with db.transaction() as tx:
        invite = await users.get_invite(tx, code)
        if invite is None:
            return InviteUse(InviteOutcome.UNKNOWN)
        if invite.used_by is not None:
            outcome = InviteOutcome.ALREADY if invite.used_by == member.id else InviteOutcome.USED
            return InviteUse(outcome, invite, await find_area(tx, invite.scope))
        if invite.revoked or not await _maker_may_still_grant(tx, invite, admin_ids):
            return InviteUse(InviteOutcome.REVOKED, invite)
        if invite.expires_at <= now:
            return InviteUse(InviteOutcome.EXPIRED, invite)
        if not await users.mark_invite_used(tx, code, member.id, now):
            return InviteUse(InviteOutcome.USED, invite)
        granted = await users.grant_role(
            tx, user_id=member.id, role=invite.role, scope=invite.scope, actor_id=invite.created_by, now=now
        )
        area = await find_area(tx, invite.scope) or Area(invite.scope, "region")
        if granted and invite.created_by != member.id:
            await outbox.enqueue(
                tx,
                chat_id=invite.created_by,
                kind=INVITE_USED,
                params={
                    "name": member.account.full_name,
                    "username": member.account.username,
                    "role": invite.role,
                    "area": area.params(),
                },
                now=now,
                dedup_key=f"invite-used:{code}",
            )
    return InviteUse(InviteOutcome.GRANTED if granted else InviteOutcome.ALREADY, invite, area)


async def _maker_may_still_grant(
    conn: aiosqlite.Connection, invite: Invite, admin_ids: frozenset[int]
) -> bool:
    """An invite dies with its maker's right to give the role (an admin since revoked or moved)."""
    if invite.created_by in admin_ids:
        return True
    grants = await users.roles_of(conn, invite.created_by)
    return any(grant.role == "admin" and invite.scope.startswith(grant.scope) for grant in grants)


# --- roles ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RolesPage:
    entries: tuple[RoleEntry, ...]
    first_number: int  # the number of the first entry on this page, counting from 1
    page: int
    pages: int
    total: int
    areas: tuple[Area, ...]  # the admin's own areas


async def list_roles(db: Database, member: Member, page: int = 0) -> RolesPage:
    """The roles granted inside the admin's areas (never wider ones), a page at a time."""
    require_admin(member)
    async with db.read() as conn:
        entries = await users.roles_within(conn, member.scopes("admin"))
        areas = await admin_areas(conn, member)
    pages = max(1, -(-len(entries) // ROLES_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    start = page * ROLES_PER_PAGE
    return RolesPage(
        tuple(entries[start : start + ROLES_PER_PAGE]), start + 1, page, pages, len(entries), areas
    )


async def _revocable(
    conn: aiosqlite.Connection, member: Member, user_id: int, role: Role, scope: str
) -> RoleEntry:
    require_admin(member)
    await _require_inside(conn, member, scope)
    if user_id == member.id:
        raise AdminError("own_role", scope=scope)
    entry = await users.role_entry(conn, user_id, role, scope)
    if entry is None:
        revocation = await users.last_revocation(conn, user_id, role, scope)
        raise AdminError(
            "already_revoked" if revocation else "no_such_role", scope=scope, revocation=revocation
        )
    return entry


@dataclass(frozen=True)
class RevokeTarget:
    entry: RoleEntry
    area: Area


async def revoke_target(db: Database, member: Member, user_id: int, role: Role, scope: str) -> RevokeTarget:
    """What «revoke» would take away, for the question asked before doing it."""
    async with db.read() as conn:
        entry = await _revocable(conn, member, user_id, role, scope)
        area = await find_area(conn, scope) or Area(scope, "region")
    return RevokeTarget(entry, area)


async def revoke_targets(db: Database, member: Member, user_id: int, role: Role) -> list[RevokeTarget]:
    """``/revoke USER_ID ROLE``: the person's grants of that role inside the admin's areas."""
    require_admin(member)
    async with db.read() as conn:
        grants = [grant for grant in await users.roles_of(conn, user_id) if grant.role == role]
        if not grants:
            revocation = await users.last_revocation(conn, user_id, role, None)
            raise AdminError("already_revoked" if revocation else "no_such_role", revocation=revocation)
        inside = [grant for grant in grants if member.can("admin", grant.scope)]
        if not inside:
            await _require_inside(conn, member, grants[0].scope)
        targets = []
        for grant in inside:
            entry = await _revocable(conn, member, user_id, role, grant.scope)
            area = await find_area(conn, grant.scope) or Area(grant.scope, "region")
            targets.append(RevokeTarget(entry, area))
    return targets


async def revoke(
    db: Database, member: Member, user_id: int, role: Role, scope: str, now: datetime
) -> RevokeTarget:
    """Take one role in one area away; the person is told. Refused when it is already gone."""
    async with db.transaction() as tx:
        entry = await _revocable(tx, member, user_id, role, scope)
        area = await find_area(tx, scope) or Area(scope, "region")
        await users.revoke_grant(tx, user_id=user_id, role=role, scope=scope, actor_id=member.id, now=now)
        await outbox.enqueue(
            tx,
            chat_id=user_id,
            kind=ROLE_REVOKED,
            params={"role": role, "area": area.params()},
            now=now,
        )
    return RevokeTarget(entry, area)


# --- delivery health --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Delivery:
    health: OutboxHealth
    may_retry: bool  # sending failed notifications again reaches every area: the whole country's admins


async def delivery_health(db: Database, member: Member, now: datetime) -> Delivery:
    require_admin(member)
    async with db.read() as conn:
        health = await outbox.queue_health(conn, now)
    return Delivery(health, member.is_global_admin)


async def retry_failed(db: Database, member: Member, now: datetime) -> int:
    require_admin(member)
    if not member.is_global_admin:
        raise AdminError("not_global")
    async with db.transaction() as tx:
        return await outbox.retry_failed(tx, now)
