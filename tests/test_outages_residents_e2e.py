"""Residents' side of outages, in Kazakh and Russian: no ticket where there is no internet yet,
cancelling before sending, adding to a sent report, withdrawing it, and what the main path costs."""

from __future__ import annotations

from typing import Any

from bot.clock import Clock
from bot.sandbox.client import TestUser
from db import drafts, outages, places, users
from tests.conftest import BotFactory
from tests.test_outages_story_e2e import PNG, grant_staff, greet, live_in, shows

BOLAT = 630001
BAYANAUL, SHAKAT, UZYNBULAK = "553630100", "556069100", "553663100"  # connected; construction; planned


async def reports_of(app: Any, person: TestUser) -> int:
    async with app.bot_data.db.read() as conn:
        return len(await outages.reports_by_user(conn, person.id))


async def test_where_there_is_no_internet_yet_a_report_meets_the_planned_date_and_an_offer_to_follow(
    client: Any, bot_factory: BotFactory, clock: Clock
) -> None:
    dana = await client.user("Дана", language_code="kk")
    olga = await client.user("Ольга", language_code="ru")
    async with bot_factory(seed=True) as app:
        await greet(dana, "Қазақша")
        await greet(olga, "Русский")
        await live_in(app, dana, UZYNBULAK)
        await live_in(app, olga, SHAKAT)
        async with app.bot_data.db.transaction() as tx:
            await places.follow(tx, olga.id, SHAKAT, clock.now())

        await dana.send("/menu")
        menu = await dana.wait_for(lambda m: "⚠️ Ақау туралы хабарлау" in m.labels)
        await dana.press_on(menu, "⚠️ Ақау туралы хабарлау", wait=0)
        offer = await shows(dana, menu.message_id, lambda m: m.text.startswith("📡"))
        assert offer.text.splitlines() == [
            "📡 Ұзынбұлақ: ауылға интернет әлі қосылмаған, сондықтан ақау туралы хабарлайтын ештеңе жоқ.",
            "Жоспарланған мерзім: 2027 ж. 2-тоқсан",
            "Ауылдың жаңалықтарына жазылсаңыз, интернет қосылғанда хабарлаймын.",
        ]
        assert offer.labels == ["🔔 Жаңалықтарға жазылу", "🔎 Басқа ауыл", "⬅️ Мәзір"]
        await dana.press_on(offer, "🔔 Жаңалықтарға жазылу", wait=0)
        followed = await shows(dana, menu.message_id, lambda m: m.text.startswith("🔔"))
        assert (
            followed.text
            == "🔔 Ұзынбұлақ: ауылдың жаңалықтарына жазылдыңыз. Интернет қосылғанда хабарлаймын."
        )
        async with app.bot_data.db.read() as conn:
            assert dana.id in await places.followers(conn, UZYNBULAK)

        # Ольга already follows Шакат, which is still being built: she is told the date, no button.
        await olga.send("/report")
        told = await olga.wait_for(lambda m: m.text.startswith("📡"))
        assert told.text.splitlines() == [
            "📡 Шакат: в селе ещё нет интернета, поэтому сообщать о сбое не о чем.",
            "Планируемый срок: 4-й квартал 2026 г.",
            "Вы подписаны на новости села: я сообщу, когда что-то изменится.",
        ]
        assert told.labels == ["🔎 Другое село", "⬅️ Меню"]
        # A forged "what" for that village is refused with the reason; nothing is filed.
        answer = await olga.press_data(told.message_id, "rpk:home")
        assert answer is None
        refused = await shows(olga, told.message_id, lambda m: "Здесь ещё нет интернета" in m.text)
        assert refused.labels == ["⬅️ Меню"]
        assert await reports_of(app, dana) == 0 and await reports_of(app, olga) == 0


