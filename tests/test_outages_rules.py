"""Outage rules on a real SQLite file: mass outages across a district, reopening, who is told what."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from bot.clock import Clock, to_db
from bot.config import Settings
from bot.outages.service import (
    NewReport,
    answer_working,
    check_service_levels,
    file_report,
    is_overdue,
    resolve,
)
from bot.roles import Member
from db import outages, users
from db.database import Database

STAFF_GROUP = -100500
SHAKAT = "556069100"
BAYANAUL, SHONAY, AKSAN = "553630100", "553630400", "553633100"  # three villages of Bayanaul district


def settings(**overrides: object) -> Settings:
    return Settings(
        bot_token="1:x",
        _env_file=None,
        staff_chat_id=STAFF_GROUP,  # type: ignore[call-arg]
        **overrides,
    )


async def seeded(tmp_path: Path, people: int) -> Database:
    from bot.demo.seed import seed_demo

    db = await Database.open(tmp_path / "outages.db")
    await seed_demo(db)
    async with db.transaction() as tx:
        for user_id in range(1, people + 1):
            await tx.execute(
                "INSERT INTO users (id, first_name, language, first_seen, last_seen)"
                " VALUES (?, 'x', 'kk', ?, ?)",
                (user_id, to_db(Clock().now()), to_db(Clock().now())),
            )
    return db


async def member(db: Database, user_id: int) -> Member:
    """The person as the handlers see them: their account and the roles they hold now."""
    async with db.read() as conn:
        account = await users.get_account(conn, user_id)
        grants = await users.roles_of(conn, user_id)
    assert account is not None
    return Member(account, tuple(grants))


async def staff_member(db: Database, user_id: int, scope: str = "") -> Member:
    async with db.transaction() as tx:
        await users.ensure_account(tx, user_id, Clock().now())
        await users.grant_role(
            tx, user_id=user_id, role="staff", scope=scope, actor_id=None, now=Clock().now()
        )
    return await member(db, user_id)


async def latest_alert(db: Database, incident_id: int, chat_id: int) -> dict[str, object]:
    async with db.read() as conn:
        rows = await conn.execute_fetchall(
            "SELECT params FROM outbox WHERE kind = 'outage.alert' AND slot = ? AND chat_id = ? ORDER BY id DESC",
            (f"incident:{incident_id}", chat_id),
        )
    assert rows, "no alert queued"
    params: dict[str, object] = json.loads(rows[0][0])
    return params


async def test_villages_of_one_district_together_flag_every_alert_as_mass(tmp_path: Path) -> None:
    rules = settings(mass_outage_villages=3, mass_outage_reports=50)
    db = await seeded(tmp_path, 3)
    now = Clock().now()
    for user_id, village in enumerate((BAYANAUL, SHONAY, AKSAN), start=1):
        async with db.transaction() as tx:
            await file_report(
                tx,
                NewReport(user_id, village, "village", "now"),
                source_key=f"m{user_id}",
                settings=rules,
                now=now + timedelta(minutes=user_id),
            )
    async with db.read() as conn:
        found = await outages.unresolved(conn)
    assert [incident.mass for incident in found] == [True, True, True]
    # The staff group sees it on all three alerts, not only on the one whose report tipped it over.
    for incident in found:
        assert (await latest_alert(db, incident.id, STAFF_GROUP))["mass"] is True
    await db.close()


async def test_the_resident_who_says_no_is_answered_once_and_neighbours_are_told(tmp_path: Path) -> None:
    rules = settings()
    db = await seeded(tmp_path, 3)
    now = Clock().now()
    for user_id in (1, 2, 3):
        async with db.transaction() as tx:
            filed = await file_report(
                tx,
                NewReport(user_id, SHAKAT, "home", "today"),
                source_key=f"n{user_id}",
                settings=rules,
                now=now,
            )
    engineer = await staff_member(db, 99)
    await resolve(db, engineer, filed.incident.id, "fixed", rules, now + timedelta(hours=1))
    await answer_working(db, await member(db, 2), filed.incident.id, False, rules, now + timedelta(hours=2))
    async with db.read() as conn:
        rows = await conn.execute_fetchall(
            "SELECT chat_id FROM outbox WHERE kind = 'outage.reopened' ORDER BY chat_id"
        )
    # The one who pressed «No» already gets the answer on the button; a second message would repeat it.
    assert [row[0] for row in rows] == [1, 3]
    await db.close()


async def test_a_reopened_outage_gets_a_fresh_time_to_be_taken(tmp_path: Path) -> None:
    rules = settings(admin_ids=frozenset({900}), take_within_minutes=60, resolve_within_hours=24)
    db = await seeded(tmp_path, 1)
    opened = Clock().now()
    async with db.transaction() as tx:
        filed = await file_report(
            tx, NewReport(1, SHAKAT, "school", "now"), source_key="r1", settings=rules, now=opened
        )
    engineer = await staff_member(db, 77)
    await resolve(db, engineer, filed.incident.id, "fixed", rules, opened + timedelta(minutes=30))
    reopened_at = opened + timedelta(hours=5)
    incident = await answer_working(db, await member(db, 1), filed.incident.id, False, rules, reopened_at)
    assert incident.state == "open"
    # Just reopened: not late yet, and the admins are not told "nobody took it for 60 minutes".
    soon = reopened_at + timedelta(minutes=5)
    assert not is_overdue(incident, rules, soon)
    async with db.transaction() as tx:
        assert await check_service_levels(tx, rules, soon) == 0
    later: datetime = reopened_at + timedelta(minutes=61)
    assert is_overdue(incident, rules, later)
    async with db.transaction() as tx:
        assert await check_service_levels(tx, rules, later) == 1
    await db.close()


# --- where an outage can be reported ------------------------------------------------------------------
def test_only_what_has_internet_can_be_reported() -> None:
    from bot.outages.service import reportable_kinds
    from db.places import SocialObject, Village

    def village(stage: str) -> Village:
        return Village(code="1", region_code="1", district_code="1", name_kk="А", name_ru="А", stage=stage)  # type: ignore[arg-type]

    def building(kind: str, connected: bool) -> SocialObject:
        return SocialObject(id=1, village_code="1", kind=kind, name="x", connected=connected)  # type: ignore[arg-type]

    assert reportable_kinds(village("connected"), []) == (
        "home",
        "school",
        "medical",
        "akimat",
        "village",
        "mobile",
    )
    assert reportable_kinds(village("planned"), []) == ()
    # A school online in a village still being built: the school, and nothing else.
    assert reportable_kinds(
        village("construction"), [building("school", True), building("medical", False)]
    ) == ("school",)
    # A connected village whose medical post is listed as not online yet: not the medical post.
    assert "medical" not in reportable_kinds(village("connected"), [building("medical", False)])


# --- staff: (staff, area) at every step ----------------------------------------------------------------
async def test_an_area_admin_or_engineer_of_another_region_changes_nothing(tmp_path: Path) -> None:
    from bot.outages.service import OutageError, start_work, take

    rules = settings()
    db = await seeded(tmp_path, 1)
    now = Clock().now()
    async with db.transaction() as tx:
        filed = await file_report(
            tx, NewReport(1, "154630100", "home", "now"), source_key="a1", settings=rules, now=now
        )  # Martuk, Aktobe region (15)
        await users.ensure_account(tx, 55, now)
        await users.grant_role(tx, user_id=55, role="admin", scope="55", actor_id=None, now=now)
    area_admin = await member(db, 55)
    pavlodar_engineer = await staff_member(db, 56, "55")
    resident = await member(db, 1)
    for person, reason in (
        (area_admin, "outside_area"),
        (pavlodar_engineer, "outside_area"),
        (resident, "not_staff"),
    ):
        for act in (
            lambda p: take(db, p, filed.incident.id, rules, now),
            lambda p: start_work(db, p, filed.incident.id, rules, now),
            lambda p: resolve(db, p, filed.incident.id, "fixed", rules, now),
        ):
            try:
                await act(person)
            except OutageError as error:
                assert error.code == reason
            else:
                raise AssertionError(f"{person.id} acted on a region-15 outage")
    async with db.read() as conn:
        incident = await outages.get_incident(conn, filed.incident.id)
    assert incident is not None and (incident.state, incident.taken_by) == ("open", None)
    # The engineer of the region may.
    aktobe_engineer = await staff_member(db, 57, "15")
    assert (await take(db, aktobe_engineer, filed.incident.id, rules, now)).state == "taken"
    await db.close()


async def test_a_revoked_engineer_hears_no_more_about_an_outage(tmp_path: Path) -> None:
    from bot.outages.service import take

    rules = settings()
    db = await seeded(tmp_path, 2)
    now = Clock().now()
    await staff_member(db, 70, "55")
    async with db.transaction() as tx:
        filed = await file_report(
            tx, NewReport(1, BAYANAUL, "home", "now"), source_key="v1", settings=rules, now=now
        )
    async with db.transaction() as tx:
        await users.revoke_grant(tx, user_id=70, role="staff", scope="55", actor_id=None, now=now)
    taker = await staff_member(db, 71, "")
    await take(db, taker, filed.incident.id, rules, now)
    async with db.read() as conn:
        rows = await conn.execute_fetchall(
            "SELECT params FROM outbox WHERE chat_id = 70 AND kind = 'outage.alert' ORDER BY id"
        )
    assert [json.loads(row[0])["state"] for row in rows] == ["open"]  # nothing after the revocation
    await db.close()


# --- what staff see, and where ------------------------------------------------------------------------
async def test_the_group_gets_words_and_places_but_never_phones_which_engineers_get_privately(
    tmp_path: Path,
) -> None:
    from bot.i18n import translator
    from bot.outages.notifications import render_incident
    from bot.outages.service import share_phone, start_phone

    rules = settings()
    db = await seeded(tmp_path, 1)
    now = Clock().now()
    await staff_member(db, 80, "55")
    async with db.transaction() as tx:
        await file_report(
            tx,
            NewReport(1, BAYANAUL, "home", "now", description="роутер мигает <красным>", photos=("P1", "P2")),
            source_key="g1",
            settings=rules,
            now=now,
        )
    resident = await member(db, 1)
    await start_phone(db, resident, 1, now)
    await share_phone(db, resident, "8 701 000 00 01", 1, rules, now)
    group = await latest_alert(db, 1, STAFF_GROUP)
    private = await latest_alert(db, 1, 80)
    assert group["languages"] == ["kk", "ru"] and "phones" not in group
    assert private["phones"] == [["AN-000001", "+87010000001"]] and "languages" not in private
    shown = render_incident(translator("ru"), group).text
    assert "💬 AN-000001: «роутер мигает &lt;красным&gt;»" in shown and "📷 × 2" in shown
    assert shown.index("Ақау: Баянауыл") < shown.index("Сбой: Баянаул")
    assert "+8701" not in shown
    await db.close()


async def test_a_contact_that_is_not_the_residents_own_is_not_consent(tmp_path: Path) -> None:
    from bot.outages.service import OutageError, share_phone, start_phone

    rules = settings()
    db = await seeded(tmp_path, 1)
    now = Clock().now()
    async with db.transaction() as tx:
        await file_report(tx, NewReport(1, BAYANAUL, "home", "now"), source_key="c1", settings=rules, now=now)
    resident = await member(db, 1)
    await start_phone(db, resident, 1, now)
    for phone, owner in (("+77010000001", 999), ("+77010000001", None), ("12", 1)):
        try:
            await share_phone(db, resident, phone, owner, rules, now)
        except OutageError as error:
            assert error.code == "not_own_contact"
        else:
            raise AssertionError((phone, owner))
    async with db.read() as conn:
        report = await outages.get_report(conn, 1)
    assert report is not None and report.phone is None
    await db.close()


async def test_photos_and_locations_go_under_the_alert_in_each_chat(tmp_path: Path) -> None:
    """What the outbox gets: a photo or map pin per chat, replying to that chat's alert."""
    from bot.i18n import translator
    from bot.notify import render

    rules = settings()
    db = await seeded(tmp_path, 1)
    now = Clock().now()
    await staff_member(db, 81, "5536")
    async with db.transaction() as tx:
        await file_report(
            tx,
            NewReport(1, BAYANAUL, "home", "now", photos=("PHOTO-1",), latitude=50.79, longitude=75.7),
            source_key="t1",
            settings=rules,
            now=now,
        )
    async with db.read() as conn:
        rows = await conn.execute_fetchall(
            "SELECT chat_id, kind, params, slot FROM outbox WHERE kind != 'outage.alert' ORDER BY id"
        )
    sent = [(row[0], row[1]) for row in rows]
    assert sent == [
        (STAFF_GROUP, "outage.photo"),
        (STAFF_GROUP, "outage.location"),
        (81, "outage.photo"),
        (81, "outage.location"),
    ]
    assert all(row[3] is None for row in rows)  # sent once, never edited
    photo = render("outage.photo", translator("ru"), json.loads(rows[0][2]))
    assert photo.photo == "PHOTO-1" and photo.reply_to_slot == "incident:1"
    assert photo.text == "📷 AN-000001 өтініштегі сурет · 📷 Фото из заявки AN-000001"
    pin = render("outage.location", translator("kk"), json.loads(rows[3][2]))
    assert pin.location == (50.79, 75.7) and pin.reply_to_slot == "incident:1"
    assert pin.text.startswith("📍 AN-000001 өтініштегі орналасқан жер")
    await db.close()


