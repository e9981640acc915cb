"""Rules of administration on a real SQLite file: every action is a (role, area) check."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.admin import service
from bot.admin.callbacks import InviteCb, RevokeCb
from bot.admin.service import AdminError
from bot.demo.seed import seed_demo
from bot.roles import InviteOutcome, Member
from db import users
from db.database import Database
from db.models import Account, Role, RoleGrant

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
GLOBAL, PAVLODAR_ADMIN, AKTOBE_STAFF, PAVLODAR_STAFF, NEWCOMER = 1, 2, 3, 4, 5
SETTINGS_ADMINS = frozenset({GLOBAL})


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "admin.db")
    await seed_demo(database)
    async with database.transaction() as tx:
        for user_id, first, last in (
            (GLOBAL, "Әсел", "Нұрланқызы"),
            (PAVLODAR_ADMIN, "Марат", "Ахметов"),
            (AKTOBE_STAFF, "Сергей", "Ким"),
            (PAVLODAR_STAFF, "Бауыржан", None),
            (NEWCOMER, "Дана", "Омарова"),
        ):
            await users.record_contact(
                tx,
                user_id=user_id,
                first_name=first,
                last_name=last,
                username=None,
                telegram_language="kk",
                now=NOW,
            )
        await users.grant_role(tx, user_id=PAVLODAR_ADMIN, role="admin", scope="55", actor_id=GLOBAL, now=NOW)
        await users.grant_role(tx, user_id=AKTOBE_STAFF, role="staff", scope="15", actor_id=GLOBAL, now=NOW)
        await users.grant_role(
            tx, user_id=PAVLODAR_STAFF, role="staff", scope="5536", actor_id=GLOBAL, now=NOW
        )
    yield database
    await database.close()


async def member(db: Database, user_id: int) -> Member:
    async with db.read() as conn:
        account = await users.get_account(conn, user_id)
        grants = await users.roles_of(conn, user_id)
    assert account is not None
    return Member(account, tuple(grants), settings_admin=user_id in SETTINGS_ADMINS)


async def snapshot(db: Database) -> tuple[list[tuple[object, ...]], ...]:
    """Everything an admin action could change."""
    found = []
    async with db.read() as conn:
        for sql in (
            "SELECT * FROM roles ORDER BY user_id, role, scope",
            "SELECT * FROM invites ORDER BY code",
            "SELECT id, action, detail FROM audit_log ORDER BY id",
            "SELECT id, chat_id, kind FROM outbox ORDER BY id",
        ):
            found.append([tuple(row) for row in await conn.execute_fetchall(sql)])
    return tuple(found)


async def test_an_area_admin_cannot_act_on_another_area_and_nothing_changes(db: Database) -> None:
    admin = await member(db, PAVLODAR_ADMIN)
    before = await snapshot(db)

    attempts: list[tuple[str, object]] = [
        ("outside_area", service.create_invite(db, admin, "staff", "15", source_key=None, now=NOW)),
        ("outside_area", service.create_invite(db, admin, "trainer", "153200000", source_key=None, now=NOW)),
        ("wider_than_yours", service.create_invite(db, admin, "admin", "", source_key=None, now=NOW)),
        ("unknown_area", service.create_invite(db, admin, "staff", "9999", source_key=None, now=NOW)),
        ("outside_area", service.invite_choices(db, admin, "staff", "15")),
        ("outside_area", service.revoke_target(db, admin, AKTOBE_STAFF, "staff", "15")),
        ("outside_area", service.revoke(db, admin, AKTOBE_STAFF, "staff", "15", NOW)),
        ("outside_area", service.revoke_targets(db, admin, AKTOBE_STAFF, "staff")),
        ("outside_area", service.revoke(db, admin, GLOBAL, "admin", "", NOW)),
        ("not_global", service.retry_failed(db, admin, NOW)),
    ]
    for code, attempt in attempts:
        with pytest.raises(AdminError) as refused:
            await attempt  # type: ignore[misc]
        assert refused.value.code == code
        if code in ("outside_area", "wider_than_yours"):
            # The refusal can name what the admin does cover.
            assert [area.names["ru"] for area in refused.value.areas] == ["Павлодарская область"]

    listed = await service.list_roles(db, admin)
    assert [(e.grant.user_id, e.grant.role, e.grant.scope) for e in listed.entries] == [
        (PAVLODAR_ADMIN, "admin", "55"),
        (PAVLODAR_STAFF, "staff", "5536"),
    ]
    assert await snapshot(db) == before


async def test_an_area_admin_invites_inside_the_area_never_wider(db: Database) -> None:
    admin = await member(db, PAVLODAR_ADMIN)
    made = await service.create_invite(db, admin, "staff", "5536", source_key="callback:1", now=NOW)
    assert made.invite.scope == "5536" and made.invite.created_by == PAVLODAR_ADMIN
    assert made.area.names == {"kk": "Баянауыл ауданы", "ru": "Баянаульский район"}
    assert made.area.parent_names["ru"] == "Павлодарская область"
    # The same update again makes no second invite.
    again = await service.create_invite(db, admin, "staff", "5536", source_key="callback:1", now=NOW)
    assert again.invite.code == made.invite.code
    # As wide as their own area is allowed; a full area code means the area.
    peer = await service.create_invite(db, admin, "admin", "550000000", source_key=None, now=NOW)
    assert peer.invite.scope == "55"
    async with db.read() as conn:
        assert len(await conn.execute_fetchall("SELECT * FROM invites")) == 2


async def test_the_invite_choices_follow_the_admins_area(db: Database) -> None:
    everywhere = await member(db, GLOBAL)
    top = await service.invite_choices(db, everywhere, "staff", None)
    assert top.everywhere and top.current is None
    assert {area.names["ru"] for area in top.parts} == {"Актюбинская область", "Павлодарская область"}
    region = await service.invite_choices(db, everywhere, "staff", "55")
    assert region.current is not None and region.current.scope == "55" and not region.everywhere
    assert "Баянаульский район" in {area.names["ru"] for area in region.parts}
    assert all(area.scope.startswith("55") and len(area.scope) == 4 for area in region.parts)

    area_admin = await member(db, PAVLODAR_ADMIN)
    own = await service.invite_choices(db, area_admin, "trainer", None)
    assert not own.everywhere and own.top  # no «whole country», and it starts at their region
    assert own.current is not None and own.current.scope == "55"


async def test_using_an_invite_tells_its_maker_once(db: Database) -> None:
    admin = await member(db, PAVLODAR_ADMIN)
    made = await service.create_invite(db, admin, "trainer", "5536", source_key=None, now=NOW)
    newcomer = await member(db, NEWCOMER)
    used = await service.use_invite(db, newcomer, made.invite.code, admin_ids=SETTINGS_ADMINS, now=NOW)
    assert used.outcome is InviteOutcome.GRANTED and used.area is not None
    again = await service.use_invite(db, newcomer, made.invite.code, admin_ids=SETTINGS_ADMINS, now=NOW)
    assert again.outcome is InviteOutcome.ALREADY
    async with db.read() as conn:
        grants = await users.roles_of(conn, NEWCOMER)
        told = await conn.execute_fetchall("SELECT chat_id, kind, params FROM outbox")
    assert [(g.role, g.scope) for g in grants] == [("trainer", "5536")]
    assert [(row[0], row[1]) for row in told] == [(PAVLODAR_ADMIN, "admin.invite_used")]
    assert "Дана Омарова" in told[0][2]


async def test_an_invite_dies_with_its_makers_right_to_give_the_role(db: Database) -> None:
    admin = await member(db, PAVLODAR_ADMIN)
    made = await service.create_invite(db, admin, "staff", "55", source_key=None, now=NOW)
    async with db.transaction() as tx:
        await users.revoke_grant(
            tx, user_id=PAVLODAR_ADMIN, role="admin", scope="55", actor_id=GLOBAL, now=NOW
        )
    used = await service.use_invite(
        db, await member(db, NEWCOMER), made.invite.code, admin_ids=SETTINGS_ADMINS, now=NOW
    )
    assert used.outcome is InviteOutcome.REVOKED
    expired = await service.create_invite(
        db, await member(db, GLOBAL), "staff", "15", source_key=None, now=NOW
    )
    late = NOW + timedelta(days=3, minutes=1)
    used = await service.use_invite(
        db, await member(db, NEWCOMER), expired.invite.code, admin_ids=SETTINGS_ADMINS, now=late
    )
    assert used.outcome is InviteOutcome.EXPIRED
    async with db.read() as conn:
        assert await users.roles_of(conn, NEWCOMER) == []


async def test_revoking_asks_for_the_person_and_twice_says_it_is_already_gone(db: Database) -> None:
    admin = await member(db, PAVLODAR_ADMIN)
    target = await service.revoke_target(db, admin, PAVLODAR_STAFF, "staff", "5536")
    assert target.entry.full_name == "Бауыржан" and target.area.names["kk"] == "Баянауыл ауданы"
    done = await service.revoke(db, admin, PAVLODAR_STAFF, "staff", "5536", NOW)
    assert done.entry.grant.user_id == PAVLODAR_STAFF
    with pytest.raises(AdminError) as again:
        await service.revoke(db, admin, PAVLODAR_STAFF, "staff", "5536", NOW + timedelta(minutes=1))
    assert again.value.code == "already_revoked" and again.value.revocation is not None
    assert again.value.revocation.actor_name == "Марат Ахметов" and again.value.revocation.at == NOW
    with pytest.raises(AdminError) as by_command:
        await service.revoke_targets(db, admin, PAVLODAR_STAFF, "staff")
    assert by_command.value.code == "already_revoked"
    with pytest.raises(AdminError) as never:
        await service.revoke_targets(db, admin, NEWCOMER, "trainer")
    assert never.value.code == "no_such_role"
    with pytest.raises(AdminError) as own:
        await service.revoke(db, admin, PAVLODAR_ADMIN, "admin", "55", NOW)
    assert own.value.code == "own_role"
    async with db.read() as conn:
        told = await conn.execute_fetchall("SELECT chat_id, kind FROM outbox")
        trail = await conn.execute_fetchall(
            "SELECT action FROM audit_log WHERE subject = ? ORDER BY id", (f"user:{PAVLODAR_STAFF}",)
        )
    assert [tuple(row) for row in told] == [(PAVLODAR_STAFF, "admin.role_revoked")]
    assert [row[0] for row in trail] == ["role.grant", "role.revoke"]


async def test_a_resident_is_refused_every_admin_action(db: Database) -> None:
    resident = await member(db, NEWCOMER)
    before = await snapshot(db)
    for attempt in (
        service.panel(db, resident),
        service.create_invite(db, resident, "staff", "55", source_key=None, now=NOW),
        service.list_roles(db, resident),
        service.revoke(db, resident, AKTOBE_STAFF, "staff", "15", NOW),
        service.delivery_health(db, resident, NOW),
    ):
        with pytest.raises(AdminError) as refused:
            await attempt  # type: ignore[misc]
        assert refused.value.code == "not_admin"
    assert await snapshot(db) == before


async def test_areas_are_named_from_the_places_tables(db: Database) -> None:
    async with db.read() as conn:
        country = await service.find_area(conn, "")
        region = await service.find_area(conn, "55")
        district = await service.find_area(conn, "553600000")
        village = await service.find_area(conn, "556069100")
        unknown = [await service.find_area(conn, code) for code in ("9999", "5", "553", "55x", "999999999")]
    assert country is not None and country.everywhere
    assert region is not None and region.names["kk"] == "Павлодар облысы" and region.level == "region"
    assert district is not None and district.scope == "5536" and district.level == "district"
    assert village is not None and village.level == "village" and village.names["ru"] == "Шакат"
    assert unknown == [None] * 5


def test_forged_admin_buttons_do_not_parse() -> None:
    assert InviteCb.parse("inv:staff:55:1") == InviteCb(role="staff", area="55", make=True)
    for forged in ("inv:boss:55:1", "inv:staff:5a:1", "inv:staff:55", "inv:admin:" + "1" * 13 + ":1"):
        assert InviteCb.parse(forged) is None
    assert RevokeCb.parse("rvk:7:staff::1") == RevokeCb(user_id=7, role="staff", confirmed=True)
    assert RevokeCb.parse("rvk:" + "9" * 20 + ":staff::1") is None


def test_a_member_built_by_hand_checks_the_same_way() -> None:
    account = Account(id=9, first_name="x", first_seen=NOW, last_seen=NOW)
    grants = (RoleGrant(user_id=9, role="admin", scope="5536", granted_at=NOW),)
    district_admin = Member(account, grants)
    role: Role
    for role in ("staff", "trainer", "admin"):
        assert district_admin.can(role, "5536") and not district_admin.can(role, "55")
