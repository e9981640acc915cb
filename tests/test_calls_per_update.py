"""What the resident's main paths cost in Bot API calls, in Kazakh and in Russian.

A resident who taps through the buttons finds their village by typing its name, reports an outage
and books a class. Each tap or typed answer should cost about one call to Telegram (one new or
edited message that also settles the press): at most 1.3 calls per update on each path and over all
three together.
"""

from __future__ import annotations

import asyncio
import functools
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from bot.classes import service
from bot.classes.service import NewLesson
from bot.clock import Clock
from bot.sandbox.client import SandboxClient, SandboxMessage, TestUser
from db import classes, outages, places, users
from tests.conftest import BotFactory

TRAINER_ID = 690001
BAYANAUL = "553630100"  # connected: outages get a ticket
CALLS_PER_UPDATE = 1.3


@dataclass(frozen=True)
class Words:
    language: str
    menu: str
    village: str
    prompt: str
    typed_name: str
    which: str
    place: str
    stage: str
    mine: str
    following: str
    report: str
    what: str
    since: str
    send: str
    ticket: str
    ticket_what: str
    classes: str
    book: str
    age: str
    booked: str
    booking: str
    where: str


WORDS = {
    "kk": Words(
        language="Қазақша",
        menu="Не істегіңіз келеді?",
        village="📶 Ауылымның интернеті",
        prompt="Ауылыңыздың атын",
        typed_name="Баянауыл",
        which="Сіздікі қайсысы?",
        place="Баянауыл — Баянауыл ауданы",
        stage="Кезең: ✅ Қосылды",
        mine="🏡 Бұл менің ауылым",
        following="🔔 Сіз ауылдың жаңалықтарына жазылдыңыз",
        report="⚠️ Ақау туралы хабарлау",
        what="Үй интернеті",
        since="Бүгіннен бері",
        send="📨 Қазір жіберу",
        ticket="✅ AN-000001 өтініш қабылданды",
        ticket_what="Жұмыс істемейді: үй интернеті, бүгіннен бері.",
        classes="🎓 Сабақтар",
        book="🙋 Өзімді жазу",
        age="60 жастан бастап",
        booked="Жазылдыңыз.",
        booking="✅ Жазылдыңыз",
        where="Қайда: Клуб, Баянауыл",
    ),
    "ru": Words(
        language="Русский",
        menu="Что вы хотите сделать?",
        village="📶 Интернет в моём селе",
        prompt="Напишите название вашего села",
        typed_name="Баянаул",
        which="Какое из них ваше?",
        place="Баянаул — Баянаульский район",
        stage="Этап: ✅ Подключено",
        mine="🏡 Это моё село",
        following="🔔 Вы подписаны на новости села",
        report="⚠️ Сообщить о сбое",
        what="Домашний интернет",
        since="С сегодняшнего дня",
        send="📨 Отправить сейчас",
        ticket="✅ Заявка AN-000001 принята",
        ticket_what="Что: домашний интернет, с сегодняшнего дня.",
        classes="🎓 Занятия",
        book="🙋 Записаться",
        age="60 лет и старше",
        booked="Вы записаны.",
        booking="✅ Вы записаны",
        where="Где: Клуб, Баянаул",
    ),
}


@dataclass
class Cost:
    """Bot API calls and updates over a stretch of one person's conversation, and which calls."""

    calls: int = 0
    updates: int = 0
    methods: Counter[str] = field(default_factory=Counter)

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.calls + other.calls, self.updates + other.updates, self.methods + other.methods)

    @property
    def per_update(self) -> float:
        return self.calls / self.updates

    def __str__(self) -> str:
        return f"{self.calls} calls / {self.updates} updates = {self.per_update:.2f} ({dict(self.methods)})"


async def quiet(client: SandboxClient, person: TestUser) -> tuple[dict[str, int], dict[str, int]]:
    """The chat's counters and the bot's requests by method, once the bot has stopped calling
    (nothing new for half a second), so a late call is not counted on the next path."""
    counters = await person.chat_stats()
    while True:
        await asyncio.sleep(0.5)
        now = await person.chat_stats(callback_window=0.5)
        if now["api_calls"] == counters["api_calls"]:
            return now, (await client.stats())["requests"]
        counters = now


class Meter:
    """Measures one person's path: `async with Meter(client, person) as cost: ...`."""

    def __init__(self, client: SandboxClient, person: TestUser) -> None:
        self.client, self.person, self.cost = client, person, Cost()

    async def __aenter__(self) -> Cost:
        self.before, self.requests_before = await quiet(self.client, self.person)
        return self.cost

    async def __aexit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is not None:
            return  # the path itself failed: that is the error to see
        after, requests_after = await quiet(self.client, self.person)
        self.cost.calls = after["api_calls"] - self.before["api_calls"]
        self.cost.updates = after["updates"] - self.before["updates"]
        # Which calls, to read a failure by: counted over the whole sandbox (she is its only person,
        # but a call to another chat would show here too); the figures are her chat's counters.
        self.cost.methods = Counter(requests_after) - Counter(self.requests_before)
        del self.cost.methods["getUpdates"]
        assert after["unanswered_callbacks"] == 0  # every press settled, by an edit or a word


