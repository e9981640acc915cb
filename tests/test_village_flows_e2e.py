"""The flow rules on the village screens: one answer per tap, lists that lead somewhere, and no dead ends."""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.clock import Clock
from bot.sandbox.client import SandboxClient, SandboxMessage, TestUser
from db import places, users
from tests.conftest import BotFactory

SHAKAT = "556069100"
ALMATY = ZoneInfo("Asia/Almaty")
BAYANAUL_DISTRICT = "553600000"
WORDS: dict[str, dict[str, str]] = {
    "kk": {
        "language": "Қазақша",
        "village": "📶 Ауылымның интернеті",
        "prompt": "Ауылыңыздың атын",
        "near": "📍 Жанымдағы ауылдар",
        "share": "📍 Орналасқан жерімді жіберу",
        "menu": "Не істегіңіз келеді?",
        "buttons_please": "Түймелерді басыңыз. Не істегіңіз келеді?",
        "which": "Сіздікі қайсысы?",
        "again": "🔎 Қайта іздеу",
        "menu_button": "⬅️ Мәзір",
        "list": "🗺 Тізімнен таңдау",
        "back": "⬅️ Артқа",
        "stale": "Бұл түйме ескірген. /menu мәзірін қайта ашыңыз.",
        "not_found": "«Kazakhtelecom» табылмады.",
        "stage": "Кезең:",
        "outage": "⚠️ 3 көрші хабарлады: үйдегі интернет істемейді (уақыты: 10:40); инженер жұмыс істеп жатыр.",
    },
    "ru": {
        "language": "Русский",
        "village": "📶 Интернет в моём селе",
        "prompt": "Напишите название вашего села",
        "near": "📍 Сёла рядом",
        "share": "📍 Отправить моё местоположение",
        "menu": "Что вы хотите сделать?",
        "buttons_please": "Пожалуйста, пользуйтесь кнопками. Что вы хотите сделать?",
        "which": "Какое из них ваше?",
        "again": "🔎 Искать снова",
        "menu_button": "⬅️ Меню",
        "list": "🗺 Выбрать из списка",
        "back": "⬅️ Назад",
        "stale": "Эта кнопка устарела. Откройте /menu заново.",
        "not_found": "«Kazakhtelecom» не найдено.",
        "stage": "Этап:",
        "outage": "⚠️ 3 соседа сообщили: не работает домашний интернет (с 10:40); инженер уже работает.",
    },
}


async def greet(person: TestUser, language: str) -> None:
    await person.send("/start")
    await person.next_message()
    await person.press(WORDS[language]["language"], wait=0)
    await person.wait_for(lambda m: WORDS[language]["menu"] in m.text)


async def reply_keyboard(client: SandboxClient, person: TestUser) -> Any:
    return (await client.call("GET", f"chats/{person.chat_id}/messages"))["reply_keyboard"]


@pytest.mark.parametrize("language", ["kk", "ru"])
@pytest.mark.parametrize("command", ["/menu", "/start"])
async def test_a_command_mid_search_ends_it_and_takes_the_location_button_away(
    client: SandboxClient, bot_factory: BotFactory, language: str, command: str
) -> None:
    words = WORDS[language]
    async with bot_factory(seed=True):
        person = await client.user("Дана", language_code=language)
        await greet(person, language)
        await person.press(words["village"], wait=0)
        prompt = await person.wait_for(lambda m: words["prompt"] in m.text)
        assert prompt.labels == [words["list"], words["near"], words["menu_button"]]
        await person.press(words["near"], wait=0)
        asked = await person.wait_for(lambda m: words["share"] in m.text)
        assert asked.keyboard == [[words["share"]]]
        assert await reply_keyboard(client, person) is not None
        await person.send(command)
        await person.wait_for(lambda m: m.message_id > asked.message_id and bool(m.buttons))
        assert await reply_keyboard(client, person) is None
        await person.send("Шакат")  # no longer a search: the bot points to the buttons
        answer = await person.wait_for(lambda m: m.message_id > asked.message_id + 1 and bool(m.text))
        assert words["which"] not in answer.text
        if command == "/menu":
            assert answer.text == words["buttons_please"]