async def test_in_a_surge_each_alert_is_one_slot_per_incident_and_chat(tmp_path: Path) -> None:
    """50 reports of one outage queue 50 states of one message per chat: the outbox can send the latest
    only (edits of one slot in one chat coalesce)."""
    rules = settings(mass_outage_reports=1000, reports_per_hour=100)
    db = await seeded(tmp_path, 50)
    now = Clock().now()
    await staff_member(db, 90, "55")
    for user_id in range(1, 51):
        async with db.transaction() as tx:
            await file_report(
                tx,
                NewReport(user_id, BAYANAUL, "village", "now"),
                source_key=f"s{user_id}",
                settings=rules,
                now=now,
            )
    async with db.read() as conn:
        rows = await conn.execute_fetchall(
            "SELECT chat_id, slot, count(*), max(id) FROM outbox WHERE kind = 'outage.alert' GROUP BY chat_id, slot"
        )
        newest = {
            row[0]: json.loads(row[1])
            for row in await conn.execute_fetchall(
                "SELECT chat_id, params FROM outbox WHERE id IN"
                " (SELECT max(id) FROM outbox WHERE kind = 'outage.alert' GROUP BY chat_id)"
            )
        }
    assert sorted((row[0], row[1], row[2]) for row in rows) == [
        (STAFF_GROUP, "incident:1", 50),
        (90, "incident:1", 50),
    ]
    assert newest[STAFF_GROUP]["reports"] == newest[90]["reports"] == 50
    await db.close()


