"""Staff side of outages: every action checked for the incident's area, buttons pressed twice, the
menu's «Open outages», the staff group's language, and an escalation the group actually hears."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.clock import Clock
from bot.outages.service import run_service_levels
from db import outages, users
from tests.conftest import BotFactory
from tests.test_outages_story_e2e import grant_staff, greet, live_in, shows

BOLAT, ASEL, NURLAN, ADMIN = 640001, 640002, 640003, 640004
BAYANAUL, MARTUK = "553630100", "154630100"  # Pavlodar region (55), Aktobe region (15); both connected


async def report(person: Any, labels: tuple[str, str, str]) -> None:
    await person.send("/report")
    for label in labels:
        await person.wait_for(lambda m, label=label: label in m.labels)
        await person.press(label, wait=0)
    await person.wait_for(lambda m: m.text.startswith("✅"))


async def test_staff_and_area_admins_of_another_area_are_told_it_is_outside_their_area(
    client: Any, bot_factory: BotFactory, clock: Clock
) -> None:
    bolat = await client.user("Болат", id=BOLAT, language_code="kk")  # engineer, Pavlodar region
    asel = await client.user("Әсел", id=ASEL, language_code="ru")  # administrator of Pavlodar region
    nurlan = await client.user("Нұрлан", id=NURLAN, language_code="kk")  # engineer, Aktobe region
    resident = await client.user("Гүлнар", language_code="kk")
    async with bot_factory(seed=True) as app:
        for person, label in (
            (bolat, "Қазақша"),
            (asel, "Русский"),
            (nurlan, "Қазақша"),
            (resident, "Қазақша"),
        ):
            await greet(person, label)
        await grant_staff(app, BOLAT, "55", clock)
        await grant_staff(app, NURLAN, "15", clock)
        async with app.bot_data.db.transaction() as tx:
            await users.grant_role(tx, user_id=ASEL, role="admin", scope="55", actor_id=None, now=clock.now())
        await live_in(app, resident, MARTUK)
        await report(resident, ("Үй интернеті", "Жаңа ғана", "📨 Қазір жіберу"))
        alert = await nurlan.wait_for(lambda m: "Ақау: Мәртөк" in m.text)

        # Болат and Әсел cover Pavlodar region: the Aktobe outage is not theirs, and they are told so.
        bolats_menu = await bolat.last_message()
        asels_menu = await asel.last_message()
        assert bolats_menu is not None and asels_menu is not None
        for data in ("oi:1:take:", "oi:1:progress:", "oi:1:resolve:", "oi:1:resolve:fixed", "oi:1:ask:"):
            assert (
                await bolat.press_data(bolats_menu.message_id, data)
                == "Бұл ауыл сіздің аумағыңызға кірмейді."
            )
            assert (
                await asel.press_data(asels_menu.message_id, data) == "Это село не входит в вашу территорию."
            )
        assert (
            await bolat.press_data(bolats_menu.message_id, "ol:0:1:0::0")
            == "Бұл ауыл сіздің аумағыңызға кірмейді."
        )
        async with app.bot_data.db.read() as conn:
            incident = await outages.get_incident(conn, 1)
        assert incident is not None and incident.state == "open" and incident.taken_by is None
        await bolat.send("/outages")
        listing = await bolat.wait_for(lambda m: "Ашық ақаулар" in m.text)
        assert "Мәртөк" not in listing.text and "Ашық ақау жоқ. 🎉" in listing.text

        # A resident pressing a staff button is told it is for engineers.
        ticket = await resident.last_message()
        assert ticket is not None
        answer = await resident.press_data(ticket.message_id, "oi:1:take:")
        assert answer == "Кешіріңіз, бұл тек «инженер» рөліне арналған."

        # Нұрлан covers it: he takes it; pressing «Resolved» twice changes nothing and breaks nothing.
        assert await nurlan.press_on(alert, "🙋 Қолға алу") == "Сіз қолға алдыңыз."
        taken = await shows(nurlan, alert.message_id, lambda m: "Инженер: Нұрлан" in m.text)
        await nurlan.press_on(taken, "✅ Шешілді", wait=0)
        reasons = await shows(nurlan, alert.message_id, lambda m: "Жөнделді" in m.labels)
        assert await nurlan.press_on(alert, "⬅️ Артқа", wait=1) is None
        await shows(nurlan, alert.message_id, lambda m: "✅ Шешілді" in m.labels)
        resolve = next(data for row in taken.buttons for label, data in row if label == "✅ Шешілді")
        assert await nurlan.press_data(alert.message_id, resolve, wait=1) is None
        assert await nurlan.press_data(alert.message_id, resolve, wait=1) is None  # the same again: no error
        fixed = next(data for row in reasons.buttons for label, data in row if label == "Жөнделді")
        assert (
            await nurlan.press_data(alert.message_id, fixed)
            == "Шешілді. Тұрғындардан жұмыс істей ме деп сұралады."
        )
        assert await nurlan.press_data(alert.message_id, fixed) == "Бұл ақау шешіліп қойған."
        assert not any("бірдеңе дұрыс болмады" in m.text for m in await nurlan.messages())


async def test_the_menus_open_outages_opens_the_list_and_pages_it(
    client: Any, bot_factory: BotFactory, clock: Clock
) -> None:
    bolat = await client.user("Болат", id=BOLAT, language_code="kk")
    async with bot_factory(seed=True) as app:
        await greet(bolat, "Қазақша")
        await grant_staff(app, BOLAT, "", clock)
        await bolat.send("/menu")
        menu = await bolat.wait_for(lambda m: "📋 Ашық ақаулар" in m.labels)
        await bolat.press_on(menu, "📋 Ашық ақаулар", wait=0)
        listing = await shows(bolat, menu.message_id, lambda m: m.text.startswith("Ашық ақаулар"))
        assert "Ашық ақау жоқ. 🎉" in listing.text
        assert listing.labels == ["Барлығы", "Менікі", "⬅️ Мәзір"]
        await bolat.press_on(listing, "Менікі", wait=0)
        await shows(bolat, menu.message_id, lambda m: m.text.startswith("Ашық ақаулар (менікі)"))


async def test_an_admin_chooses_the_groups_language_and_an_escalation_is_a_new_group_message(
    client: Any, bot_factory: BotFactory, clock: Clock
) -> None:
    bolat = await client.user("Болат", id=BOLAT, language_code="kk")
    admin = await client.user("Азамат", id=ADMIN, language_code="ru")
    resident = await client.user("Гүлнар", language_code="kk")
    group = await client.group("AuylNet staff", [bolat, admin])
    async with bot_factory(seed=True, staff_chat_id=group.id, admin_ids={ADMIN}) as app:
        for person, label in ((bolat, "Қазақша"), (admin, "Русский"), (resident, "Қазақша")):
            await greet(person, label)
        await grant_staff(app, BOLAT, "55", clock)
        await live_in(app, resident, BAYANAUL)
        await report(resident, ("Мектеп", "Бүгіннен бері", "📨 Қазір жіберу"))
        in_group = admin.in_chat(group)
        alert = await in_group.wait_for(lambda m: "Ақау: Баянауыл" in m.text and "Сбой: Баянаул" in m.text)

        # An engineer may not choose the group's language; an administrator for everywhere may.
        await bolat.in_chat(group).send("/grouplanguage ru")
        refused = await in_group.wait_for(lambda m: "тек бүкіл ел бойынша әкімші" in m.text)
        assert refused.text == "Қызметкерлер тобының тілін тек бүкіл ел бойынша әкімші таңдай алады."
        await in_group.send("/grouplanguage")
        choice = await in_group.wait_for(lambda m: "Екі тіл · Оба языка" in m.labels)
        assert choice.text == "Бұл топқа қай тілде жазайын?\nНа каком языке писать в эту группу?"
        await in_group.press_on(choice, "Русский", wait=0)
        await shows(
            in_group, choice.message_id, lambda m: m.text == "Теперь я пишу в эту группу на языке: Русский."
        )
        # The open alert is redrawn in Russian only.
        alert = await shows(in_group, alert.message_id, lambda m: "Ақау:" not in m.text)
        assert "Сбой: Баянаул" in alert.text and alert.labels == ["🙋 Взять", "🔧 В работе", "✅ Решено"]

        # Nobody took it in time: a new message in the group, so the group is notified.
        clock.advance(timedelta(minutes=app.bot_data.config.take_within_minutes + 1))
        await run_service_levels(app.bot_data.db, app.bot_data.config, clock.now())
        escalated = await in_group.wait_for(
            lambda m: m.message_id > choice.message_id and m.text.startswith("⏰")
        )
        assert escalated.text.startswith("⏰ Этот сбой никто не взял уже 60 минут.")
        assert escalated.labels == alert.labels
        # The administrator hears it privately too, in his language.
        await admin.wait_for(lambda m: m.text.startswith("⏰ Этот сбой никто не взял уже 60 минут."))
