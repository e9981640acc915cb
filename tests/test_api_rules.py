"""Rules of the open API on real SQLite files: keys, limits, reporter accounts, what counts as a network."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.api import keys, service
from bot.api.keys import ApiKeyError, RateLimiter
from bot.api.service import ApiError, ApiReport
from bot.api.texts import language_of
from bot.clock import Clock
from bot.outages.service import take
from db import api, audit
from db.api import REPORTER_ID_CEILING
from db.database import Database
from tests.api_support import BAYANAUL, bot_settings, seeded_database
from tests.test_classes_rules import person


@pytest.fixture
async def db(tmp_path: Path) -> Database:
    return await seeded_database(tmp_path / "rules.db")


async def test_a_key_is_shown_once_and_kept_only_as_a_hash(db: Database) -> None:
    now = Clock().now()
    made = await keys.create_key(
        db, name="e-Akimat Pavlodar", scope="write", area="55", per_minute=120, now=now
    )
    assert made.token.startswith("aun_") and len(made.token) > 40
    async with db.read() as conn:
        rows = await conn.execute_fetchall("SELECT * FROM api_keys")
        [entry] = await audit.entries_for(conn, f"apikey:{made.key.id}")
    assert all(made.token not in str(value) for value in rows[0])
    assert rows[0]["token_hash"] == keys.token_hash(made.token) and made.token.startswith(rows[0]["prefix"])
    assert entry.action == "apikey.create" and entry.detail["area"] == "55"
    found = await keys.find_key(db, made.token)
    assert found is not None and (found.scope, found.area, found.per_minute) == ("write", "55", 120)
    assert await keys.find_key(db, made.token + "x") is None
    assert await keys.find_key(db, "not-a-key") is None

    second = await keys.create_key(
        db, name="e-Akimat Pavlodar", scope="read", area="", per_minute=None, now=now
    )
    assert second.key.client_id == made.key.client_id  # one client, two keys
    assert await keys.revoke_key(db, made.key.id, now)
    assert not await keys.revoke_key(db, made.key.id, now)
    assert await keys.find_key(db, made.token) is None
    assert [(k.id, k.active) for k in await keys.list_keys(db)] == [
        (made.key.id, False),
        (second.key.id, True),
    ]
    for bad in ({"name": " "}, {"scope": "admin"}, {"area": "Pavlodar"}, {"per_minute": 0}):
        arguments = {"name": "X", "scope": "read", "area": "", "per_minute": None, **bad}
        with pytest.raises(ApiKeyError):
            await keys.create_key(db, now=now, **arguments)  # type: ignore[arg-type]
    await db.close()


def test_the_rate_limit_allows_a_minutes_worth_then_says_how_long_to_wait() -> None:
    moment = [0.0]
    limiter = RateLimiter(lambda: moment[0])
    assert [limiter.take("ip:1", 3) for _ in range(3)] == [0, 0, 0]
    assert limiter.take("ip:1", 3) == 20  # one request every 20 s
    assert limiter.take("ip:2", 3) == 0  # someone else is not held back
    moment[0] = 19.5
    assert limiter.take("ip:1", 3) == 1
    moment[0] = 20.0
    assert limiter.take("ip:1", 3) == 0


async def test_reporter_accounts_lie_beyond_telegram_ids_and_are_never_written_to(db: Database) -> None:
    now = Clock().now()
    async with db.transaction() as tx:
        first_client = await api.ensure_client(tx, "A", "salt-a", now)
        second_client = await api.ensure_client(tx, "B", "salt-b", now)
        own = await api.reporter_account(
            tx, client_id=first_client, client_name="A", reporter_key="", now=now
        )
        resident = await api.reporter_account(
            tx, client_id=first_client, client_name="A", reporter_key="h1", now=now
        )
        again = await api.reporter_account(
            tx, client_id=first_client, client_name="A", reporter_key="h1", now=now
        )
        other = await api.reporter_account(
            tx, client_id=second_client, client_name="B", reporter_key="h1", now=now
        )
        blocked = await tx.execute_fetchall(
            "SELECT blocked, first_name FROM users WHERE id <= ? ORDER BY id DESC", (REPORTER_ID_CEILING,)
        )
    assert own == REPORTER_ID_CEILING == -(2**53)
    assert resident == own - 1 and again == resident and other == own - 2
    assert [tuple(row) for row in blocked] == [(1, "A"), (1, "A"), (1, "B")]
    await db.close()


def test_a_resident_of_another_system_is_told_apart_without_keeping_who_they_are() -> None:
    one = service.reporter_key("salt", ("email", "Aigul@Mail.kz "))
    assert one == service.reporter_key("salt", ("email", "aigul@mail.kz"))
    assert one != service.reporter_key("other salt", ("email", "aigul@mail.kz"))
    assert one != service.reporter_key("salt", ("phone", "aigul@mail.kz"))
    assert "aigul" not in one and len(one) == 64
    assert service.reporter_key("salt", None) == ""


async def test_nobody_writes_to_a_system_account_when_its_outage_changes(db: Database) -> None:
    clock = Clock()
    settings = bot_settings(Path(db.path))
    made = await keys.create_key(db, name="Portal", scope="write", area="", per_minute=None, now=clock.now())
    filed = await service.file_request(
        db,
        made.key,
        ApiReport("home", village_code=BAYANAUL),
        settings=settings,
        nearest_km=5,
        now=clock.now(),
    )
    assert filed.new and filed.number == "AN-000001"
    await take(db, person(700, ("staff", "")), 1, settings, clock.now())
    async with db.read() as conn:
        to_system = await conn.execute_fetchall(
            "SELECT count(*) FROM outbox WHERE chat_id <= ?", (REPORTER_ID_CEILING,)
        )
    assert to_system[0][0] == 0
    await db.close()


async def test_what_counts_as_a_village_with_a_network(db: Database) -> None:
    async with db.read() as conn:
        connected = await api.public_village(conn, BAYANAUL)
        satellite = await api.public_village(conn, "555257100")  # design stage, served by satellite meanwhile
        building = await api.public_village(conn, "556069100")  # construction, nothing online
    assert connected is not None and service.has_network(connected)
    assert satellite is not None and satellite.stage == "design" and service.has_network(satellite)
    assert building is not None and not service.has_network(building)
    await db.close()


async def test_searches_span_at_most_90_days(db: Database) -> None:
    now = Clock().now()
    with pytest.raises(ApiError) as refused:
        await service.find_requests(
            db, start=now - timedelta(days=91), end=now, kinds=[], closed=None, limit=10, offset=0, now=now
        )
    assert refused.value.code == "range_too_long"
    found = await service.find_requests(
        db,
        start=now - timedelta(days=400),
        end=None,
        kinds=["home"],
        closed=None,
        limit=10,
        offset=0,
        now=now,
    )
    assert found == []
    await db.close()


def test_request_numbers_and_languages() -> None:
    assert service.parse_request_number("AN-000123") == 123
    assert service.parse_request_number(" an-7 ") == 7
    assert service.parse_request_number("123") == 123
    assert service.parse_request_number("AN-12x") is None
    assert service.parse_request_number("9" * 20) is None
    assert service.request_number(5) == "AN-000005"
    assert language_of("kk_KZ", None, "ru") == "kk"
    assert language_of("ru-RU", None, "kk") == "ru"
    assert language_of(None, "en-US,ru;q=0.8", "kk") == "ru"
    assert language_of("en", "de", "kk") == "kk"
