"""The rules of the installation log, rollout changes and the status card, on a real SQLite file."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.i18n import Translator
from bot.notify import render
from bot.places import (
    notifications,  # noqa: F401 - registers the renderers
    texts,
)
from bot.places.importer import import_kato, import_objects, import_plan
from bot.places.rollout import InstallationError, NewInstallation, RolloutChange, change_rollout, check_speed
from bot.places.service import (
    PlacesError,
    change_stage,
    correct_installation,
    log_installation,
    open_card,
    village_card,
    village_status,
)
from bot.roles import Member
from db import audit, outbox, places
from db.database import Database
from db.models import Account, RoleGrant

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SHAKAT = "556069100"
KATO = """kato,kato_version,level,type_code,name_ru,name_kk
550000000,NK RK 11-2025,oblast,0,Павлодарская область,Павлодар облысы
556000000,NK RK 11-2025,district,2,Павлодарский район,Павлодар ауданы
556069000,NK RK 11-2025,sub_district,2,Шакатский с.о.,Шақат  а.о.
556069100,NK RK 11-2025,settlement,2,с.Шакат,Шақат а.
150000000,NK RK 11-2025,oblast,0,Актюбинская область,Ақтөбе облысы
154600000,NK RK 11-2025,district,2,Мартукский район,Мәртөк ауданы
154630100,NK RK 11-2025,settlement,2,с.Мартук,Мәртөк а.
"""
STAFF, OTHER_STAFF, AKTOBE_STAFF, AIGUL, OLGA = 11, 12, 13, 21, 22


def member(user_id: int, role: str | None = None, scope: str = "") -> Member:
    account = Account(id=user_id, first_name="x", first_seen=NOW, last_seen=NOW)
    grants = (RoleGrant(user_id=user_id, role=role, scope=scope, granted_at=NOW),) if role else ()  # type: ignore[arg-type]
    return Member(account, grants)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "rules.db")
    await import_kato(database, KATO.encode())
    await import_plan(
        database,
        b"kato,stage,planned_year,planned_quarter,operator,hotline,technology,planned_technology\n"
        b"556069100,construction,2026,4,Kazakhtelecom,160,satellite,fibre\n",
    )
    await import_objects(
        database,
        "kato,kind,name,name_kk,name_ru\n"
        "556069100,school,№1 мектеп,№1 орта мектеп,Средняя школа №1\n"
        "556069100,akimat,Әкімдік,Ауылдық округ әкімдігі,Акимат сельского округа\n".encode(),
    )
    async with database.transaction() as tx:
        for user_id, language in ((AIGUL, "kk"), (OLGA, "ru")):
            await tx.execute(
                "INSERT INTO users (id, first_name, language, first_seen, last_seen)"
                " VALUES (?, 'x', ?, 'x', 'x')",
                (user_id, language),
            )
            await places.follow(tx, user_id, SHAKAT, NOW)
    yield database
    await database.close()


async def building_id(db: Database, kind: str = "school") -> int:
    async with db.read() as conn:
        return next(o.id for o in await places.objects_of(conn, SHAKAT) if o.kind == kind)


async def pending(db: Database) -> list[tuple[int, str, dict[str, object]]]:
    async with db.read() as conn:
        rows = await conn.execute_fetchall("SELECT chat_id, kind, params FROM outbox ORDER BY id")
    return [(row[0], row[1], json.loads(row[2])) for row in rows]


def rendered(kind: str, language: str, params: dict[str, object]) -> str:
    return render(kind, Translator(language), params).text  # type: ignore[arg-type]


async def test_a_school_going_online_does_not_connect_the_homes(db: Database) -> None:
    """The village is connected for homes only when staff say so; a school is news about the school."""
    new = NewInstallation(SHAKAT, await building_id(db), None, None, "fibre", 85.5)
    installation, created = await log_installation(
        db, member(STAFF, "staff", "55"), new, source_key="u:1", now=NOW
    )
    assert created and installation.speed_mbps == 85.5
    async with db.read() as conn:
        card = await village_card(conn, SHAKAT, AIGUL, NOW)
    assert card is not None and card.following
    assert card.village.stage == "construction"  # not "connected": homes cannot get internet yet
    assert card.village.technology == "fibre" and card.village.planned_technology is None
    school = next(o for o in card.objects if o.kind == "school")
    assert school.connected and school.speed_mbps == 85.5
    news = await pending(db)
    assert sorted((chat, kind) for chat, kind, _ in news) == [
        (AIGUL, "village.object_online"),
        (OLGA, "village.object_online"),
    ]
    by_chat = {chat: params for chat, _, params in news}
    assert rendered("village.object_online", "kk", by_chat[AIGUL]).splitlines() == [
        "✅ Шақат: 🏫 №1 орта мектеп интернетке қосылды, 85,5 Мбит/с.",
        "🏠 Үйлер: әзірге жоқ; мерзімі — 2026 ж. 4-тоқсан.",
    ]
    assert rendered("village.object_online", "ru", by_chat[OLGA]).splitlines() == [
        "✅ Шакат: 🏫 Средняя школа №1 — интернет подключён, 85,5 Мбит/с.",
        "🏠 Дома: пока нет; срок — 4-й квартал 2026 г.",
    ]


async def test_staff_connect_the_homes_and_followers_hear_whom_to_ask(db: Database) -> None:
    card, notified = await change_stage(
        db,
        member(STAFF, "staff", "5560"),
        SHAKAT,
        stage="connected",
        year=None,
        quarter=None,
        reason="homes_ready",
        now=NOW,
    )
    assert notified == 2 and card.village.stage == "connected"
    by_chat = {chat: params for chat, _, params in await pending(db)}
    assert rendered("village.stage_changed", "ru", by_chat[OLGA]).splitlines() == [
        "🎉 Шакат: теперь интернет можно провести в дома!",
        "Причина: оператор уже подключает дома.",
        "🏠 Дома: чтобы провести интернет домой, обратитесь к оператору Kazakhtelecom. ☎️ 160",
        "Подробнее: /village",
    ]
    assert rendered("village.stage_changed", "kk", by_chat[AIGUL]).splitlines()[0] == (
        "🎉 Шақат: енді үйлерге интернет қосуға болады!"
    )


async def test_a_stage_change_is_refused_outside_the_staff_members_area_and_changes_nothing(
    db: Database,
) -> None:
    with pytest.raises(PlacesError, match="outside_area"):
        await change_stage(
            db,
            member(AKTOBE_STAFF, "staff", "15"),
            SHAKAT,
            stage="connected",
            year=None,
            quarter=None,
            reason="homes_ready",
            now=NOW,
        )
    with pytest.raises(PlacesError, match="not_staff"):
        await change_stage(
            db,
            member(AIGUL),
            SHAKAT,
            stage="connected",
            year=None,
            quarter=None,
            reason="homes_ready",
            now=NOW,
        )
    with pytest.raises(PlacesError, match="stale"):  # «other reasons» is not a reason staff may give
        await change_stage(
            db,
            member(STAFF, "staff", "55"),
            SHAKAT,
            stage="design",
            year=2027,
            quarter=1,
            reason="other",
            now=NOW,
        )
    async with db.read() as conn:
        village = await places.get_village(conn, SHAKAT)
    assert village is not None and village.stage == "construction"
    assert await pending(db) == []


async def test_installing_outside_the_area_or_correcting_another_area_is_refused(db: Database) -> None:
    new = NewInstallation(SHAKAT, await building_id(db), None, None, "fibre", 60)
    with pytest.raises(InstallationError, match="outside_area"):
        await log_installation(db, member(AKTOBE_STAFF, "staff", "15"), new, source_key="u:9", now=NOW)
    installation, _ = await log_installation(
        db, member(STAFF, "staff", "55"), new, source_key="u:10", now=NOW
    )
    # The same person, now staff of another region only (the Pavlodar grant was revoked), may not correct it.
    with pytest.raises(InstallationError, match="outside_area"):
        await correct_installation(db, member(STAFF, "staff", "15"), installation.id, speed_mbps=90, now=NOW)
    async with db.read() as conn:
        kept = await places.get_installation(conn, installation.id)
    assert kept is not None and kept.speed_mbps == 60


async def test_the_same_confirmation_twice_makes_one_installation(db: Database) -> None:
    new = NewInstallation(SHAKAT, await building_id(db), None, None, "fibre", 60)
    for _ in range(2):
        await log_installation(db, member(STAFF, "staff", "55"), new, source_key="callback:42", now=NOW)
    async with db.read() as conn:
        assert len(await places.installations_by(conn, STAFF)) == 1
    assert len(await pending(db)) == 2


async def test_a_new_building_can_be_added_while_logging(db: Database) -> None:
    new = NewInstallation(SHAKAT, None, "medical", "Медпункт", "satellite", 20)
    installation, _ = await log_installation(db, member(STAFF, "staff", "55"), new, source_key="u:2", now=NOW)
    async with db.read() as conn:
        objects = await places.objects_of(conn, SHAKAT)
        village = await places.get_village(conn, SHAKAT)
    assert [(o.kind, o.name, o.connected) for o in objects] == [
        ("school", "№1 мектеп", False),
        ("medical", "Медпункт", True),
        ("akimat", "Әкімдік", False),
    ]
    assert village is not None and village.technology == "satellite" and village.planned_technology == "fibre"
    assert installation.object_id == objects[1].id


async def test_corrections_are_the_authors_for_24_hours_with_an_audit_trail(db: Database) -> None:
    new = NewInstallation(SHAKAT, await building_id(db), None, None, "fibre", 85)
    installation, _ = await log_installation(db, member(STAFF, "staff", "55"), new, source_key="u:3", now=NOW)
    with pytest.raises(InstallationError, match="not_the_author"):
        await correct_installation(
            db, member(OTHER_STAFF, "staff", "55"), installation.id, speed_mbps=90, now=NOW
        )
    fixed = await correct_installation(
        db, member(STAFF, "staff", "55"), installation.id, speed_mbps=92, now=NOW + timedelta(hours=23)
    )
    assert fixed.speed_mbps == 92
    with pytest.raises(InstallationError, match="too_late"):
        await correct_installation(
            db,
            member(STAFF, "staff", "55"),
            installation.id,
            speed_mbps=95,
            now=NOW + timedelta(hours=24, minutes=1),
        )
    async with db.read() as conn:
        trail = await audit.entries_for(conn, f"installation:{installation.id}")
    assert [entry.action for entry in trail] == ["installation.log", "installation.correct"]
    assert trail[1].detail == {
        "old": {"speed_mbps": 85.0, "technology": "fibre"},
        "new": {"speed_mbps": 92.0, "technology": "fibre"},
    }


@pytest.mark.parametrize(
    ("typed", "speed"), [("85", 85.0), ("85,5", 85.5), (" 92.25 Мбит/с", 92.2), ("100 Mbps", 100.0)]
)
def test_speeds_as_staff_type_them(typed: str, speed: float) -> None:
    assert check_speed(typed) == speed


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("fast", "speed_not_a_number"),
        ("0", "speed_out_of_range"),
        ("20000", "speed_out_of_range"),
        ("", "speed_not_a_number"),
    ],
)
def test_bad_speeds_are_refused(typed: str, code: str) -> None:
    with pytest.raises(InstallationError) as raised:
        check_speed(typed)
    assert raised.value.code == code


async def test_a_delay_tells_followers_the_new_window_and_why_in_their_language(db: Database) -> None:
    async with db.read() as conn:
        village = await places.get_village(conn, SHAKAT)
    assert village is not None
    change = RolloutChange(
        stage="construction",
        planned_year=2027,
        planned_quarter=2,
        operator="Kazakhtelecom",
        technology="satellite",
        planned_technology="fibre",
    )
    async with db.transaction() as tx:
        outcome = await change_rollout(tx, village, change, reason="delayed_permits", actor_id=STAFF, now=NOW)
    assert outcome.fields == ["window"] and outcome.notified == 2
    by_chat = {chat: (kind, params) for chat, kind, params in await pending(db)}
    assert rendered(*by_chat[AIGUL][:1], "kk", by_chat[AIGUL][1]) == (
        "Шақат: жоспарланған мерзім өзгерді.\nЖоспар: 2027 ж. 2-тоқсан.\nСебебі: рұқсаттарға байланысты кешікті."
    )
    assert rendered(*by_chat[OLGA][:1], "ru", by_chat[OLGA][1]) == (
        "Шакат: изменился плановый срок.\nПлан: 2-й квартал 2027 г.\nПричина: перенесено из-за разрешений."
    )
    async with db.read() as conn:
        counts = await outbox.count_by_state(conn)
    assert counts.get("pending") == 2


async def test_the_card_names_buildings_in_the_readers_language_and_says_what_homes_can_do(
    db: Database,
) -> None:
    new = NewInstallation(SHAKAT, await building_id(db, "akimat"), None, None, "fibre", 50)
    await log_installation(db, member(STAFF, "staff", "55"), new, source_key="u:4", now=NOW)
    card = await open_card(db, member(OLGA), SHAKAT, NOW)
    assert card is not None
    ru = texts.render_card(Translator("ru"), card)
    kk = texts.render_card(Translator("kk"), card)
    assert "🏛 Акимат сельского округа: ✅ подключено, 50 Мбит/с" in ru
    assert "🏫 Средняя школа №1: ⏳ пока нет" in ru
    assert "📶 Интернет есть: акимат." in ru
    assert "🏠 Дома: пока нет; срок — 4-й квартал 2026 г." in ru
    assert "Оператор: Kazakhtelecom, ☎️ 160" in ru
    assert "🏫 №1 орта мектеп: ⏳ әзірге жоқ" in kk and "(мектеп)" not in kk
    assert "🔔 Вы подписаны на новости села" in ru  # Ольга follows Шакат


async def test_the_last_change_says_what_changed_and_why_without_repeating_itself(db: Database) -> None:
    await change_stage(
        db,
        member(STAFF, "staff", "55"),
        SHAKAT,
        stage="construction",
        year=2027,
        quarter=2,
        reason="delayed_weather",
        now=NOW,
    )
    card = await open_card(db, member(AIGUL), SHAKAT, NOW)
    assert card is not None
    ru = texts.render_card(Translator("ru"), card)
    assert "Последнее изменение (23 ноября 2026 г.): срок: 2-й квартал 2027 г.." not in ru
    assert "срок: 2-й квартал 2027 г." in ru and "Причина: перенесено из-за погоды." in ru
    assert "другие причины" not in ru and "other reasons" not in ru


async def test_a_card_shows_an_open_outage_with_its_state_and_reports(db: Database) -> None:
    async with db.transaction() as tx:
        opened = "2026-11-23T05:40:00+00:00"  # 10:40 in Almaty
        await tx.execute(
            "INSERT INTO incidents (id, village_code, kind, state, opened_at, taken_at, taken_by)"
            " VALUES (1, ?, 'home', 'taken', ?, ?, ?)",
            (SHAKAT, opened, opened, STAFF),
        )
        for user_id in (AIGUL, OLGA):
            await tx.execute(
                "INSERT INTO reports (incident_id, user_id, village_code, kind, since, created_at)"
                " VALUES (1, ?, ?, 'home', 'now', ?)",
                (user_id, SHAKAT, opened),
            )
    card = await open_card(db, member(AIGUL), SHAKAT, NOW)
    assert card is not None
    assert "⚠️ 2 соседа сообщили: не работает домашний интернет (с 10:40); инженер уже работает." in (
        texts.render_card(Translator("ru"), card)
    )
    assert "⚠️ 2 көрші хабарлады: үйдегі интернет істемейді (уақыты: 10:40); инженер жұмыс істеп жатыр." in (
        texts.render_card(Translator("kk"), card)
    )


async def test_a_card_fits_a_telegram_message_whatever_the_data_holds(db: Database) -> None:
    """300 buildings and a 5,000-character name (data from before length limits) still fit 4,096."""
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE villages SET name_ru = ?, name_kk = ? WHERE code = ?", ("Ш" * 5000, "Ш" * 5000, SHAKAT)
        )
        for number in range(300):
            await places.add_object(tx, SHAKAT, "school", f"Школа №{number} " + "и" * 300)
    card = await open_card(db, member(AIGUL), SHAKAT, NOW)
    assert card is not None
    for language in ("kk", "ru"):
        text = texts.render_card(Translator(language), card, notice="✅ " + "x" * 100)  # type: ignore[arg-type]
        assert len(text) <= 4096
        assert "…" in text and "🏠" in text  # shortened, and what homes can do is still there


async def test_whether_a_place_has_internet_yet_for_an_outage_report(db: Database) -> None:
    async with db.read() as conn:
        homes = await village_status(conn, SHAKAT, "home")
        school = await village_status(conn, SHAKAT, "school")
        mobile = await village_status(conn, SHAKAT, "mobile")
        unknown = await village_status(conn, "999999999")
    assert (
        homes is not None
        and not homes.has_internet
        and (homes.planned_year, homes.planned_quarter) == (2026, 4)
    )
    assert school is not None and not school.has_internet
    assert mobile is not None and mobile.has_internet
    assert unknown is None
    new = NewInstallation(SHAKAT, await building_id(db), None, None, "fibre", 60)
    await log_installation(db, member(STAFF, "staff", "55"), new, source_key="u:5", now=NOW)
    async with db.read() as conn:
        school = await village_status(conn, SHAKAT, "school")
        akimat = await village_status(conn, SHAKAT, "akimat")
        village = await village_status(conn, SHAKAT, "village")
        homes = await village_status(conn, SHAKAT)
    assert school is not None and school.has_internet and school.online == ("school",)
    assert akimat is not None and not akimat.has_internet
    assert village is not None and village.has_internet
    assert homes is not None and not homes.has_internet