async def test_a_report_cancelled_before_sending_leaves_nothing_behind(
    client: Any, bot_factory: BotFactory, clock: Clock
) -> None:
    aigul = await client.user("Айгүл", language_code="kk")
    erlan = await client.user("Ерлан", language_code="ru")
    async with bot_factory(seed=True) as app:
        for person, label in ((aigul, "Қазақша"), (erlan, "Русский")):
            await greet(person, label)
            await live_in(app, person, BAYANAUL)

        await aigul.send("/report")
        await aigul.wait_for(lambda m: "Үй интернеті" in m.labels)
        await aigul.press("Үй интернеті", wait=0)
        await aigul.wait_for(lambda m: "Бүгіннен бері" in m.labels)
        await aigul.press("Бүгіннен бері", wait=0)
        await aigul.wait_for(lambda m: "📨 Қазір жіберу" in m.labels)
        await aigul.send("Менің үйім, Абай көшесі 5")
        added = await aigul.wait_for(lambda m: m.text.startswith("✅ Қосылды"))
        assert added.labels == ["📨 Қазір жіберу", "✖️ Бас тарту"]
        await aigul.press_on(added, "✖️ Бас тарту", wait=0)
        await shows(aigul, added.message_id, lambda m: m.text == "Тоқтатылды.")

        await erlan.send("/report")
        asked = await erlan.wait_for(lambda m: "Всё село" in m.labels)
        assert asked.labels[-1] == "✖️ Отмена"
        await erlan.press_on(asked, "✖️ Отмена", wait=0)
        await shows(erlan, asked.message_id, lambda m: m.text == "Отменено.")

        async with app.bot_data.db.read() as conn:
            for person in (aigul, erlan):
                assert await outages.reports_by_user(conn, person.id) == []
                assert await drafts.get_draft(conn, person.id, "report") == {}
            assert await outages.unresolved(conn) == []


async def both_report_the_whole_village(app: Any, engineer: TestUser, aigul: TestUser, olga: TestUser) -> Any:
    """Айгүл (kk) and Ольга (ru) of Баянауыл report the whole village down; the engineer's alert."""
    for person, label, what, since, send in (
        (aigul, "Қазақша", "Бүкіл ауыл", "Жаңа ғана", "📨 Қазір жіберу"),
        (olga, "Русский", "Всё село", "Только что", "📨 Отправить сейчас"),
    ):
        await greet(person, label)
        await live_in(app, person, BAYANAUL)
        await person.send("/report")
        for label_ in (what, since, send):
            await person.wait_for(lambda m, label_=label_: label_ in m.labels)
            await person.press(label_, wait=0)
        await person.wait_for(lambda m: m.text.startswith("✅"))
    return await engineer.wait_for(lambda m: "Ақау: Баянауыл" in m.text and "2 өтініш" in m.text)