async def test_an_escalation_is_a_new_group_post_replying_to_the_alert_and_goes_to_the_areas_admins(
    tmp_path: Path,
) -> None:
    rules = settings(admin_ids=frozenset({900}), take_within_minutes=60)
    db = await seeded(tmp_path, 1)
    now = Clock().now()
    async with db.transaction() as tx:
        for admin_id, scope in ((901, "55"), (902, "15")):
            await users.ensure_account(tx, admin_id, now)
            await users.grant_role(tx, user_id=admin_id, role="admin", scope=scope, actor_id=None, now=now)
        await file_report(tx, NewReport(1, BAYANAUL, "home", "now"), source_key="e1", settings=rules, now=now)
    async with db.transaction() as tx:
        assert await check_service_levels(tx, rules, now + timedelta(minutes=61)) == 1
    async with db.read() as conn:
        posts = await outages.posts_of(conn, 1)
        escalated = await conn.execute_fetchall(
            "SELECT chat_id FROM outbox WHERE kind = 'outage.escalated' ORDER BY chat_id"
        )
    group_posts = [(post.kind, post.reply_to) for post in posts if post.chat_id == STAFF_GROUP]
    assert group_posts == [("alert", None), ("escalated", "incident:1")]
    # The admins for everywhere and for Pavlodar region; not the admin of Aktobe region.
    assert [row[0] for row in escalated] == [STAFF_GROUP, 900, 901]
    await db.close()


