"""What residents show reaches the engineers, in each engineer's language, and every copy of an alert
shows one state: a resident reports with words, a photo and a location; a Kazakh and a Russian
engineer read it in the staff group and privately; one asks the reporter; another takes it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.clock import Clock
from bot.sandbox.client import SandboxMessage, TestUser, wait_until
from db import outages, places, users
from tests.conftest import BotFactory

BOLAT, PAVEL = 620001, 620002  # engineers of Pavlodar region: Kazakh and Russian
BAYANAUL = "553630100"  # connected
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8 + (640).to_bytes(4, "big") + (480).to_bytes(4, "big") + b"\x00" * 16


async def greet(person: TestUser, label: str) -> None:
    await person.send("/start")
    await person.next_message()
    await person.press(label, wait=0)
    await person.wait_for(lambda m: bool(m.buttons) and "?" in m.text)


async def grant_staff(app: Any, user_id: int, scope: str, clock: Clock) -> None:
    async with app.bot_data.db.transaction() as tx:
        await users.grant_role(tx, user_id=user_id, role="staff", scope=scope, actor_id=None, now=clock.now())


async def live_in(app: Any, person: TestUser, village: str) -> None:
    async with app.bot_data.db.transaction() as tx:
        await places.set_my_village(tx, person.id, village)


async def shows(
    person: TestUser, message_id: int, predicate: Callable[[SandboxMessage], bool]
) -> SandboxMessage:
    """Wait until one particular message (edited by now) satisfies ``predicate``."""

    async def now_shows() -> SandboxMessage | None:
        found = next((m for m in await person.messages() if m.message_id == message_id), None)
        return found if found is not None and predicate(found) else None

    shown: SandboxMessage = await wait_until(now_shows, timeout=10)
    return shown


async def report_with_everything(aigul: TestUser) -> str:
    """Menu → report → what → since → words, a photo, a location → send: the ticket's text."""
    await aigul.send("/menu")
    menu = await aigul.wait_for(lambda m: "⚠️ Ақау туралы хабарлау" in m.labels)
    await aigul.press_on(menu, "⚠️ Ақау туралы хабарлау", wait=0)
    await aigul.wait_for(lambda m: "Үй интернеті" in m.labels)
    await aigul.press("Үй интернеті", wait=0)
    await aigul.wait_for(lambda m: "Бүгіннен бері" in m.labels)
    await aigul.press("Бүгіннен бері", wait=0)
    await aigul.wait_for(lambda m: "📨 Қазір жіберу" in m.labels)
    await aigul.send("Роутер қызыл жанып тұр")
    await aigul.wait_for(lambda m: m.text.startswith("✅ Қосылды") and "сіздің сөздеріңіз" in m.text)
    await aigul.send_photo(PNG)
    await aigul.wait_for(lambda m: "1 сурет" in m.text)
    await aigul.send_location(50.79, 75.70)
    added = await aigul.wait_for(lambda m: "орналасқан жеріңіз" in m.text)
    assert added.text == (
        "✅ Қосылды. Өтініште: сіздің сөздеріңіз, 1 сурет, орналасқан жеріңіз. Жіберіңіз немесе тағы қосыңыз."
    )
    await aigul.press_on(added, "📨 Қазір жіберу", wait=0)
    ticket = await aigul.wait_for(lambda m: m.text.startswith("✅ AN-000001"))
    return ticket.text


async def story_start(client: Any) -> tuple[TestUser, TestUser, TestUser, Any]:
    """Two engineers in the staff group (Kazakh and Russian), a resident of Bayanaul who reported."""
    bolat = await client.user("Болат", id=BOLAT, language_code="kk")
    pavel = await client.user("Павел", id=PAVEL, language_code="ru")
    aigul = await client.user("Айгүл", language_code="kk")
    group = await client.group("AuylNet staff", [bolat, pavel])
    return bolat, pavel, aigul, group