async def test_added_information_reaches_the_engineer_and_withdrawn_reports_close_the_outage(
    client: Any, bot_factory: BotFactory, clock: Clock
) -> None:
    bolat = await client.user("Болат", id=BOLAT, language_code="kk")
    aigul = await client.user("Айгүл", language_code="kk")
    olga = await client.user("Ольга", language_code="ru")
    async with bot_factory(seed=True) as app:
        await greet(bolat, "Қазақша")
        await grant_staff(app, BOLAT, "5536", clock)
        alert = await both_report_the_whole_village(app, bolat, aigul, olga)

        # Ольга opens her ticket: what it is, where it stands, its history; then adds to it.
        await olga.send("/myreports")
        mine = await olga.wait_for(lambda m: "Мои заявки" in m.text)
        assert mine.labels == ["AN-000002 · Баянаул", "⬅️ Меню"]
        await olga.press_on(mine, "AN-000002 · Баянаул", wait=0)
        card = await shows(olga, mine.message_id, lambda m: m.text.startswith("Заявка AN-000002"))
        assert card.text.splitlines()[:4] == [
            "Заявка AN-000002",
            "Баянаул: всё село, только что",
            "Состояние: 🆕 новая, инженеры в курсе",
            "Всего 2 заявки",
        ]
        assert "История:" in card.text and "— 📨 вы отправили" in card.text
        assert card.labels == [
            "➕ Добавить сведения",
            "✖️ Отозвать",
            "📱 Пусть инженер мне позвонит",
            "📋 Мои заявки",
            "⬅️ Меню",
        ]
        await olga.press_on(card, "➕ Добавить сведения", wait=0)
        await shows(
            olga, card.message_id, lambda m: m.text.startswith("Заявка AN-000002: отправьте инженерам")
        )
        await olga.send("Свет есть, роутер мигает")
        await olga.wait_for(lambda m: m.text.startswith("✅ Добавлено в заявку AN-000002"))
        await olga.send_photo(PNG)
        done = await olga.wait_for(lambda m: m.text.startswith("✅ Добавлено в заявку AN-000002"))
        await shows(bolat, alert.message_id, lambda m: "➕ AN-000002: «Свет есть, роутер мигает»" in m.text)
        await shows(bolat, alert.message_id, lambda m: "📷 × 1" in m.text)
        await olga.press_on(done, "✅ Готово", wait=0)
        card = await shows(olga, done.message_id, lambda m: "➕ вы добавили сведения" in m.text)
        assert "➕ «Свет есть, роутер мигает»" in card.text and "📷 фото" in card.text

        # Withdrawing asks once; then it no longer counts.
        await olga.press_on(card, "✖️ Отозвать", wait=0)
        confirm = await shows(
            olga, card.message_id, lambda m: m.text.startswith("Отозвать заявку AN-000002?")
        )
        assert confirm.labels == ["✖️ Да, отозвать", "⬅️ Нет, оставить"]
        await olga.press_on(confirm, "✖️ Да, отозвать", wait=0)
        card = await shows(olga, card.message_id, lambda m: "Состояние: ✖️ отозвана" in m.text)
        assert "— ✖️ вы отозвали заявку" in card.text
        assert card.labels == ["📋 Мои заявки", "⬅️ Меню"]
        await shows(bolat, alert.message_id, lambda m: "1 өтініш" in m.text and "Свет есть" not in m.text)
        assert await olga.press_data(card.message_id, "ot:2:withdraw_confirmed") is None  # twice: no harm

        # The last report withdrawn: the outage closes, and the engineer's alert says so.
        await aigul.send("/myreports")
        hers = await aigul.wait_for(lambda m: "Менің өтініштерім" in m.text)
        await aigul.press_on(hers, "AN-000001 · Баянауыл", wait=0)
        card = await shows(aigul, hers.message_id, lambda m: m.text.startswith("AN-000001 өтініш"))
        await aigul.press_on(card, "✖️ Кері қайтарып алу", wait=0)
        confirm = await shows(aigul, card.message_id, lambda m: "кері қайтарып аласыз ба?" in m.text)
        await aigul.press_on(confirm, "✖️ Иә, кері қайтарып алу", wait=0)
        await shows(aigul, card.message_id, lambda m: "Күйі: ✖️ кері қайтарылды" in m.text)
        closed = await shows(
            bolat, alert.message_id, lambda m: "✖️ жабылды: барлық өтініш кері қайтарылды" in m.text
        )
        assert closed.labels == []
        async with app.bot_data.db.read() as conn:
            incident = await outages.get_incident(conn, 1)
        assert incident is not None and incident.state == "resolved" and incident.withdrawn_at is not None


