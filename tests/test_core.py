"""Fast rules of the foundation: callback data, roles, invites, settings, migrations."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.callbacks import CallbackData
from bot.i18n import Translator, pick_language
from bot.roles import InviteOutcome, Member, redeem_invite
from db import users
from db.database import Database

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Booking(CallbackData, prefix="bk"):
    lesson: int
    seat: int | None = None
    confirmed: bool = False


def test_callback_data_round_trips_and_rejects_forgeries() -> None:
    packed = Booking(lesson=12, seat=3, confirmed=True).pack()
    assert packed == "bk:12:3:1"
    assert Booking.unpack(packed) == Booking(lesson=12, seat=3, confirmed=True)
    assert Booking.parse("bk:12::0") == Booking(lesson=12)
    for forged in ("bk:twelve::0", "bk:12", "xx:12::0", "bk:12::0:extra", None, 42):
        assert Booking.parse(forged) is None
    assert Booking.filter()("bk:1::0") and not Booking.filter()("bkk:1")


def test_callback_data_refuses_more_than_64_bytes() -> None:
    class Named(CallbackData, prefix="n"):
        name: str

    Named(name="ж" * 31).pack()  # 2 + 62 bytes: fits
    with pytest.raises(ValueError, match="64 bytes"):
        Named(name="ж" * 32).pack()
    with pytest.raises(ValueError, match="contains"):
        Named(name="a:b").pack()


def test_language_suggestion_from_telegram() -> None:
    assert pick_language("kk", "ru") == "kk"
    assert pick_language("ru-RU", "kk") == "ru"
    assert pick_language("uk", "kk") == "ru"
    assert pick_language("en", "kk") == "kk"
    assert pick_language(None, "ru") == "ru"


def test_dates_and_numbers_follow_the_locale() -> None:
    moment = datetime(2025, 3, 8, 14, 5, tzinfo=UTC)  # 19:05 in Almaty
    assert Translator("kk").date(moment) == "2025\u202fж. 8 наурыз"
    assert Translator("ru").date(moment) == "8 марта 2025\u202fг."
    assert Translator("ru").time(moment) == "19:05"
    assert Translator("kk").number(1234567.891) == "1\xa0234\xa0567,891"


async def test_roles_are_scoped(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.db")
    async with db.transaction() as tx:
        await users.grant_role(tx, user_id=7, role="staff", scope="55", actor_id=None, now=NOW)
        assert not await users.grant_role(tx, user_id=7, role="staff", scope="55", actor_id=None, now=NOW)
        account = await users.get_account(tx, 7)
        grants = await users.roles_of(tx, 7)
        pavlodar_staff = await users.holders_of(tx, "staff", "556069100")
        aktobe_staff = await users.holders_of(tx, "staff", "154630100")
    assert account is not None
    member = Member(account, tuple(grants))
    assert member.can("staff", "556069100") and not member.can("staff", "154630100")
    assert not member.holds("trainer") and not member.is_admin
    assert Member(account, (), settings_admin=True).can("staff", "154630100")
    assert pavlodar_staff == [7] and aktobe_staff == []
    await db.close()


async def test_a_person_and_their_roles_are_read_together(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.db")
    async with db.transaction() as tx:
        await users.ensure_account(tx, 8, NOW)
        await users.grant_role(tx, user_id=7, role="trainer", scope="15", actor_id=8, now=NOW)
        await users.grant_role(tx, user_id=7, role="staff", scope="55", actor_id=None, now=NOW)
    async with db.read() as conn:
        account, grants = await users.account_and_roles(conn, 7)
        assert (account, grants) == (await users.get_account(conn, 7), await users.roles_of(conn, 7))
        assert [(g.role, g.scope, g.granted_by) for g in grants] == [
            ("staff", "55", None),
            ("trainer", "15", 8),
        ]
        assert await users.account_and_roles(conn, 8) == (await users.get_account(conn, 8), [])
        assert await users.account_and_roles(conn, 9) == (None, [])
    await db.close()


async def test_an_area_admin_holds_every_role_in_the_area_and_nothing_outside(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.db")
    async with db.transaction() as tx:
        await users.grant_role(tx, user_id=8, role="admin", scope="55", actor_id=None, now=NOW)
        await users.grant_role(tx, user_id=8, role="trainer", scope="5536", actor_id=None, now=NOW)
        account = await users.get_account(tx, 8)
        grants = await users.roles_of(tx, 8)
    await db.close()
    assert account is not None
    admin = Member(account, tuple(grants))
    assert admin.is_admin and not admin.is_global_admin
    for role in ("staff", "trainer", "admin"):
        assert admin.can(role, "556069100") and admin.can(role, "55")  # type: ignore[arg-type]
        assert not admin.can(role, "154630100") and not admin.can(role, "")  # type: ignore[arg-type]
    assert admin.scopes("trainer") == ["55"]  # the district inside the region adds nothing
    assert Member(account, (), settings_admin=True).is_global_admin


async def test_invite_is_single_use_and_expires(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.db")
    async with db.transaction() as tx:
        invite = await users.create_invite(
            tx, role="trainer", scope="15", actor_id=1, now=NOW, valid_for=timedelta(days=3)
        )
        late = await users.create_invite(
            tx, role="staff", scope="", actor_id=1, now=NOW, valid_for=timedelta(days=3)
        )
    assert await redeem_invite(db, "nope", 2, NOW) == (InviteOutcome.UNKNOWN, None)
    assert (await redeem_invite(db, invite.code, 2, NOW))[0] is InviteOutcome.GRANTED
    assert (await redeem_invite(db, invite.code, 2, NOW))[0] is InviteOutcome.ALREADY
    assert (await redeem_invite(db, invite.code, 3, NOW))[0] is InviteOutcome.USED
    expired = NOW + timedelta(days=3)
    assert (await redeem_invite(db, late.code, 3, expired))[0] is InviteOutcome.EXPIRED
    async with db.read() as conn:
        assert [(g.role, g.scope) for g in await users.roles_of(conn, 2)] == [("trainer", "15")]
        assert await users.roles_of(conn, 3) == []
    await db.close()


async def test_a_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.db")
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await users.grant_role(tx, user_id=9, role="admin", actor_id=None, now=NOW)
            raise RuntimeError("boom")
    async with db.read() as conn:
        assert await users.get_account(conn, 9) is None
        assert await users.roles_of(conn, 9) == []
    await db.close()


async def test_a_transaction_is_seen_by_others_only_once_committed(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.db")
    async with db.transaction():
        pass  # nothing run: nothing to commit, and the next transaction works
    other = sqlite3.connect(tmp_path / "a.db", timeout=0)
    try:
        async with db.transaction() as tx:
            await users.ensure_account(tx, 9, NOW)
            await users.set_language(tx, 9, "kk")
            # Another connection (the command line, a backup) sees none of it yet, and cannot write.
            assert other.execute("SELECT count(*) FROM users WHERE id = 9").fetchone()[0] == 0
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        assert other.execute("SELECT language FROM users WHERE id = 9").fetchone()[0] == "kk"
    finally:
        other.close()
    await db.close()


async def test_a_transaction_without_its_own_fsync_commits_and_leaves_the_next_one_durable(
    tmp_path: Path,
) -> None:
    db = await Database.open(tmp_path / "a.db")

    async def safety_level() -> int:
        async with db.read() as conn, conn.execute("PRAGMA synchronous") as cursor:
            row = await cursor.fetchone()
        return int(row[0])

    full = 2
    assert await safety_level() == full
    async with db.transaction(durable=False) as tx:
        await users.ensure_account(tx, 9, NOW)
    assert await safety_level() == full
    with pytest.raises(RuntimeError):
        async with db.transaction(durable=False) as tx:
            await users.set_language(tx, 9, "kk")
            raise RuntimeError("boom")
    assert await safety_level() == full
    other = sqlite3.connect(tmp_path / "a.db")
    try:
        # Committed (seen by another connection), and the failed one left nothing.
        assert other.execute("SELECT id, language FROM users WHERE id = 9").fetchall() == [(9, None)]
    finally:
        other.close()
    await db.close()


async def test_migrations_apply_once(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.db", migrate=False)
    applied = await db.migrate()
    assert applied[0] == "0001_core.sql"
    assert await db.migrate() == []
    assert await db.schema_version() == len(applied)
    await db.close()


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_invalid_settings_give_one_clear_line_and_status_2(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    missing = run_cli("run", env=env)
    assert missing.returncode == 2
    assert missing.stderr.strip() == "auylnet: invalid setting AUYLNET_BOT_TOKEN: is required"
    bad = run_cli("run", env={**env, "AUYLNET_BOT_TOKEN": "1:x", "AUYLNET_DEFAULT_LANGUAGE": "en"})
    assert bad.returncode == 2
    assert bad.stderr.strip().startswith("auylnet: invalid setting AUYLNET_DEFAULT_LANGUAGE:")


def test_cli_migrate_and_grant(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "AUYLNET_DB_PATH": str(tmp_path / "x.db")}
    migrated = run_cli("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert "0001_core.sql" in migrated.stdout
    assert "up to date" in run_cli("migrate", env=env).stdout
    granted = run_cli("grant", "42", "staff", "--scope", "55", env=env)
    assert granted.stdout.strip() == "user 42: staff in 55"
    assert "already had it" in run_cli("grant", "42", "staff", "--scope", "55", env=env).stdout
    helped = run_cli("--help", env=env)
    for command in ("run", "demo", "migrate", "grant", "sandbox", "import"):
        assert command in helped.stdout