async def test_the_whole_report_reaches_both_engineers_each_in_their_language(
    client: Any, bot_factory: BotFactory, clock: Clock
) -> None:
    bolat, pavel, aigul, group = await story_start(client)
    async with bot_factory(seed=True, staff_chat_id=group.id) as app:
        for person, label in ((bolat, "Қазақша"), (pavel, "Русский"), (aigul, "Қазақша")):
            await greet(person, label)
        await grant_staff(app, BOLAT, "55", clock)
        await grant_staff(app, PAVEL, "55", clock)
        await live_in(app, aigul, BAYANAUL)

        ticket = await report_with_everything(aigul)
        assert ticket.splitlines()[1] == "Жұмыс істемейді: үй интернеті, бүгіннен бері."
        # The photo and the location went into the report, not to a village search.
        assert not any("Сіздікі қайсысы?" in m.text for m in await aigul.messages())
        async with app.bot_data.db.read() as conn:
            [(report, _)] = await outages.reports_by_user(conn, aigul.id)
            notes = await outages.notes_of(conn, [report.id])
        assert [note.text for note in notes if note.text] == ["Роутер қызыл жанып тұр"]
        assert len([note for note in notes if note.photo_file_id]) == 1
        assert [(note.latitude, note.longitude) for note in notes if note.latitude] == [(50.79, 75.70)]

        # The staff group reads it in both languages, Kazakh first, with what she wrote and where.
        in_group = bolat.in_chat(group)
        alert = await in_group.wait_for(lambda m: "Ақау: Баянауыл" in m.text)
        assert alert.text.index("Ақау: Баянауыл") < alert.text.index("Сбой: Баянаул")
        assert "Жұмыс істемейді: үй интернеті" in alert.text and "Что: домашний интернет" in alert.text
        assert "💬 AN-000001: «Роутер қызыл жанып тұр»" in alert.text
        assert "📍 AN-000001: 50.79000, 75.70000" in alert.text and "📷 × 1" in alert.text

        # Privately, each in their own language.
        for_bolat = await bolat.wait_for(lambda m: "Ақау: Баянауыл" in m.text)
        assert "Сбой:" not in for_bolat.text and "Роутер қызыл жанып тұр" in for_bolat.text
        assert for_bolat.labels == ["🙋 Қолға алу", "🔧 Жөнделуде", "✅ Шешілді", "📞 Өтініш берушіден сұрау"]
        for_pavel = await pavel.wait_for(lambda m: "Сбой: Баянаул" in m.text)
        assert "Ақау:" not in for_pavel.text and "Что: домашний интернет" in for_pavel.text
        assert for_pavel.labels == ["🙋 Взять", "🔧 В работе", "✅ Решено", "📞 Спросить заявителя"]

        # Павел opens it from /outages: the detail in place of the list, the photo as a photo and
        # the location as a map pin under it.
        await pavel.send("/outages")
        listing = await pavel.wait_for(lambda m: "Открытые сбои" in m.text)
        assert "#1 Баянаул: домашний интернет, 1 заявка" in listing.text
        await pavel.press_on(listing, "#1 Баянаул · домашний интернет", wait=0)
        detail = await pavel.wait_for(lambda m: "Сбой: Баянаул" in m.text and "📋 Открытые сбои" in m.labels)
        assert "💬 AN-000001: «Роутер қызыл жанып тұр»" in detail.text

        # (His private alert got them too, as a photo and a pin replying to it; these reply to the detail.)
        def under_detail(m: Any) -> bool:
            return bool(m.raw.get("reply_to_message", {}).get("message_id") == detail.message_id)

        photo = await pavel.wait_for(lambda m: m.photo is not None and under_detail(m))
        assert photo.text == "📷 Фото из заявки AN-000001"
        pin = await pavel.wait_for(lambda m: "location" in m.raw and under_detail(m))
        assert pin.raw["location"]["latitude"] == pytest.approx(50.79)
        assert pin.raw["reply_to_message"]["message_id"] == detail.message_id

        # «Ask the reporter»: his question reaches her in the bot, her answer comes back to him.
        await pavel.press_on(detail, "📞 Спросить заявителя", wait=0)
        await pavel.wait_for(lambda m: m.text.startswith("Напишите вопрос жителю") and "AN-000001" in m.text)
        await pavel.send("Какого цвета лампочка на роутере?")
        await pavel.wait_for(lambda m: m.text.startswith("✅ Отправлено жителю (AN-000001)"))
        question = await aigul.wait_for(lambda m: "Какого цвета лампочка на роутере?" in m.text)
        assert question.text.startswith("❓ Инженер AN-000001 өтінішіңіз (Баянауыл) бойынша сұрайды:")
        await aigul.press_on(question, "✍️ Жауап беру", wait=0)
        await aigul.wait_for(lambda m: "Жауабыңызды жазыңыз:" in m.text)
        await aigul.send("Қызыл, жыпылықтап тұр")
        await aigul.wait_for(lambda m: m.text.startswith("✅ Рақмет! AN-000001"))
        answer = await pavel.wait_for(lambda m: m.text.startswith("💬 Житель ответил"))
        assert answer.text.splitlines()[:2] == [
            "💬 Житель ответил по заявке AN-000001 (Баянаул):",
            "«Қызыл, жыпылықтап тұр»",
        ]
        # The answer is part of the outage now: his detail shows the question and the answer.
        await shows(pavel, detail.message_id, lambda m: "«Қызыл, жыпылықтап тұр»" in m.text)

        # She lets the engineers call her: the number shows privately, never in the group.
        await aigul.send("/myreports")
        mine = await aigul.wait_for(lambda m: "Менің өтініштерім" in m.text)
        await aigul.press_on(mine, "AN-000001 · Баянауыл", wait=0)
        card = await shows(aigul, mine.message_id, lambda m: m.text.startswith("AN-000001 өтініш"))
        await aigul.press_on(card, "📱 Инженер қоңырау шалсын", wait=0)
        asked = await aigul.wait_for(lambda m: bool(m.keyboard))
        assert asked.keyboard == [["📱 Нөмірімді жіберу"], ["Жоқ, рақмет"]]
        await aigul.send_contact("+7 701 000 12 34")
        await aigul.wait_for(lambda m: m.text.startswith("✅ AN-000001 өтінішпен айналысатын инженерлер"))
        await shows(pavel, detail.message_id, lambda m: "📱 AN-000001: +77010001234" in m.text)
        await shows(bolat, for_bolat.message_id, lambda m: "📱 AN-000001: +77010001234" in m.text)
        assert not any("+7701" in m.text for m in await in_group.messages())

        # From his answer, one press opens the outage again, as a message of its own below.
        assert answer.labels == ["⚠️ Открыть сбой"]
        await pavel.press_on(answer, "⚠️ Открыть сбой", wait=0)
        reopened = await pavel.wait_for(
            lambda m: m.message_id > answer.message_id and "📱 AN-000001: +77010001234" in m.text
        )
        assert "💬 AN-000001: «Қызыл, жыпылықтап тұр»" in reopened.text
        assert "📞 Спросить заявителя" in reopened.labels and "📋 Открытые сбои" in reopened.labels
        await shows(pavel, answer.message_id, lambda m: m.text.startswith("💬 Житель ответил"))