async def greet(person: TestUser, words: Words) -> None:
    await person.send("/start")
    await person.next_message()
    await person.press(words.language, wait=0)
    await person.wait_for(lambda m: words.menu in m.text)


async def open_menu(person: TestUser, words: Words, item: str) -> SandboxMessage:
    """/menu, then the main-menu button ``item``: the menu message, which the bot edits from then on."""
    await person.send("/menu")
    menu = await person.wait_for(lambda m: m.text == words.menu and item in m.labels)
    await person.press_on(menu, item, wait=0)
    return menu


async def find_my_village(person: TestUser, words: Words) -> SandboxMessage:
    """Menu → my village → type its name → pick it → this is my village; then menu → my village again."""
    menu = await open_menu(person, words, words.village)
    prompt = await person.wait_for(lambda m: m.message_id == menu.message_id and words.prompt in m.text)
    await person.send(words.typed_name)
    choices = await person.wait_for(lambda m: m.text.startswith(words.which))
    assert choices.labels[0] == words.place
    await person.press_on(choices, words.place, wait=0)
    card = await person.wait_for(lambda m: m.message_id == choices.message_id and words.stage in m.text)
    assert words.mine in card.labels
    await person.press_on(card, words.mine, wait=0)
    await person.wait_for(lambda m: m.message_id == card.message_id and words.following in m.text)
    # From now on the menu button opens her village's card at once.
    menu = await open_menu(person, words, words.village)
    assert menu.message_id > prompt.message_id
    return await person.wait_for(lambda m: m.message_id == menu.message_id and words.stage in m.text)


def offers(menu: SandboxMessage, label: str, message: SandboxMessage) -> bool:
    """The menu message, edited into a step that has the button ``label``."""
    return message.message_id == menu.message_id and label in message.labels


async def report_an_outage(person: TestUser, words: Words) -> SandboxMessage:
    """Menu → report an outage → what → since when → send: the ticket, in place of the menu."""
    menu = await open_menu(person, words, words.report)
    for label in (words.what, words.since, words.send):
        asked = await person.wait_for(functools.partial(offers, menu, label))
        await person.press_on(asked, label, wait=0)
    return await person.wait_for(
        lambda m: m.message_id == menu.message_id and m.text.startswith(words.ticket)
    )


async def book_a_class(person: TestUser, words: Words) -> SandboxMessage:
    """Menu → classes → the class → book for me → age: booked, told on the button and in the card."""
    menu = await open_menu(person, words, words.classes)
    listing = await person.wait_for(
        lambda m: m.message_id == menu.message_id and bool(m.labels) and m.labels[0].startswith("1. ")
    )
    await person.press_on(listing, listing.labels[0], wait=0)
    card = await person.wait_for(lambda m: m.message_id == menu.message_id and words.book in m.labels)
    assert words.where in card.text
    await person.press_on(card, words.book, wait=0)
    ages = await person.wait_for(lambda m: m.message_id == menu.message_id and words.age in m.labels)
    assert await person.press_on(ages, words.age) == words.booked
    return await person.wait_for(lambda m: m.message_id == menu.message_id and words.booking in m.text)


@pytest.mark.parametrize("language", ["kk", "ru"])
async def test_the_residents_main_paths_cost_at_most_1_3_calls_per_update(
    client: SandboxClient, bot_factory: BotFactory, clock: Clock, language: str
) -> None:
    words = WORDS[language]
    person = await client.user("Айгүл" if language == "kk" else "Ольга", language_code=language)
    async with bot_factory(seed=True) as app:
        async with app.bot_data.db.transaction() as tx:
            await users.ensure_account(tx, TRAINER_ID, clock.now())
            lesson = await service.create_lesson(
                tx,
                NewLesson(BAYANAUL, "Клуб", clock.now() + timedelta(days=3), 60, "smartphone", language, 20),
                trainer_id=TRAINER_ID,
                now=clock.now(),
            )
        await greet(person, words)
        costs: dict[str, Cost] = {}

        async with Meter(client, person) as costs["village"]:
            card = await find_my_village(person, words)
        assert card.text.startswith(f"🏡 {words.typed_name}\n") and words.following in card.text

        async with Meter(client, person) as costs["outage"]:
            ticket = await report_an_outage(person, words)
        assert words.ticket_what in ticket.text.splitlines()

        async with Meter(client, person) as costs["class"]:
            booking = await book_a_class(person, words)
        assert words.where in booking.text

        async with app.bot_data.db.read() as conn:
            assert await places.my_village(conn, person.id) == BAYANAUL
            assert len(await outages.reports_by_user(conn, person.id)) == 1
            seats = await classes.my_bookings(conn, person.id, lesson.id)
        assert [(seat.state, seat.age_group) for seat in seats] == [("booked", "60plus")]

    total = costs["village"] + costs["outage"] + costs["class"]
    print(f"\n{language}: " + "; ".join(f"{path} {cost}" for path, cost in [*costs.items(), ("all", total)]))
    for path, cost in costs.items():
        assert cost.per_update <= CALLS_PER_UPDATE, f"{path}: {cost}"
    assert total.per_update <= CALLS_PER_UPDATE, f"all paths: {total}"