# --- residents ----------------------------------------------------------------------------------------
async def test_withdrawn_reports_stop_counting_and_the_last_one_closes_the_outage(tmp_path: Path) -> None:
    from bot.outages.service import withdraw

    rules = settings()
    db = await seeded(tmp_path, 2)
    now = Clock().now()
    for user_id in (1, 2):
        async with db.transaction() as tx:
            await file_report(
                tx,
                NewReport(user_id, BAYANAUL, "home", "now"),
                source_key=f"w{user_id}",
                settings=rules,
                now=now,
            )
    first = await withdraw(db, await member(db, 1), 1, rules, now + timedelta(minutes=1))
    assert (
        first.report.withdrawn_at is not None
        and first.incident.reports == 1
        and first.incident.state == "open"
    )
    assert [item.event for item in first.history] == ["sent", "withdrawn"]
    assert (await latest_alert(db, 1, STAFF_GROUP))["reports"] == 1
    # Reporting it again brings the same ticket back.
    async with db.transaction() as tx:
        again = await file_report(
            tx, NewReport(1, BAYANAUL, "home", "today"), source_key="w3", settings=rules, now=now
        )
    assert again.new and again.report.id == 1 and again.incident.reports == 2
    for user_id in (1, 2):
        last = await withdraw(db, await member(db, user_id), user_id, rules, now + timedelta(minutes=2))
    assert last.incident.state == "resolved" and last.incident.withdrawn_at is not None
    assert "closed" in [item.event for item in last.history]
    closed = await latest_alert(db, 1, STAFF_GROUP)
    assert closed["withdrawn"] is True and closed["reports"] == 0
    await db.close()