async def test_take_edits_every_copy_and_a_reopening_is_a_new_group_message(
    client: Any, bot_factory: BotFactory, clock: Clock
) -> None:
    bolat, pavel, aigul, group = await story_start(client)
    async with bot_factory(seed=True, staff_chat_id=group.id) as app:
        for person, label in ((bolat, "Қазақша"), (pavel, "Русский"), (aigul, "Қазақша")):
            await greet(person, label)
        await grant_staff(app, BOLAT, "55", clock)
        await grant_staff(app, PAVEL, "5536", clock)  # Bayanaul district only
        await live_in(app, aigul, BAYANAUL)
        await report_with_everything(aigul)

        in_group = bolat.in_chat(group)
        alert = await in_group.wait_for(lambda m: "Ақау: Баянауыл" in m.text)
        for_bolat = await bolat.wait_for(lambda m: "Ақау: Баянауыл" in m.text)
        for_pavel = await pavel.wait_for(lambda m: "Сбой: Баянаул" in m.text)
        await pavel.send("/outages")
        listing = await pavel.wait_for(lambda m: "Открытые сбои" in m.text)
        await pavel.press_on(listing, "#1 Баянаул · домашний интернет", wait=0)
        detail = await pavel.wait_for(lambda m: "Сбой: Баянаул" in m.text and "📋 Открытые сбои" in m.labels)
        assert "🆕 новая" in detail.text
        assert "🙋 Взять" in detail.labels

        assert await in_group.press_on(alert, "🙋 Қолға алу · Взять") == "Сіз қолға алдыңыз."
        # Every message that shows the outage now says it is taken, and offers Take no more.
        group_alert = await shows(in_group, alert.message_id, lambda m: "Инженер: Болат" in m.text)
        assert group_alert.labels == ["🔧 Жөнделуде · В работе", "✅ Шешілді · Решено"]
        mine = await shows(bolat, for_bolat.message_id, lambda m: "Инженер: Болат" in m.text)
        assert "🙋 Қолға алу" not in mine.labels
        his = await shows(pavel, for_pavel.message_id, lambda m: "Инженер: Болат" in m.text)
        assert "🙋 инженер взял в работу" in his.text and "🙋 Взять" not in his.labels
        opened = await shows(pavel, detail.message_id, lambda m: "🙋 инженер взял в работу" in m.text)
        assert "🆕" not in opened.text and "🙋 Взять" not in opened.labels
        assert "📋 Открытые сбои" in opened.labels

        # Resolved in the group (the reasons in both languages), then the resident says «No».
        await in_group.press_on(group_alert, "✅ Шешілді · Решено", wait=0)
        reasons = await shows(in_group, alert.message_id, lambda m: "Жөнделді · Исправлено" in m.labels)
        assert reasons.labels == [
            "Жөнделді · Исправлено",
            "Жарық өшкен · Не было света",
            "Біздің желі емес · Не наша сеть",
            "Қайталама · Дубликат",
            "Басқа себеп · Другая причина",
            "⬅️ Артқа · Назад",
        ]
        assert await in_group.press_on(reasons, "Жөнделді · Исправлено") == (
            "Шешілді. Тұрғындардан жұмыс істей ме деп сұралады."
        )
        await shows(pavel, detail.message_id, lambda m: "Итог: исправлено" in m.text and not m.labels[:-1])
        asked = await aigul.wait_for(lambda m: "Қазір жұмыс істей ме?" in m.text)
        await aigul.press_on(asked, "👎 Жоқ, әлі істемейді", wait=0)
        await aigul.wait_for(lambda m: m.text == "Өкінішті. Өтініш қайта ашылды, инженерлерге хабар берілді.")
        # A new message in the group, so the group hears it; the first alert is brought up to date too.
        again = await in_group.wait_for(
            lambda m: (
                m.message_id > alert.message_id and "Қайта ашылды" in m.text and "Открыт снова" in m.text
            )
        )
        assert again.labels == ["🙋 Қолға алу · Взять", "🔧 Жөнделуде · В работе", "✅ Шешілді · Решено"]
        await shows(in_group, alert.message_id, lambda m: "Қайта ашылды" in m.text)
        await shows(pavel, detail.message_id, lambda m: "🆕 новая" in m.text and "🙋 Взять" in m.labels)