@pytest.mark.parametrize("language", ["kk", "ru"])
async def test_a_list_of_places_offers_search_again_and_menu_and_typing_searches_again(
    client: SandboxClient, bot_factory: BotFactory, language: str
) -> None:
    words = WORDS[language]
    async with bot_factory(seed=True):
        person = await client.user("Дана", language_code=language)
        await greet(person, language)
        await person.send("/village")
        await person.wait_for(lambda m: words["prompt"] in m.text)
        count = len(await person.messages())
        await person.send("Баянаул")
        first = await person.wait_for(lambda m: m.text.startswith(words["which"]))
        assert len(await person.messages()) == count + 1  # the list comes in one message
        assert first.labels[-2:] == [words["again"], words["menu_button"]]
        await person.send("Шакат")  # typing at a list searches again
        second = await person.wait_for(lambda m: m.text.startswith(words["which"]) and "Ша" in m.labels[0])
        assert len(await person.messages()) == count + 2
        await person.press_on(second, words["again"], wait=0)
        prompt = await person.wait_for(lambda m: words["prompt"] in m.text)
        assert prompt.message_id == second.message_id  # edited in place
        await person.send("Kazakhtelecom")  # nothing close: nothing rather than noise
        nothing = await person.wait_for(lambda m: words["not_found"] in m.text)
        assert words["list"] in nothing.labels
        await person.send("Ақтөбе")  # two farms of that name in one district are told apart
        found = await person.wait_for(lambda m: m.text.startswith(words["which"]))
        places_found = found.labels[:-2]
        assert len(places_found) == len(set(places_found)) and all(len(label) <= 40 for label in places_found)


async def test_the_residents_main_path_costs_about_one_call_per_update(
    client: SandboxClient, bot_factory: BotFactory
) -> None:
    async with bot_factory(seed=True):
        person = await client.user("Дана", language_code="ru")
        await greet(person, "ru")
        await person.send("/village")
        await person.wait_for(lambda m: WORDS["ru"]["prompt"] in m.text)
        before = (await client.stats())["requests"]
        await person.send("Шакат")
        choices = await person.wait_for(lambda m: m.text.startswith(WORDS["ru"]["which"]))
        await person.press_on(choices, choices.labels[0], wait=0)
        card = await person.wait_for(lambda m: "Этап:" in m.text)
        await person.press_on(card, "🏡 Это моё село", wait=0)
        mine = await person.wait_for(lambda m: "Вы подписаны" in m.text)
        assert mine.text.startswith("🏡 Шакат теперь ваше село.\n")
        await person.send("/menu")
        menu = await person.wait_for(lambda m: m.text == WORDS["ru"]["menu"])
        await person.press_on(menu, WORDS["ru"]["village"], wait=0)
        await person.wait_for(lambda m: m.message_id == menu.message_id and "Этап:" in m.text)
        after = (await client.stats())["requests"]
    calls = sum(after.get(method, 0) - before.get(method, 0) for method in after if method != "getUpdates")
    assert calls / 5 <= 1.3, (before, after)


def entries(message: SandboxMessage, words: dict[str, str]) -> list[tuple[str, str]]:
    navigation = (words["back"], words["menu_button"], "◀️", "▶️", "🏕")
    return [
        (label, data)
        for row in message.buttons
        for label, data in row
        if not label.startswith(navigation) and not label.endswith("▶️")
    ]


