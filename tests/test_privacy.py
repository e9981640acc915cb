"""«Delete my data» is complete, and nothing is stored again until the person chooses to come back."""

from __future__ import annotations

import json
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.admin import service as admin
from bot.classes import service as classes
from bot.classes.service import NewLesson
from bot.clock import Clock
from bot.config import Settings
from bot.demo.seed import seed_demo
from bot.outages.service import NewReport, file_report
from bot.privacy import erase_person
from bot.roles import Member
from bot.sandbox.client import SandboxClient, wait_until
from db import audit, drafts, outbox, places, users
from db.database import Database, fetch_all
from tests.conftest import BotFactory

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SHAKAT = "556069100"
PERSON, NEIGHBOUR, TRAINER, ADMIN = 10, 11, 12, 13
STAFF_GROUP = -100500
SETTINGS = Settings(bot_token="1:x", _env_file=None, staff_chat_id=STAFF_GROUP)  # type: ignore[arg-type,call-arg]
# What must not be found anywhere once the person is forgotten.
FIRST, LAST, USERNAME, RELATIVE = "Меруерт", "Байжанова", "meruert_b", "Бибігүл Сейітқызы"


async def text_cells_containing(db: Database, needle: str) -> list[str]:
    """Every table.column (of every table) whose text holds ``needle`` (as it is, or escaped the
    way JSON may write it), with the row id."""
    found = []
    escaped = json.dumps(needle)[1:-1]
    async with db.read() as conn:
        tables = [
            row[0] for row in await fetch_all(conn, "SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        for table in tables:
            for column in [row[1] for row in await fetch_all(conn, f"PRAGMA table_info({table})")]:
                rows = await fetch_all(
                    conn,
                    f"SELECT rowid FROM {table} WHERE typeof({column}) = 'text'"
                    f" AND (instr({column}, ?) > 0 OR instr({column}, ?) > 0)",
                    (needle, escaped),
                )
                found += [f"{table}.{column} (rowid {row[0]})" for row in rows]
    return found


async def a_full_life(db: Database) -> None:
    """The person follows her village, reports an outage, books herself and a relative (reminders are
    queued), is in the middle of booking another relative, and joins as a trainer by invite (the admin
    is told her name); a neighbour books a relative too."""
    async with db.transaction() as tx:
        for user_id, first, last, username in (
            (PERSON, FIRST, LAST, USERNAME),
            (NEIGHBOUR, "Айгүл", "Жұмабаева", "aigul"),
            (TRAINER, "Гүлнар", None, None),
            (ADMIN, "Әсел", None, None),
        ):
            await users.record_contact(
                tx,
                user_id=user_id,
                first_name=first,
                last_name=last,
                username=username,
                telegram_language="kk",
                now=NOW,
            )
            await users.set_language(tx, user_id, "kk")
        await places.set_my_village(tx, PERSON, SHAKAT)
        await places.follow(tx, PERSON, SHAKAT, NOW)
        await file_report(
            tx,
            NewReport(PERSON, SHAKAT, "home", "now", description=f"{FIRST} {LAST}, Абай 5: роутер мигает"),
            source_key="p1",
            settings=SETTINGS,
            now=NOW,
        )
        lesson = await classes.create_lesson(
            tx,
            NewLesson(SHAKAT, "Мектеп", NOW + timedelta(hours=20), 90, "smartphone", "kk", 10),
            trainer_id=TRAINER,
            now=NOW,
        )
        for user_id, name, key in (
            (PERSON, None, "b1"),
            (PERSON, RELATIVE, "b2"),
            (NEIGHBOUR, "Қайрат ата", "b3"),
        ):
            await classes.book(
                tx,
                lesson.id,
                user_id=user_id,
                age_group="60plus",
                attendee_name=name,
                source_key=key,
                now=NOW,
            )
        assert await classes.release_reminders(tx, NOW + timedelta(hours=18, minutes=1)) == 3
        await drafts.save_draft(tx, PERSON, "classes", {"relative": f"{RELATIVE}, тәтем"}, NOW)
        # Something that reached her earlier, naming her.
        await outbox.enqueue(tx, chat_id=PERSON, kind="class.reminder", params={"attendee": FIRST}, now=NOW)
        await tx.execute(
            "UPDATE outbox SET state = 'sent' WHERE chat_id = ? AND params LIKE ?", (PERSON, f"%{FIRST}%")
        )
        await audit.record(
            tx,
            actor_id=TRAINER,
            subject="class:1",
            action="class.note",
            detail={"said": f"{USERNAME} will come"},
            now=NOW,
        )
    async with db.read() as conn:
        account = await users.get_account(conn, ADMIN)
    assert account is not None
    made = await admin.create_invite(
        db, Member(account, (), settings_admin=True), "trainer", "55", source_key=None, now=NOW
    )
    async with db.read() as conn:
        account = await users.get_account(conn, PERSON)
    assert account is not None
    await admin.use_invite(db, Member(account, ()), made.invite.code, admin_ids=frozenset({ADMIN}), now=NOW)


async def test_after_deletion_no_table_holds_the_persons_names(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "privacy.db")
    await seed_demo(db)
    await a_full_life(db)
    for needle in (FIRST, LAST, USERNAME, RELATIVE):
        assert await text_cells_containing(db, needle), f"the story should have stored {needle!r} somewhere"

    async with db.transaction() as tx:
        await erase_person(tx, PERSON, NOW + timedelta(hours=19))

    for needle in (FIRST, LAST, USERNAME, RELATIVE):
        assert await text_cells_containing(db, needle) == [], needle
    async with db.read() as conn:
        account = await users.get_account(conn, PERSON)
        pending_to_her = await fetch_all(
            conn, "SELECT kind FROM outbox WHERE chat_id = ? AND state = 'pending'", (PERSON,)
        )
        bookings = await fetch_all(
            conn, "SELECT attendee_name FROM bookings WHERE user_id = ? ORDER BY id", (PERSON,)
        )
        reports = await fetch_all(
            conn,
            "SELECT n.text FROM report_notes n JOIN reports r ON r.id = n.report_id"
            " WHERE r.user_id = ? AND n.text IS NOT NULL",
            (PERSON,),
        )
        told_admin = await fetch_all(conn, "SELECT params FROM outbox WHERE chat_id = ?", (ADMIN,))
    assert account is not None and account.erased
    assert (account.first_name, account.last_name, account.username, account.telegram_language) == (
        "-",
        None,
        None,
        None,
    )
    # first and last seen say nothing more than when she asked to be forgotten.
    assert account.first_seen == account.last_seen == NOW + timedelta(hours=19)
    assert pending_to_her == []
    # Her bookings and her ticket stay for the trainers' and engineers' numbers, without names or text.
    assert [row[0] for row in bookings] == [None, "-"]
    assert reports == []  # what she wrote with her report is gone; the ticket stays
    # The admin's notice stays (it may still be on its way), without her name.
    assert len(told_admin) == 1 and '"name": "-"' in told_admin[0][0]

    # Nobody else lost anything: the neighbour's relative and reminder keep their name.
    assert len(await text_cells_containing(db, "Қайрат ата")) == 2  # the booking and the reminder
    assert await text_cells_containing(db, "Жұмабаева") == ["users.last_name (rowid 11)"]
    await db.close()


async def _equal(value: Awaitable[object], expected: object) -> bool:
    return await value == expected


async def choose(person, label: str) -> None:  # type: ignore[no-untyped-def]
    await person.send("/start")
    await person.next_message()
    await person.press(label, wait=0)


async def test_an_old_button_after_deletion_stores_nothing_until_the_person_consents_again(
    client: SandboxClient, bot_factory: BotFactory, clock: Clock
) -> None:
    async with bot_factory() as app:
        db = app.bot_data.db
        olga = await client.user("Ольга", last_name="Петрова", username="olga_p", language_code="ru")
        await choose(olga, "Русский")
        menu = await olga.wait_for(lambda m: m.text == "Что вы хотите сделать?")
        await olga.send("/privacy")
        mine = await olga.wait_for(lambda m: "Ваши данные в AuylNet" in m.text)
        assert "Имя: Ольга Петрова" in mine.text and "Имя пользователя: @olga_p" in mine.text
        assert "Что останется после удаления" in mine.text
        await olga.press("🗑 Удалить мои данные", wait=0)
        await olga.wait_for(lambda m: m.text.startswith("Удалить ваше имя"))
        await olga.press("🗑 Да, удалить", wait=0)
        await olga.wait_for(lambda m: m.text.startswith("Готово: ваши данные удалены."))

        async def stored() -> tuple[object, ...]:
            async with db.read() as conn:
                account = await users.get_account(conn, olga.id)
            names = await text_cells_containing(db, "Петрова") + await text_cells_containing(db, "olga_p")
            assert account is not None
            return account.first_name, account.username, account.language, account.erased, names

        async def nothing_stored() -> None:
            # The update being handled is kept as it came until it is done (for a crash), then dropped.
            forgotten = ("-", None, None, True, [])
            try:
                await wait_until(lambda: _equal(stored(), forgotten), timeout=5)
            except TimeoutError:
                assert await stored() == forgotten

        await nothing_stored()

        # Later (when a contact refresh would be due) she presses an old menu button and types.
        clock.advance(timedelta(minutes=20))
        await olga.press_on(menu, "⚙️ Настройки", wait=0)
        ask = await olga.wait_for(lambda m: "попросили AuylNet удалить ваши данные" in m.text)
        assert [label for label, _ in ask.buttons[0]] == ["Русский", "Қазақша"]
        await olga.send("/help")
        await olga.wait_for(lambda m: "попросили AuylNet удалить ваши данные" in m.text)
        await olga.send("/start inv_whatever")
        await olga.wait_for(lambda m: "попросили AuylNet удалить ваши данные" in m.text)
        await olga.send("/privacy")
        gone = await olga.wait_for(lambda m: "Вы удалили свои данные" in m.text)
        assert "🗑 Удалить мои данные" not in gone.labels
        await nothing_stored()

        # Choosing the language is the fresh consent: from now on her name is kept again.
        await olga.press_on(ask, "Русский", wait=0)
        await olga.wait_for(lambda m: m.text == "Что вы хотите сделать?")
        first_name, username, language, erased, _names = await stored()
        assert (first_name, username, language, erased) == ("Ольга", "olga_p", "ru", False)
        async with db.read() as conn:
            trail = await fetch_all(
                conn, "SELECT action FROM audit_log WHERE subject = ? ORDER BY id", (f"user:{olga.id}",)
            )
        assert [row[0] for row in trail] == ["privacy.consent", "privacy.erase", "privacy.consent"]
