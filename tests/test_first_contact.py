"""Stories of first contact, languages, roles and odd input, through the sandbox."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.clock import Clock
from bot.sandbox.client import SandboxClient
from db import users
from tests.conftest import BotFactory

ADMIN_ID = 500001


async def choose_language(person, label: str) -> None:  # type: ignore[no-untyped-def]
    await person.send("/start")
    prompt = await person.next_message()
    assert "Тілді таңдаңыз:" in prompt.text and "Выберите язык:" in prompt.text
    await person.press(label, wait=0)


async def test_first_contact_in_kazakh(client: SandboxClient, bot_factory: BotFactory) -> None:
    async with bot_factory():
        aigul = await client.user("Айгүл", language_code="kk")
        await aigul.send("/start")
        prompt = await aigul.next_message()
        # The prompt speaks both languages, the suggested one first; so do the buttons.
        assert prompt.text.splitlines()[:2] == ["Тілді таңдаңыз:", "Выберите язык:"]
        assert [label for label, _ in prompt.buttons[0]] == ["Қазақша", "Русский"]
        await aigul.press("Қазақша")
        menu = await aigul.wait_for(lambda m: "Не істегіңіз келеді?" in m.text)
        labels = [label for row in menu.buttons for label, _ in row]
        assert "📶 Ауылымның интернеті" in labels
        assert "⚠️ Ақау туралы хабарлау" in labels
        assert not any("Әкімшілік" in label for label in labels)


async def test_first_contact_in_russian_survives_a_restart(
    client: SandboxClient, bot_factory: BotFactory
) -> None:
    olga = await client.user("Ольга", language_code="ru")
    async with bot_factory():
        await olga.send("/start")
        prompt = await olga.next_message()
        assert prompt.text.splitlines()[:2] == ["Выберите язык:", "Тілді таңдаңыз:"]
        assert [label for label, _ in prompt.buttons[0]] == ["Русский", "Қазақша"]
        await olga.press("Русский")
        await olga.wait_for(lambda m: "Что вы хотите сделать?" in m.text)
    async with bot_factory():
        await olga.send("/menu")
        menu = await olga.next_message()
        assert menu.text == "Что вы хотите сделать?"


async def test_language_can_be_changed_any_time(client: SandboxClient, bot_factory: BotFactory) -> None:
    async with bot_factory():
        erlan = await client.user("Ерлан", language_code="en")
        await erlan.send("/start")
        prompt = await erlan.next_message()
        # No kk or ru from Telegram: the default language (kk) is suggested.
        assert prompt.text.splitlines()[0] == "Тілді таңдаңыз:"
        await erlan.press("Қазақша")
        await erlan.wait_for(lambda m: "Не істегіңіз келеді?" in m.text)
        await erlan.send("/language")
        await erlan.next_message()
        await erlan.press("Русский")
        await erlan.wait_for(lambda m: m.text == "Что вы хотите сделать?")


async def test_resident_is_refused_admin_commands_and_forged_buttons(
    client: SandboxClient, bot_factory: BotFactory
) -> None:
    async with bot_factory(admin_ids={ADMIN_ID}) as app:
        olga = await client.user("Ольга", language_code="ru")
        await choose_language(olga, "Русский")
        menu = await olga.wait_for(lambda m: "Что вы хотите сделать?" in m.text)

        await olga.send("/roles")
        refusal = await olga.wait_for(lambda m: "только для роли" in m.text)
        assert refusal.text == "Извините, это доступно только для роли «администратор»."

        # A forged "revoke admin" button: refused, in Russian, and nothing changes.
        answer = await olga.press_data(menu.message_id, f"rvk:{ADMIN_ID}:admin::1")
        assert answer == "Извините, это доступно только для роли «администратор»."
        answer = await olga.press_data(menu.message_id, "inv:staff::1")
        assert answer == "Извините, это доступно только для роли «администратор»."
        async with app.bot_data.db.read() as conn:
            assert await users.roles_of(conn, olga.id) == []
            invites = await conn.execute_fetchall("SELECT * FROM invites")
        assert list(invites) == []

        # Garbage that is not ours at all.
        answer = await olga.press_data(menu.message_id, "x" * 64)
        assert answer == "Эта кнопка устарела. Откройте /menu заново."


async def test_an_invite_makes_staff_once_and_expires(
    client: SandboxClient, bot_factory: BotFactory, clock: Clock
) -> None:
    async with bot_factory(admin_ids={ADMIN_ID}, seed=True) as app:
        admin = await client.user("Әсел", id=ADMIN_ID, language_code="kk")
        await choose_language(admin, "Қазақша")
        await admin.wait_for(lambda m: "Әкімшілік" in str(m.buttons))
        await admin.send("/invite staff 55")
        invite = await admin.wait_for(lambda m: "start=inv_" in m.text)
        code = re.search(r"start=inv_([\w-]+)", invite.text).group(1)  # type: ignore[union-attr]
        # The invite names the role and the area, by name.
        assert "«инженер» рөліне шақыру. Аумақ: Павлодар облысы." in invite.text

        bolat = await client.user("Болат", language_code="kk")
        await bolat.send(f"/start inv_{code}")
        # One answer: the welcome, then the language question (he has not chosen one yet).
        welcome = await bolat.next_message()
        assert (
            welcome.text.splitlines()[0]
            == "Қош келдіңіз! Енді сізде «инженер» рөлі бар. Аумақ: Павлодар облысы."
        )
        assert "Тілді таңдаңыз:" in welcome.text
        async with app.bot_data.db.read() as conn:
            grants = await users.roles_of(conn, bolat.id)
            trail = await conn.execute_fetchall(
                "SELECT actor_id, action FROM audit_log WHERE subject = ?", (f"user:{bolat.id}",)
            )
        assert [(g.role, g.scope) for g in grants] == [("staff", "55")]
        assert [tuple(row) for row in trail] == [(ADMIN_ID, "role.grant")]

        # Single use: a second person gets a clear no.
        dana = await client.user("Дана", language_code="ru")
        await dana.send(f"/start inv_{code}")
        assert (await dana.next_message()).text.splitlines()[0] == (
            "Это приглашение уже использовано. Попросите у администратора новое."
        )

        # Expiry: three days.
        await admin.send("/invite trainer 15")
        invite = await admin.wait_for(lambda m: "«оқытушы» рөліне" in m.text)
        code = re.search(r"start=inv_([\w-]+)", invite.text).group(1)  # type: ignore[union-attr]
        clock.advance(timedelta(days=3, minutes=1))
        await dana.send(f"/start inv_{code}")
        expired = await dana.wait_for(lambda m: "истёк" in m.text)
        assert (
            expired.text.splitlines()[0] == "Срок этого приглашения истёк. Попросите у администратора новое."
        )
        async with app.bot_data.db.read() as conn:
            assert await users.roles_of(conn, dana.id) == []


async def test_odd_input_gets_a_clear_answer(client: SandboxClient, bot_factory: BotFactory) -> None:
    async with bot_factory():
        olga = await client.user("Ольга", language_code="ru")
        await choose_language(olga, "Русский")
        await olga.wait_for(lambda m: "Что вы хотите сделать?" in m.text)

        await olga.send("/frobnicate")
        assert (await olga.next_message()).text == (
            "Я не знаю такой команды. Посмотрите /help или воспользуйтесь меню."
        )
        await olga.send("я" * 4000)
        long_reply = await olga.next_message()
        assert long_reply.text.replace("\xa0", " ") == (
            "Сообщение слишком длинное (4 000 симв.). Сократите его до 1 000 символов."
        )
        assert long_reply.buttons, "the menu comes with it"

        await olga.send("привет")
        assert (await olga.next_message()).text == (
            "Пожалуйста, пользуйтесь кнопками. Что вы хотите сделать?"
        )
        await olga.send_document("notes.txt", b"hello")
        assert (await olga.next_message()).text == (
            "Я понимаю только текст и кнопки. Пожалуйста, воспользуйтесь меню."
        )
        await olga.send_sticker("😀")
        assert (await olga.next_message()).text == (
            "Я понимаю только текст и кнопки. Пожалуйста, воспользуйтесь меню."
        )


async def test_help_explains_by_role(client: SandboxClient, bot_factory: BotFactory) -> None:
    async with bot_factory(admin_ids={ADMIN_ID}):
        admin = await client.user("Әсел", id=ADMIN_ID, language_code="kk")
        olga = await client.user("Ольга", language_code="ru")
        for person, label in ((admin, "Қазақша"), (olga, "Русский")):
            await choose_language(person, label)
            await person.wait_for(lambda m: bool(m.buttons) and "?" in m.text)
            await person.send("/help")
        admin_help = await admin.wait_for(lambda m: "AuylNet" in m.text and "/invite" in m.text)
        assert "Әкімшілерге" in admin_help.text
        resident_help = await olga.wait_for(lambda m: "AuylNet" in m.text and "/myreports" in m.text)
        assert "/invite" not in resident_help.text


async def test_a_resident_sees_and_deletes_their_data(client: SandboxClient, bot_factory: BotFactory) -> None:
    async with bot_factory(seed=True) as app:
        olga = await client.user("Ольга", last_name="Петрова", language_code="ru")
        await olga.send("/start")
        prompt = await olga.next_message()
        assert "Продолжая, вы соглашаетесь, что AuylNet хранит ваши данные: /privacy" in prompt.text
        await olga.press("Русский")
        await olga.wait_for(lambda m: "Что вы хотите сделать?" in m.text)
        await olga.send("/privacy")
        mine = await olga.wait_for(lambda m: "Ваши данные в AuylNet" in m.text)
        assert "Имя: Ольга Петрова" in mine.text and "Язык: Русский" in mine.text
        assert "Данные хранятся в Казахстане." in mine.text
        await olga.press("🗑 Удалить мои данные")
        await olga.wait_for(lambda m: m.text.startswith("Удалить ваше имя"))
        await olga.press("🗑 Да, удалить")
        await olga.wait_for(lambda m: m.text.startswith("Готово: ваши данные удалены."))
        async with app.bot_data.db.read() as conn:
            account = await users.get_account(conn, olga.id)
            trail = await conn.execute_fetchall(
                "SELECT action FROM audit_log WHERE subject = ? ORDER BY id", (f"user:{olga.id}",)
            )
        assert account is not None and (account.first_name, account.last_name, account.language) == (
            "-",
            None,
            None,
        )
        assert [row[0] for row in trail] == ["privacy.consent", "privacy.erase"]


async def test_the_command_menu_speaks_each_language(client: SandboxClient, bot_factory: BotFactory) -> None:
    async with bot_factory(admin_ids={ADMIN_ID}):
        russian = {c["command"]: c["description"] for c in await client.commands("ru")}
        kazakh = {c["command"]: c["description"] for c in await client.commands("kk")}
        assert russian["report"] == "Сообщить о сбое" and kazakh["report"] == "Ақау туралы хабарлау"
        assert "invite" not in russian  # residents' menu
        admin = await client.user("Әсел", id=ADMIN_ID, language_code="ru")
        await choose_language(admin, "Қазақша")  # Telegram in Russian, AuylNet in Kazakh
        await admin.wait_for(lambda m: "Не істегіңіз келеді?" in m.text)
        own = {c["command"]: c["description"] for c in await client.commands("ru", chat_id=admin.id)}
        assert own["outbox"] == "Хабарламалардың жеткізілуі" and own["menu"] == "Басты мәзір"


async def test_an_error_is_told_to_the_person_and_the_bot_goes_on(
    client: SandboxClient, bot_factory: BotFactory
) -> None:
    async with bot_factory():
        olga = await client.user("Ольга", language_code="ru")
        await choose_language(olga, "Русский")
        await olga.wait_for(lambda m: "Что вы хотите сделать?" in m.text)
        await client.fault("500", method="sendMessage", count=1)  # Telegram fails the reply once
        await olga.send("/help")
        sorry = await olga.next_message()
        assert sorry.text == "Извините, что-то пошло не так. Попробуйте ещё раз через минуту."
        await olga.send("/help")
        assert "AuylNet" in (await olga.next_message()).text


async def test_an_admin_sees_notification_delivery(client: SandboxClient, bot_factory: BotFactory) -> None:
    async with bot_factory(admin_ids={ADMIN_ID}):
        admin = await client.user("Әсел", id=ADMIN_ID, language_code="ru")
        await choose_language(admin, "Русский")
        await admin.wait_for(lambda m: "Что вы хотите сделать?" in m.text)
        await admin.send("/outbox")
        health = await admin.wait_for(lambda m: "Доставка уведомлений" in m.text)
        assert "В очереди: 0" in health.text and "Не доставлено, ждёт администратора: 0" in health.text
        resident = await client.user("Ольга", language_code="ru")
        await choose_language(resident, "Русский")
        await resident.send("/outbox")
        refusal = await resident.wait_for(lambda m: "только для роли" in m.text)
        assert refusal.text == "Извините, это доступно только для роли «администратор»."


async def test_a_button_that_fails_after_answering_still_gets_an_apology(
    client: SandboxClient, bot_factory: BotFactory
) -> None:
    async with bot_factory():
        olga = await client.user("Ольга", language_code="ru")
        await choose_language(olga, "Русский")
        await olga.wait_for(lambda m: "Что вы хотите сделать?" in m.text)
        # «Help» answers the button, then Telegram fails the edit that shows the help.
        await client.fault("500", method="editMessageText", count=1)
        await olga.press("❓ Помощь")
        sorry = await olga.wait_for(lambda m: m.text.startswith("Извините, что-то пошло не так"))
        assert sorry.text == "Извините, что-то пошло не так. Попробуйте ещё раз через минуту."


BROKEN = ("устарела", "ескірген", "Извините, что-то пошло не так", "Кешіріңіз, бірдеңе дұрыс болмады")


async def test_every_main_menu_button_of_every_role_answers(
    client: SandboxClient, bot_factory: BotFactory
) -> None:
    """A resident, a trainer, an engineer and an area admin press each button of their main menu, in
    Kazakh and in Russian: each gets its screen, never «out of date» or «Sorry»."""
    async with bot_factory(seed=True) as app:
        people = []
        for number, (role, language, label) in enumerate(
            (
                (None, "kk", "Қазақша"),
                (None, "ru", "Русский"),
                ("trainer", "kk", "Қазақша"),
                ("trainer", "ru", "Русский"),
                ("staff", "kk", "Қазақша"),
                ("staff", "ru", "Русский"),
                ("admin", "kk", "Қазақша"),
                ("admin", "ru", "Русский"),
            )
        ):
            person = await client.user(f"Person{number}", language_code=language)
            await choose_language(person, label)
            await person.wait_for(lambda m: bool(m.buttons) and "?" in m.text)
            if role is not None:
                async with app.bot_data.db.transaction() as tx:
                    await users.grant_role(
                        tx,
                        user_id=person.id,
                        role=role,
                        scope="55",
                        actor_id=None,
                        now=app.bot_data.clock.now(),
                    )
            people.append((role, person))
        pressed: dict[str | None, set[str]] = {}
        problems = []
        for role, person in people:
            await person.send("/menu")
            labels = (await person.wait_for(lambda m: bool(m.buttons) and "?" in m.text)).labels
            for label in labels:
                await person.send("/menu")  # also ends whatever flow the last button started
                menu = await person.wait_for(lambda m: bool(m.buttons) and "?" in m.text)
                answer = await person.press_on(menu, label, wait=0.3)
                pressed.setdefault(role, set()).add(label)
                try:
                    shown = await person.wait_for(lambda m: True, timeout=5)
                except TimeoutError:
                    problems.append(f"{role or 'resident'} {label!r}: no answer")
                    continue
                said = f"{shown.text} {answer or ''}"
                if any(word in said for word in BROKEN) or not shown.text.strip():
                    problems.append(f"{role or 'resident'} {label!r}: {said!r}")
        assert problems == [], "\n".join(problems)
        # Everyone's buttons were pressed, and each role saw its own.
        assert len(pressed[None]) == 2 * 5  # village, report, classes, settings, help, in both languages
        assert "🧑‍🏫 Мои занятия (тренер)" in pressed["trainer"]
        assert {"🛠 Қосылымды тіркеу", "📋 Открытые сбои", "📊 Жұмыс барысы", "📊 Ход работ"} <= pressed[
            "staff"
        ]
        assert {"👑 Әкімшілік", "👑 Администрирование"} <= pressed["admin"]