@pytest.mark.parametrize("language", ["kk", "ru"])
async def test_browsing_reaches_every_village_of_bayanaul_district_in_four_pages_of_eight(
    client: SandboxClient, bot_factory: BotFactory, language: str
) -> None:
    """Region → district → rural okrug → village: villages first, namesakes told apart, back at every level."""
    words = WORDS[language]
    async with bot_factory(seed=True) as app:
        async with app.bot_data.db.read() as conn:
            villages = [
                v for v in await places.villages_in(conn, BAYANAUL_DISTRICT) if v.kind in ("village", "town")
            ]
        person = await client.user("Дана", language_code=language)
        await greet(person, language)
        await person.send("/village")
        prompt = await person.wait_for(lambda m: words["prompt"] in m.text)
        await person.press_on(prompt, words["list"], wait=0)
        regions = await person.wait_for(
            lambda m: m.message_id == prompt.message_id and bool(entries(m, words))
        )
        assert words["back"] in regions.labels and words["menu_button"] in regions.labels
        pavlodar = next(data for label, data in entries(regions, words) if "Павлодар" in label)
        await person.press_data(regions.message_id, pavlodar, wait=0)
        districts = await person.wait_for(lambda m: "vb:okrugs" in str(m.buttons))
        assert f"vb:okrugs:{BAYANAUL_DISTRICT}:0" in [data for _, data in entries(districts, words)]

        async def page(data: str) -> SandboxMessage:
            await person.press_data(prompt.message_id, data, wait=0)
            return await person.wait_for(lambda m: m.message_id == prompt.message_id and data_shown(m, data))

        pages_to: dict[str, int] = {}
        okrug_page, okrug_pages = 0, 1
        while okrug_page < okrug_pages:
            okrugs = await page(f"vb:okrugs:{BAYANAUL_DISTRICT}:{okrug_page}")
            okrug_pages = page_count(okrugs)
            listed = entries(okrugs, words)
            assert 0 < len(listed) <= 8 and len({label for label, _ in listed}) == len(listed)
            for _label, okrug in [item for item in listed if item[1].startswith("vb:places")]:
                place_page, place_pages = 0, 1
                while place_page < place_pages:
                    code = okrug.split(":")[2]
                    shown = await page(f"vb:places:{code}:{place_page}")
                    place_pages = page_count(shown)
                    found = entries(shown, words)
                    assert 0 < len(found) <= 8 and len({label for label, _ in found}) == len(found)
                    assert words["back"] in shown.labels and words["menu_button"] in shown.labels
                    for _name, target in found:
                        pages_to.setdefault(target.split(":")[2], okrug_page + 1 + place_page + 1)
                    place_page += 1
            okrug_page += 1
        reached = {v.code: pages_to.get(v.code) for v in villages}
        assert all(count is not None and count <= 4 for count in reached.values()), reached

        # A village's card, and back up again.
        await person.press_data(prompt.message_id, "vl:show:553630100", wait=0)
        card = await person.wait_for(lambda m: m.message_id == prompt.message_id and words["stage"] in m.text)
        assert "Баян" in card.text


def data_shown(message: SandboxMessage, data: str) -> bool:
    """Whether the message shows the page ``data`` asked for (its navigation names the same list)."""
    level, code, _page = data.split(":")[1:]
    buttons = [d for row in message.buttons for _, d in row]
    same_list = [d for d in buttons if d.startswith(f"vb:{level}:{code}:")]
    return bool(same_list) or (level == "places" and any(d.startswith("vl:show") for d in buttons))


def page_count(message: SandboxMessage) -> int:
    """The number of pages a list says it has, in either language; one when it says nothing."""
    russian = re.search(r"\(стр\. \d+ из (\d+)\)", message.text)
    kazakh = re.search(r"\((\d+) беттің \d+-беті\)", message.text)
    found = russian or kazakh
    return int(found.group(1)) if found else 1


@pytest.mark.parametrize("language", ["kk", "ru"])
async def test_a_card_says_an_outage_is_open_and_being_worked_on(
    client: SandboxClient, bot_factory: BotFactory, clock: Clock, language: str
) -> None:
    async with bot_factory(seed=True) as app:
        now = clock.now()
        # 10:40 today in Almaty, the one time zone of the country.
        opened = (
            now.astimezone(ALMATY)
            .replace(hour=10, minute=40, second=0, microsecond=0)
            .astimezone(UTC)
            .isoformat()
        )
        async with app.bot_data.db.transaction() as tx:
            for user_id in (901, 902, 903):
                await users.ensure_account(tx, user_id, now)
            await tx.execute(
                "INSERT INTO incidents (id, village_code, kind, state, opened_at, taken_at, taken_by)"
                " VALUES (1, ?, 'home', 'in_progress', ?, ?, 904)",
                (SHAKAT, opened, opened),
            )
            for user_id in (901, 902, 903):
                await tx.execute(
                    "INSERT INTO reports (incident_id, user_id, village_code, kind, since, created_at)"
                    " VALUES (1, ?, ?, 'home', 'now', ?)",
                    (user_id, SHAKAT, opened),
                )
        person = await client.user("Дана", language_code=language)
        await greet(person, language)
        await person.send("/village")
        await person.wait_for(lambda m: WORDS[language]["prompt"] in m.text)
        await person.send("Шакат")
        choices = await person.wait_for(lambda m: m.text.startswith(WORDS[language]["which"]))
        await person.press_on(choices, choices.labels[0], wait=0)
        card = await person.wait_for(lambda m: WORDS[language]["stage"] in m.text)
        assert WORDS[language]["outage"] in card.text