async def test_words_written_under_a_photo_reach_the_ticket_and_the_engineer(
    client: Any, bot_factory: BotFactory, clock: Clock
) -> None:
    bolat = await client.user("Болат", id=BOLAT, language_code="kk")
    aigul = await client.user("Айгүл", language_code="kk")
    olga = await client.user("Ольга", language_code="ru")
    async with bot_factory(seed=True) as app:
        await greet(bolat, "Қазақша")
        await grant_staff(app, BOLAT, "5536", clock)
        await greet(aigul, "Қазақша")
        await live_in(app, aigul, BAYANAUL)

        # Айгүл photographs the router and writes under the photo what is wrong: both are kept.
        await aigul.send("/report")
        for label in ("Үй интернеті", "Кешеден бері"):
            await aigul.wait_for(lambda m, label=label: label in m.labels)
            await aigul.press(label, wait=0)
        await aigul.wait_for(lambda m: "📨 Қазір жіберу" in m.labels)
        await aigul.send_photo(PNG, caption="Роутердің шамы жанбайды")
        added = await aigul.wait_for(lambda m: m.text.startswith("✅ Қосылды"))
        assert (
            added.text == "✅ Қосылды. Өтініште: сіздің сөздеріңіз, 1 сурет. Жіберіңіз немесе тағы қосыңыз."
        )
        await aigul.press_on(added, "📨 Қазір жіберу", wait=0)
        await shows(aigul, added.message_id, lambda m: m.text.startswith("✅ AN-000001"))
        alert = await bolat.wait_for(lambda m: "Ақау: Баянауыл" in m.text)
        assert "Роутердің шамы жанбайды" in alert.text
        await aigul.send("/myreports")
        hers = await aigul.wait_for(lambda m: "Менің өтініштерім" in m.text)
        await aigul.press_on(hers, "AN-000001 · Баянауыл", wait=0)
        card = await shows(aigul, hers.message_id, lambda m: m.text.startswith("AN-000001 өтініш"))
        assert "💬 «Роутердің шамы жанбайды»" in card.text and "📷 сурет" in card.text

        # Ольга adds a photo with a caption to her sent ticket: the engineer reads the caption too.
        await greet(olga, "Русский")
        await live_in(app, olga, BAYANAUL)
        await olga.send("/report")
        for label in ("Домашний интернет", "Только что", "📨 Отправить сейчас"):
            await olga.wait_for(lambda m, label=label: label in m.labels)
            await olga.press(label, wait=0)
        await olga.wait_for(lambda m: m.text.startswith("✅ Заявка AN-000002"))
        await olga.send("/myreports")
        mine = await olga.wait_for(lambda m: "Мои заявки" in m.text)
        await olga.press_on(mine, "AN-000002 · Баянаул", wait=0)
        card = await shows(olga, mine.message_id, lambda m: m.text.startswith("Заявка AN-000002"))
        await olga.press_on(card, "➕ Добавить сведения", wait=0)
        await shows(olga, card.message_id, lambda m: "отправьте инженерам" in m.text)
        await olga.send_photo(PNG, caption="Столб упал у магазина")
        done = await olga.wait_for(lambda m: m.text.startswith("✅ Добавлено в заявку AN-000002"))
        await shows(bolat, alert.message_id, lambda m: "➕ AN-000002: «Столб упал у магазина»" in m.text)
        await olga.press_on(done, "✅ Готово", wait=0)
        card = await shows(olga, done.message_id, lambda m: "➕ вы добавили сведения" in m.text)
        assert "➕ «Столб упал у магазина»" in card.text and "📷 фото" in card.text
        async with app.bot_data.db.read() as conn:
            notes = await outages.notes_of(conn, [2])
        assert [(n.text, bool(n.photo_file_id)) for n in notes] == [
            (None, True),
            ("Столб упал у магазина", False),
        ]


async def test_after_answering_whether_it_works_the_way_on_is_there(
    client: Any, bot_factory: BotFactory, clock: Clock
) -> None:
    bolat = await client.user("Болат", id=BOLAT, language_code="kk")
    aigul = await client.user("Айгүл", language_code="kk")
    olga = await client.user("Ольга", language_code="ru")
    async with bot_factory(seed=True) as app:
        await greet(bolat, "Қазақша")
        await grant_staff(app, BOLAT, "5536", clock)
        alert = await both_report_the_whole_village(app, bolat, aigul, olga)
        await bolat.press_on(alert, "✅ Шешілді", wait=0)
        choices = await shows(bolat, alert.message_id, lambda m: "Жөнделді" in m.labels)
        await bolat.press_on(choices, "Жөнделді", wait=0)

        asked = await aigul.wait_for(lambda m: "Қазір жұмыс істей ме?" in m.text)
        await aigul.press_on(asked, asked.labels[0], wait=0)  # 👍 yes
        thanked = await shows(aigul, asked.message_id, lambda m: not m.text.startswith("AN-000001"))
        assert thanked.labels == ["📋 Менің өтініштерім", "⬅️ Мәзір"]

        asked = await olga.wait_for(lambda m: "Сейчас работает?" in m.text)
        await olga.press_on(asked, "👎 Нет, не работает", wait=0)
        reopened = await shows(olga, asked.message_id, lambda m: m.text.startswith("Жаль."))
        assert reopened.text == "Жаль. Заявка снова открыта, инженеры в курсе."
        assert reopened.labels == ["📋 Мои заявки", "⬅️ Меню"]
        await olga.press_on(reopened, "📋 Мои заявки", wait=0)
        mine = await shows(olga, asked.message_id, lambda m: m.text.startswith("Мои заявки"))
        assert "AN-000002" in mine.text