async def test_a_question_is_answered_once_and_the_answer_goes_to_the_engineer_who_asked(
    tmp_path: Path,
) -> None:
    from bot.outages.service import OutageError, answer_question, ask_reporter, start_answer, start_ask

    rules = settings()
    db = await seeded(tmp_path, 1)
    now = Clock().now()
    async with db.transaction() as tx:
        await file_report(tx, NewReport(1, BAYANAUL, "home", "now"), source_key="q1", settings=rules, now=now)
    engineer = await staff_member(db, 95, "5536")
    [askable] = await start_ask(db, engineer, 1, now)
    await ask_reporter(db, engineer, "Какой свет горит?", "m:1", rules, now)
    await ask_reporter(db, engineer, "Какой свет горит?", "m:1", rules, now)  # the same update again
    resident = await member(db, 1)
    await start_answer(db, resident, 1, now)
    await answer_question(db, resident, "Красный", "m:2", rules, now)
    await answer_question(db, resident, "Красный", "m:2", rules, now)  # the same update again
    try:
        await start_answer(db, resident, 1, now)
    except OutageError as error:
        assert error.code == "already_answered"
    else:
        raise AssertionError("answered twice")
    async with db.read() as conn:
        rows = await conn.execute_fetchall(
            "SELECT chat_id, kind FROM outbox WHERE kind IN ('outage.question', 'outage.answer')"
        )
    assert [tuple(row) for row in rows] == [(1, "outage.question"), (95, "outage.answer")]
    assert (await latest_alert(db, 1, 95))["questions"] == [
        {"number": "AN-000001", "question": "Какой свет горит?", "answer": "Красный"}
    ]
    assert "questions" not in await latest_alert(db, 1, STAFF_GROUP)
    assert askable.report.id == 1
    await db.close()