async def test_the_group_sees_the_photo_and_the_pin_under_the_alert_and_the_reopening_replies_to_it(
    client: Any, bot_factory: BotFactory, clock: Clock
) -> None:
    bolat, _, aigul, group = await story_start(client)
    async with bot_factory(seed=True, staff_chat_id=group.id) as app:
        for person, label in ((bolat, "Қазақша"), (aigul, "Қазақша")):
            await greet(person, label)
        await grant_staff(app, BOLAT, "55", clock)
        await live_in(app, aigul, BAYANAUL)
        await report_with_everything(aigul)
        in_group = bolat.in_chat(group)
        alert = await in_group.wait_for(lambda m: "Ақау: Баянауыл" in m.text)
        photo = await in_group.wait_for(lambda m: m.photo is not None, timeout=3)
        assert photo.raw["reply_to_message"]["message_id"] == alert.message_id
        pin = await in_group.wait_for(lambda m: "location" in m.raw, timeout=3)
        assert pin.raw["reply_to_message"]["message_id"] == alert.message_id
        async with app.bot_data.db.read() as conn:
            incident = await outages.get_incident(conn, 1)
        assert incident is not None
        await in_group.press_on(alert, "🙋 Қолға алу · Взять", wait=0)
        await shows(in_group, alert.message_id, lambda m: "Инженер: Болат" in m.text)
        await in_group.press_on(alert, "✅ Шешілді · Решено", wait=0)
        await shows(in_group, alert.message_id, lambda m: "Жөнделді · Исправлено" in m.labels)
        await in_group.press_on(alert, "Жөнделді · Исправлено", wait=0)
        asked = await aigul.wait_for(lambda m: "Қазір жұмыс істей ме?" in m.text)
        await aigul.press_on(asked, "👎 Жоқ, әлі істемейді", wait=0)
        again = await in_group.wait_for(
            lambda m: m.message_id > alert.message_id and "Қайта ашылды" in m.text
        )
        assert again.raw["reply_to_message"]["message_id"] == alert.message_id