async def test_the_residents_main_path_costs_about_one_bot_api_call_per_update(
    client: Any, bot_factory: BotFactory, clock: Clock
) -> None:
    aigul = await client.user("Айгүл", language_code="kk")
    async with bot_factory(seed=True) as app:
        await greet(aigul, "Қазақша")
        await live_in(app, aigul, BAYANAUL)
        before = await aigul.chat_stats()
        await aigul.send("/menu")
        menu = await aigul.wait_for(lambda m: "⚠️ Ақау туралы хабарлау" in m.labels)
        await aigul.press_on(menu, "⚠️ Ақау туралы хабарлау", wait=0)
        for label in ("Үй интернеті", "Бүгіннен бері", "📨 Қазір жіберу"):
            await aigul.wait_for(lambda m, label=label: label in m.labels)
            await aigul.press(label, wait=0)
        await aigul.wait_for(lambda m: m.text.startswith("✅ AN-000001"))
        after = await aigul.chat_stats(callback_window=0.5)
    updates = after["updates"] - before["updates"]
    calls = after["api_calls"] - before["api_calls"]
    assert updates == 5
    assert calls / updates <= 1.3, (calls, updates)
    assert after["unanswered_callbacks"] == 0  # every press was answered by an edit of its message


async def test_forged_and_out_of_range_buttons_get_the_out_of_date_answer(
    client: Any, bot_factory: BotFactory, clock: Clock
) -> None:
    aigul = await client.user("Айгүл", language_code="kk")
    big = "9" * 20  # past SQLite's integers
    async with bot_factory(seed=True) as app:
        await greet(aigul, "Қазақша")
        await live_in(app, aigul, BAYANAUL)
        menu = await aigul.last_message()
        assert menu is not None
        forged = [
            "rp:nonsense",
            f"rpv:{big}",
            "rpk:cable",
            "rps:century",
            f"rpf:{big}",
            f"ot:{big}:show",
            "ot:1:explode",
            f"of:{big}:1",
            f"oa:{big}",
            f"oi:{big}:take:",
            "oi:1:take:bribe",
            f"ol:0:{big}:0::0",
            "ol:0::5000::0",
            f"oq:{big}",
            "og:en",
        ]
        for data in forged:
            answer = await aigul.press_data(menu.message_id, data)
            assert answer == "Бұл түйме ескірген. /menu мәзірін қайта ашыңыз.", data
        # In the middle of a report too.
        await aigul.send("/report")
        asked = await aigul.wait_for(lambda m: "Үй интернеті" in m.labels)
        for data in ("rpk:cable", f"rpv:{big}", "rps:always"):
            assert (
                await aigul.press_data(asked.message_id, data)
                == "Бұл түйме ескірген. /menu мәзірін қайта ашыңыз."
            )
        assert await reports_of(app, aigul) == 0
        errors = [m for m in await aigul.messages() if "бірдеңе дұрыс болмады" in m.text]
        assert errors == []


async def test_the_phone_number_stays_private_unless_the_resident_shares_it(
    client: Any, bot_factory: BotFactory, clock: Clock
) -> None:
    """Only Telegram's own «share my number» button shares it; «No, thanks» keeps it private."""
    aigul = await client.user("Айгүл", language_code="kk")
    async with bot_factory(seed=True) as app:
        await greet(aigul, "Қазақша")
        await live_in(app, aigul, BAYANAUL)
        await aigul.send("/report")
        for label in ("Үй интернеті", "Бүгіннен бері", "📨 Қазір жіберу"):
            await aigul.wait_for(lambda m, label=label: label in m.labels)
            await aigul.press(label, wait=0)
        ticket = await aigul.wait_for(lambda m: m.text.startswith("✅ AN-000001"))
        await aigul.press_on(ticket, "📱 Инженер қоңырау шалсын", wait=0)
        await aigul.wait_for(lambda m: bool(m.keyboard))
        await aigul.send("Жоқ, рақмет")
        await aigul.wait_for(lambda m: m.text == "Жарайды: нөміріңіз ешкімге көрсетілмейді.")
        async with app.bot_data.db.read() as conn:
            report = await outages.get_report(conn, 1)
            account = await users.get_account(conn, aigul.id)
        assert report is not None and report.phone is None and report.phone_shared_at is None
        assert account is not None and not account.reply_keyboard  # the «share» keyboard is gone
