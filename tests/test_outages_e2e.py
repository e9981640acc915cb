"""Outages, as people live them: neighbours report, staff get one alert each, it is fixed, or not."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.clock import Clock
from bot.config import Settings
from bot.outages.service import NewReport, OutageError, file_report
from db import outages, places, users
from db.database import Database
from tests.conftest import BotFactory

STAFF_ID, ADMIN_ID = 610001, 610002
SHAKAT, BAYANAUL, ERTIS = "556069100", "553630100", "554630100"  # Shakat has no internet yet


async def greet(person, label: str) -> None:  # type: ignore[no-untyped-def]
    await person.send("/start")
    await person.next_message()
    await person.press(label, wait=0)
    await person.wait_for(lambda m: bool(m.buttons) and "?" in m.text)


async def live_in(app, person, village: str) -> None:  # type: ignore[no-untyped-def]
    async with app.bot_data.db.transaction() as tx:
        await places.set_my_village(tx, person.id, village)


async def report(person, kind: str, since: str, send: str) -> str:  # type: ignore[no-untyped-def]
    await person.send("/report")
    await person.wait_for(lambda m: any(kind == label for label in m.labels))
    await person.press(kind, wait=0)
    await person.wait_for(lambda m: any(since == label for label in m.labels))
    await person.press(since, wait=0)
    await person.wait_for(lambda m: send in m.labels)
    await person.press(send, wait=0)
    ticket = await person.wait_for(lambda m: m.text.startswith("✅"))
    return ticket.text


async def test_neighbours_report_staff_resolve_and_one_says_no(
    client, bot_factory: BotFactory, clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    bolat = await client.user("Болат", id=STAFF_ID, language_code="kk")
    asel = await client.user("Әсел", id=ADMIN_ID, language_code="kk")
    group = await client.group("AuylNet staff", [bolat, asel])
    async with bot_factory(seed=True, staff_chat_id=group.id, admin_ids={ADMIN_ID}) as app:
        async with app.bot_data.db.transaction() as tx:
            await users.grant_role(
                tx, user_id=STAFF_ID, role="staff", scope="55", actor_id=None, now=clock.now()
            )
        await greet(bolat, "Қазақша")

        aigul = await client.user("Айгүл", language_code="kk")
        olga = await client.user("Ольга", language_code="ru")
        dana = await client.user("Дана", language_code="kk")
        erlan = await client.user("Ерлан", language_code="ru")
        for person, label, village in (
            (aigul, "Қазақша", BAYANAUL),
            (olga, "Русский", BAYANAUL),
            (dana, "Қазақша", BAYANAUL),
            (erlan, "Русский", ERTIS),
        ):
            await greet(person, label)
            await live_in(app, person, village)

        first = await report(aigul, "Бүкіл ауыл", "Бүгіннен бері", "📨 Қазір жіберу")
        assert first.splitlines()[0].startswith("✅ AN-000001 өтініш қабылданды, ")
        assert first.splitlines()[1:] == [
            "Жұмыс істемейді: бүкіл ауыл, бүгіннен бері.",
            "Инженерлерге хабар берілді.",
            "Өзгеріс болса, хабарлаймын.",
        ]
        second = await report(olga, "Всё село", "Со вчерашнего дня", "📨 Отправить сейчас")
        assert second.splitlines()[0].startswith("✅ Заявка AN-000002 принята ")
        assert "Об этом сообщил ещё 1 сосед; инженеры в курсе." in second
        third = await report(dana, "Бүкіл ауыл", "Жаңа ғана", "📨 Қазір жіберу")
        assert "Бұл туралы тағы 2 көрші хабарлады; инженерлерге хабар берілді." in third
        other = await report(erlan, "Мобильный интернет", "Только что", "📨 Отправить сейчас")
        assert "Инженеры в курсе." in other

        # One alert per incident in the group and in the engineer's chat, edited as reports came in.
        in_group = bolat.in_chat(group)
        alert = await in_group.wait_for(lambda m: "Баянауыл" in m.text and "3 өтініш" in m.text)
        await in_group.wait_for(lambda m: "Ертіс" in m.text)
        group_alerts = [m for m in await in_group.messages() if "Ақау:" in m.text]
        assert len(group_alerts) == 2
        private = await bolat.wait_for(lambda m: "Баянауыл" in m.text and "3 өтініш" in m.text)
        assert "Жұмыс істемейді: бүкіл ауыл" in private.text and "Уақыты: бүгіннен бері" in private.text
        # The group is written to in both languages, Kazakh first, and so are its buttons.
        assert "Сбой: Баянаул" in alert.text and "3 заявки" in alert.text
        assert alert.labels == ["🙋 Қолға алу · Взять", "🔧 Жөнделуде · В работе", "✅ Шешілді · Решено"]

        # A resident pressing a forged "Resolved": refused, nothing changes.
        answer = await aigul.press_data(alert.message_id, "oi:1:resolve:fixed")
        assert answer == "Кешіріңіз, бұл тек «инженер» рөліне арналған."
        async with app.bot_data.db.read() as conn:
            incident = await outages.get_incident(conn, 1)
        assert incident is not None and incident.state == "open"

        # The engineer takes it in the group; every reporter hears it in their language.
        assert await in_group.press_on(alert, "🙋 Қолға алу · Взять") == "Сіз қолға алдыңыз."
        taken = await in_group.wait_for(
            lambda m: m.message_id == alert.message_id and "Инженер: Болат" in m.text
        )
        assert taken.labels == ["🔧 Жөнделуде · В работе", "✅ Шешілді · Решено"]
        await aigul.wait_for(lambda m: m.text == "AN-000001 өтініш (Баянауыл): 🙋 инженер қолға алды.")
        await olga.wait_for(lambda m: m.text == "Заявка AN-000002 (Баянаул): 🙋 инженер взял в работу.")
        await dana.wait_for(lambda m: m.text == "AN-000003 өтініш (Баянауыл): 🙋 инженер қолға алды.")

        await in_group.press_on(alert, "✅ Шешілді · Решено")
        await in_group.wait_for(
            lambda m: m.message_id == alert.message_id and "Жөнделді · Исправлено" in m.labels
        )
        assert await in_group.press_on(alert, "Жөнделді · Исправлено") == (
            "Шешілді. Тұрғындардан жұмыс істей ме деп сұралады."
        )
        ask = await olga.wait_for(lambda m: "решено — исправлено. Сейчас работает?" in m.text)
        assert ask.labels == ["👍 Да, работает", "👎 Нет, не работает"]
        await aigul.wait_for(lambda m: "шешілді — жөнделді. Қазір жұмыс істей ме?" in m.text)
        await in_group.wait_for(lambda m: m.message_id == alert.message_id and "Нәтиже: жөнделді" in m.text)

        # Ольга says it still does not work: the incident reopens and everyone hears it.
        await olga.press("👎 Нет, не работает", wait=0)
        await olga.wait_for(lambda m: m.text == "Жаль. Заявка снова открыта, инженеры в курсе.")
        await aigul.wait_for(
            lambda m: m.text == "AN-000001 өтініш (Баянауыл) қайта ашылды: инженерлерге хабар берілді."
        )
        reopened = await in_group.wait_for(
            lambda m: m.message_id == alert.message_id and "Қайта ашылды" in m.text
        )
        assert reopened.labels == ["🙋 Қолға алу · Взять", "🔧 Жөнделуде · В работе", "✅ Шешілді · Решено"]
        # The reopening is also a new message in the group (an edit notifies nobody).
        again = await in_group.wait_for(
            lambda m: m.message_id > alert.message_id and "Баянауыл" in m.text and "Қайта ашылды" in m.text
        )
        assert again.labels == reopened.labels
        assert len([m for m in await in_group.messages() if "Ақау:" in m.text]) == 3

        await olga.send("/myreports")
        mine = await olga.wait_for(lambda m: "Мои заявки" in m.text)
        assert "AN-000002" in mine.text and "🆕 новая, инженеры в курсе" in mine.text

        await bolat.send("/outages")
        listing = await bolat.wait_for(lambda m: "Ашық ақаулар" in m.text)
        assert "#1 Баянауыл: бүкіл ауыл, 3 өтініш" in listing.text and "#2 Ертіс" in listing.text
        await bolat.send("/outages 5536")  # Bayanaul district only
        district = await bolat.wait_for(lambda m: "Ашық ақаулар" in m.text and "#2 Ертіс" not in m.text)
        assert "#1 Баянауыл" in district.text


SETTINGS = Settings(bot_token="1:x", _env_file=None, reports_per_hour=3, mass_outage_reports=50)  # type: ignore[arg-type, call-arg]


async def seeded(tmp_path: Path, people: int) -> Database:
    from bot.demo.seed import seed_demo

    db = await Database.open(tmp_path / "outages.db")
    await seed_demo(db)
    async with db.transaction() as tx:
        for user_id in range(1, people + 1):
            await tx.execute(
                "INSERT INTO users (id, first_name, language, first_seen, last_seen)"
                " VALUES (?, 'x', 'kk', 'x', 'x')",
                (user_id,),
            )
    return db


async def test_the_same_update_twice_files_one_report(tmp_path: Path) -> None:
    db = await seeded(tmp_path, 1)
    now = Clock().now()
    for _ in range(2):
        async with db.transaction() as tx:
            filed = await file_report(
                tx, NewReport(1, SHAKAT, "home", "now"), source_key="callback:77", settings=SETTINGS, now=now
            )
    assert filed.report.number == "AN-000001" and not filed.new
    async with db.read() as conn:
        assert len(await outages.reports_by_user(conn, 1)) == 1
    await db.close()


async def test_100_residents_at_once_make_one_incident_with_100_reports(tmp_path: Path) -> None:
    db = await seeded(tmp_path, 100)
    now = Clock().now()

    async def one(user_id: int) -> None:
        async with db.transaction() as tx:
            await file_report(
                tx,
                NewReport(user_id, SHAKAT, "village", "today"),
                source_key=f"u:{user_id}",
                settings=SETTINGS,
                now=now,
            )

    await asyncio.gather(*(one(user_id) for user_id in range(1, 101)))
    async with db.read() as conn:
        found = await outages.unresolved(conn)
        staff_alerts = await conn.execute_fetchall("SELECT count(*) FROM outbox WHERE kind = 'outage.alert'")
    assert len(found) == 1 and found[0].reports == 100
    assert found[0].mass  # 100 reports within minutes is a mass outage even with a threshold of 50
    assert staff_alerts[0][0] == 0  # no staff configured in this test: nobody to alert
    await db.close()


async def test_a_person_is_limited_to_a_few_reports_an_hour(tmp_path: Path) -> None:
    db = await seeded(tmp_path, 1)
    now = Clock().now()
    for n, kind in enumerate(("home", "school", "medical")):
        async with db.transaction() as tx:
            await file_report(
                tx, NewReport(1, SHAKAT, kind, "now"), source_key=f"k{n}", settings=SETTINGS, now=now
            )
    try:
        async with db.transaction() as tx:
            await file_report(
                tx, NewReport(1, SHAKAT, "akimat", "now"), source_key="k4", settings=SETTINGS, now=now
            )
    except OutageError as error:
        assert error.code == "too_many" and error.until is not None
    else:
        raise AssertionError("a fourth report within the hour was accepted")
    # Reporting the same outage again is not a new report, and costs nothing.
    async with db.transaction() as tx:
        again = await file_report(
            tx, NewReport(1, SHAKAT, "home", "now"), source_key="k5", settings=SETTINGS, now=now
        )
    assert not again.new and again.report.number == "AN-000001"
    await db.close()


async def test_an_outage_nobody_takes_in_time_goes_to_the_admins(tmp_path: Path) -> None:
    from datetime import timedelta

    from bot.outages.service import check_service_levels, is_overdue

    settings = Settings(bot_token="1:x", _env_file=None, admin_ids=frozenset({900}), take_within_minutes=60)  # type: ignore[arg-type, call-arg]
    db = await seeded(tmp_path, 1)
    clock = Clock()
    async with db.transaction() as tx:
        filed = await file_report(
            tx, NewReport(1, SHAKAT, "school", "today"), source_key="s1", settings=settings, now=clock.now()
        )
    async with db.transaction() as tx:
        assert await check_service_levels(tx, settings, clock.now() + timedelta(minutes=59)) == 0
    later = clock.now() + timedelta(minutes=61)
    assert is_overdue(filed.incident, settings, later)
    async with db.transaction() as tx:
        assert await check_service_levels(tx, settings, later) == 1
        assert await check_service_levels(tx, settings, later + timedelta(minutes=5)) == 0  # once only
    async with db.read() as conn:
        rows = await conn.execute_fetchall("SELECT chat_id, kind FROM outbox WHERE kind = 'outage.escalated'")
        incident = await outages.get_incident(conn, filed.incident.id)
    assert [tuple(row) for row in rows] == [(900, "outage.escalated")]
    assert incident is not None and incident.escalated_at is not None
    await db.close()


async def test_forgetting_a_reporter_keeps_the_ticket_but_not_what_they_sent(tmp_path: Path) -> None:
    from bot.privacy import erase_person

    db = await seeded(tmp_path, 1)
    now = Clock().now()
    async with db.transaction() as tx:
        filed = await file_report(
            tx,
            NewReport(
                1, SHAKAT, "home", "now", description="Менің үйім, Абай 5", latitude=52.1, longitude=76.7
            ),
            source_key="p1",
            settings=SETTINGS,
            now=now,
        )
        await erase_person(tx, 1, now)
    async with db.read() as conn:
        [(report, incident)] = await outages.reports_by_user(conn, 1)
        shown = await outages.notes_of(conn, [report.id])
    assert report.number == filed.report.number and incident.reports == 1
    assert shown == [] and report.phone is None  # no words, no location, no phone
    await db.close()