async def test_only_an_admin_for_everywhere_chooses_the_staff_groups_language(tmp_path: Path) -> None:
    from bot.outages.service import OutageError, chat_languages, set_group_language

    rules = settings()
    db = await seeded(tmp_path, 1)
    now = Clock().now()
    async with db.transaction() as tx:
        await users.ensure_account(tx, 60, now)
        await users.grant_role(tx, user_id=60, role="admin", scope="55", actor_id=None, now=now)
        await users.ensure_account(tx, 61, now)
        await users.grant_role(tx, user_id=61, role="admin", scope="", actor_id=None, now=now)
    try:
        await set_group_language(db, await member(db, 60), STAFF_GROUP, "ru", rules, now)
    except OutageError as error:
        assert error.code == "not_admin"
    else:
        raise AssertionError("an area admin chose the staff group's language")
    await set_group_language(db, await member(db, 61), STAFF_GROUP, "ru", rules, now)
    async with db.read() as conn:
        assert await chat_languages(conn, STAFF_GROUP, rules) == ("ru",)
        assert await chat_languages(conn, -5, rules) == ("kk", "ru")
        assert await chat_languages(conn, 61, rules) is None
    await set_group_language(db, await member(db, 61), STAFF_GROUP, None, rules, now)
    async with db.read() as conn:
        assert await chat_languages(conn, STAFF_GROUP, rules) == ("kk", "ru")
    await db.close()


def test_every_outages_button_fits_a_phone_in_each_language_and_in_both() -> None:
    """Labels are at most 40 characters by their wording (never cut with an ellipsis)."""
    from bot.i18n import translator
    from bot.outages import keyboards

    for language in ("kk", "ru"):
        t = translator(language)
        shown = [
            keyboards.make_kind_keyboard(t, outages.KINDS),
            keyboards.make_not_connected_keyboard(t, "553663100", False),
            keyboards.make_since_keyboard(t),
            keyboards.make_details_keyboard(t),
            keyboards.make_filed_keyboard(t, 1),
            keyboards.make_withdraw_keyboard(t, 1),
            keyboards.make_adding_keyboard(t, 1),
            keyboards.make_fixed_keyboard(t, 1),
            keyboards.make_question_keyboard(t, 1),
            keyboards.make_list_keyboard(t, [], mine=False, page=0, area=None),
            keyboards.make_group_language_keyboard(t),
            keyboards.make_reasons_keyboard(t, 1),
            keyboards.make_reasons_keyboard(t, 1, ("kk", "ru")),
        ]
        for state in ("open", "taken", "in_progress"):
            shown.append(keyboards.make_staff_keyboard(t, 1, state, view=True))
            shown.append(keyboards.make_staff_keyboard(t, 1, state, languages=("kk", "ru")))
        labels = [button.text for board in shown if board for row in board.inline_keyboard for button in row]
        too_long = [label for label in labels if len(label) > 40 or label.endswith("…")]
        assert too_long == [], (language, too_long)
        # Side by side only when each fits half a phone's width (the chat page cut longer ones).
        crowded = [
            [button.text for button in row]
            for board in shown
            if board
            for row in board.inline_keyboard
            if len(row) > 1 and any(len(button.text) > keyboards.SIDE_BY_SIDE for button in row)
        ]
        assert crowded == [], (language, crowded)