async def test_a_card_of_a_village_with_300_buildings_and_a_long_name_fits_telegram(
    client: SandboxClient, bot_factory: BotFactory
) -> None:
    async with bot_factory(seed=True) as app:
        async with app.bot_data.db.transaction() as tx:
            await tx.execute(
                "UPDATE villages SET name_ru = ?, name_kk = ? WHERE code = ?",
                ("Ш" * 5000, "Ш" * 5000, SHAKAT),
            )
            for number in range(300):
                await places.add_object(tx, SHAKAT, "school", f"Школа №{number} " + "и" * 200)
        person = await client.user("Дана", language_code="ru")
        await greet(person, "ru")
        # The card opens by its button, as from a list or a notification.
        menu = await person.last_message()
        assert menu is not None
        assert await person.press_data(menu.message_id, f"vl:show:{SHAKAT}", wait=0) is None
        card = await person.wait_for(lambda m: "Этап:" in m.text)
        assert len(card.text) <= 4096 and "…и ещё 291 здание, из них подключено: 0." in card.text


@pytest.mark.parametrize(
    "data",
    [
        "vl:show:12345678901234567890",
        "vl:explode:556069100",
        "vq:nowhere",
        "vb:districts:550000000:99999999999999999999",
        "vb:planets:550000000:0",
        "vs:556069100:connected:99999999999999999999:0:homes_ready",
        "vs:556069100:flying::",
        "iv:12345678901234567890",
        "io:99999999999999999999",
        "ik:castle",
        "it:pigeon",
        "is:everything",
        "iw:extra",
        "ia:extra",
        "fx:99999999999999999999",
        "imp:everything",
    ],
)
async def test_forged_or_huge_button_data_gets_the_out_of_date_answer(
    client: SandboxClient, bot_factory: BotFactory, clock: Clock, data: str
) -> None:
    async with bot_factory(seed=True) as app:
        async with app.bot_data.db.transaction() as tx:
            await users.grant_role(tx, user_id=600002, role="staff", scope="", actor_id=None, now=clock.now())
        person = await client.user("Болат", id=600002, language_code="ru")
        await greet(person, "ru")
        menu = await person.last_message()
        assert menu is not None
        assert await person.press_data(menu.message_id, data) == WORDS["ru"]["stale"]
        # Inside /install the same data is refused the same way, and the flow goes on.
        await person.send("/install")
        asked = await person.wait_for(lambda m: "Новое подключение" in m.text)
        assert await person.press_data(asked.message_id, data) == WORDS["ru"]["stale"]


@pytest.mark.parametrize(
    ("language", "title"),
    [("kk", "Ауылдық округті таңдаңыз (2 беттің 1-беті):"), ("ru", "Выберите сельский округ (стр. 1 из 2):")],
)
async def test_a_list_of_several_pages_names_the_page_before_its_colon(
    client: SandboxClient, bot_factory: BotFactory, language: str, title: str
) -> None:
    """«Choose the rural okrug (page 1 of 2):», not «Choose the rural okrug: (page 1 of 2)»."""
    words = WORDS[language]
    async with bot_factory(seed=True):
        person = await client.user("Дана", language_code=language)
        await greet(person, language)
        await person.send("/village")
        prompt = await person.wait_for(lambda m: words["prompt"] in m.text)
        first_page = f"vb:okrugs:{BAYANAUL_DISTRICT}:0"
        await person.press_data(prompt.message_id, first_page, wait=0)
        okrugs = await person.wait_for(
            lambda m: m.message_id == prompt.message_id and data_shown(m, first_page) and "(" in m.text
        )
        assert okrugs.text.splitlines()[1] == title
