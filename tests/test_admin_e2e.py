"""Administration through the sandbox, as admins would do it: in Kazakh and in Russian, for the whole
country and for one region."""

from __future__ import annotations

import re

from bot.sandbox.client import SandboxClient, TestUser
from db import users
from db.database import fetch_all
from tests.conftest import BotFactory

GLOBAL_ADMIN = 500001


async def start_in(person: TestUser, language: str) -> None:
    await person.send("/start")
    await person.next_message()
    await person.press(language, wait=0)
    await person.wait_for(lambda m: bool(m.buttons) and "?" in m.text)


async def test_a_global_admin_invites_by_buttons_and_manages_the_role_in_kazakh(
    client: SandboxClient, bot_factory: BotFactory
) -> None:
    async with bot_factory(admin_ids={GLOBAL_ADMIN}, seed=True) as app:
        asel = await client.user("Әсел", id=GLOBAL_ADMIN, language_code="kk")
        await start_in(asel, "Қазақша")
        await asel.press("👑 Әкімшілік", wait=0)
        panel = await asel.wait_for(lambda m: "Әкімшілік" in m.text)
        assert "Сіздің аумағыңыз: бүкіл ел." in panel.text
        assert panel.labels[:4] == [
            "➕ Шақыру",
            "👥 Рөлдер",
            "📥 Файлды импорттау",
            "📬 Хабарламалардың жеткізілуі",
        ]

        # Role, then region, then district: all buttons, all in place.
        await asel.press("➕ Шақыру", wait=0)
        await asel.wait_for(lambda m: "қай рөл" in m.text)
        await asel.press("Инженер", wait=0)
        regions = await asel.wait_for(lambda m: "қай аумақ" in m.text)
        assert regions.labels[0] == "🌍 Бүкіл ел"
        assert {"Павлодар облысы", "Ақтөбе облысы"} <= set(regions.labels)
        await asel.press("Павлодар облысы", wait=0)
        districts = await asel.wait_for(
            lambda m: "Павлодар облысы" in m.text and "✅ Бүкіл облыс" in m.labels
        )
        assert "Баянауыл ауданы" in districts.labels
        await asel.press("Баянауыл ауданы", wait=0)
        invite = await asel.wait_for(lambda m: "start=inv_" in m.text)
        assert invite.message_id == panel.message_id  # one message, edited at every step
        assert "«инженер» рөліне шақыру. Аумақ: Баянауыл ауданы, Павлодар облысы." in invite.text
        code = re.search(r"start=inv_([\w-]+)", invite.text).group(1)  # type: ignore[union-attr]

        # The new engineer joins; the admin hears it.
        bolat = await client.user("Болат", last_name="Ахметов", username="bolat_a", language_code="kk")
        await bolat.send(f"/start inv_{code}")
        welcome = await bolat.next_message()
        assert welcome.text.startswith("Қош келдіңіз! Енді сізде «инженер» рөлі бар. Аумақ: Баянауыл ауданы")
        told = await asel.wait_for(lambda m: "шақыруыңызды қолданды" in m.text)
        assert told.text == (
            "✅ Болат Ахметов (@bolat_a) шақыруыңызды қолданды, енді оның «инженер» рөлі бар."
            " Аумақ: Баянауыл ауданы, Павлодар облысы."
        )

        # /roles: names of people and areas, not codes; someone given a role from the command line
        # before writing to the bot is shown as such.
        async with app.bot_data.db.transaction() as tx:
            await users.grant_role(
                tx, user_id=777, role="trainer", scope="15", actor_id=None, now=app.bot_data.clock.now()
            )
        await asel.send("/roles")
        roles = await asel.wait_for(lambda m: "Рөлдер" in m.text)
        assert "1. id 777 (ботқа әлі жазбаған) — оқытушы, Ақтөбе облысы" in roles.text
        assert "2. Болат Ахметов (@bolat_a) — инженер, Баянауыл ауданы" in roles.text
        assert "5536" not in roles.text and " 15" not in roles.text

        # Revoking names the person, asks once, says what it did; the engineer is told.
        await asel.press("✖️ 2. Болат: инженер", wait=0)
        question = await asel.wait_for(lambda m: "алып тастау керек пе" in m.text)
        assert question.text == (
            "Болат Ахметов (@bolat_a): «инженер» рөлін алып тастау керек пе? Аумақ: Баянауыл ауданы, Павлодар облысы."
        )
        confirm = next(
            data for row in question.buttons for label, data in row if label == "✖️ Иә, алып тастау"
        )
        async with app.bot_data.db.read() as conn:
            assert [(g.role, g.scope) for g in await users.roles_of(conn, bolat.id)] == [("staff", "5536")]
        await asel.press("✖️ Иә, алып тастау", wait=0)
        done = await asel.wait_for(lambda m: m.text.startswith("Дайын:"))
        assert "Кімнен: Болат Ахметов (@bolat_a)" in done.text
        await bolat.wait_for(lambda m: m.text.startswith("Әкімші сізден «инженер» рөлін алып тастады."))
        async with app.bot_data.db.read() as conn:
            assert await users.roles_of(conn, bolat.id) == []

        # The same «Yes» pressed again: already taken away, by whom; nothing changes.
        answer = await asel.press_data(done.message_id, confirm)
        assert answer is not None and answer.startswith("Бұл рөл бұрын алынып тасталған:")
        assert answer.endswith("кім алды: Әсел.")


async def test_an_area_admin_stays_inside_the_area_in_russian(
    client: SandboxClient, bot_factory: BotFactory
) -> None:
    async with bot_factory(admin_ids={GLOBAL_ADMIN}, seed=True) as app:
        db = app.bot_data.db
        marat = await client.user("Марат", language_code="ru")
        sergey = await client.user("Сергей", last_name="Ким", language_code="ru")
        dana = await client.user("Дана", language_code="ru")
        for person in (marat, sergey, dana):
            await start_in(person, "Русский")
        async with db.transaction() as tx:
            await users.grant_role(
                tx,
                user_id=marat.id,
                role="admin",
                scope="55",
                actor_id=GLOBAL_ADMIN,
                now=app.bot_data.clock.now(),
            )
            await users.grant_role(
                tx,
                user_id=sergey.id,
                role="staff",
                scope="15",
                actor_id=GLOBAL_ADMIN,
                now=app.bot_data.clock.now(),
            )
            await users.grant_role(
                tx,
                user_id=dana.id,
                role="trainer",
                scope="5536",
                actor_id=GLOBAL_ADMIN,
                now=app.bot_data.clock.now(),
            )

        async def everything() -> list[list[tuple[object, ...]]]:
            async with db.read() as conn:
                return [
                    [tuple(row) for row in await fetch_all(conn, sql)]
                    for sql in ("SELECT * FROM roles ORDER BY user_id, role", "SELECT code FROM invites")
                ]

        before = await everything()

        # The invite starts at his region: no «whole country».
        await marat.send("/invite")
        await marat.wait_for(lambda m: "какую роль" in m.text)
        await marat.press("Администратор", wait=0)
        area = await marat.wait_for(lambda m: "какая территория" in m.text)
        assert "Павлодарская область" in area.text and "🌍 Вся страна" not in area.labels
        assert "✅ Вся область" in area.labels and "Баянаульский район" in area.labels
        assert "Актюбинская область" not in area.labels

        # Another region, the whole country, an unknown area, forged buttons: refused with the reason.
        await marat.send("/invite staff 15")
        outside = await marat.wait_for(lambda m: "за пределами" in m.text)
        assert (
            outside.text == "Это за пределами вашей территории. Вы администратор для: Павлодарская область."
        )
        await marat.send("/invite staff 9999")
        unknown = await marat.wait_for(lambda m: "9999" in m.text)
        assert unknown.text == "Территории с кодом 9999 нет. Выберите её кнопками: /invite"
        answer = await marat.press_data(area.message_id, "inv:admin::1")
        assert answer == (
            "Роль на всю страну может дать только администратор всей страны."
            " Выберите территорию внутри вашей: Павлодарская область."
        )
        answer = await marat.press_data(area.message_id, "inv:staff:15:0")
        assert answer is not None and answer.startswith("Это за пределами вашей территории.")
        answer = await marat.press_data(area.message_id, f"rvk:{sergey.id}:staff:15:1")
        assert answer is not None and answer.startswith("Это за пределами вашей территории.")
        await marat.send(f"/revoke {sergey.id} staff")
        await marat.wait_for(lambda m: m.text.startswith("Это за пределами вашей территории."))

        # His list: the roles of his region only, with names.
        await marat.send("/roles")
        roles = await marat.wait_for(lambda m: "Роли" in m.text)
        assert "Павлодарская область" in roles.text
        assert "Дана — тренер, Баянаульский район" in roles.text
        assert "Сергей" not in roles.text and "Актюб" not in roles.text
        assert not any("Марат" in label for label in roles.labels)  # no button to revoke himself
        assert await everything() == before

        # Inside his area he can act: an invite for Bayanaul district.
        await marat.send("/invite trainer 5536")
        made = await marat.wait_for(lambda m: "start=inv_" in m.text)
        assert (
            "Приглашение на роль «тренер». Территория: Баянаульский район, Павлодарская область." in made.text
        )


async def test_a_newcomer_from_an_invite_reads_the_role_in_both_languages_before_choosing_one(
    client: SandboxClient, bot_factory: BotFactory
) -> None:
    async with bot_factory(admin_ids={GLOBAL_ADMIN}, seed=True):
        marat = await client.user("Марат", id=GLOBAL_ADMIN, language_code="ru")
        await start_in(marat, "Русский")
        await marat.send("/invite admin 5536")
        made = await marat.wait_for(lambda m: "start=inv_" in m.text)
        code = re.search(r"start=inv_([\w-]+)", made.text).group(1)  # type: ignore[union-attr]

        # Telegram in English: the bot does not know yet which of its languages the person reads.
        erlan = await client.user("Ерлан", language_code="en")
        await erlan.send(f"/start inv_{code}")
        welcome = await erlan.next_message()
        assert welcome.text.startswith(
            "Қош келдіңіз! Енді сізде «әкімші» рөлі бар. Аумақ: Баянауыл ауданы, Павлодар облысы.\n"
            "Добро пожаловать! Теперь у вас роль «администратор». Территория: Баянаульский район,"
            " Павлодарская область.\n\nТілді таңдаңыз:\nВыберите язык:"
        ), welcome.text
        assert welcome.labels == ["Қазақша", "Русский"]

        # Someone who has chosen a language already reads it in that language only.
        dana = await client.user("Дана", language_code="kk")
        await start_in(dana, "Русский")
        await marat.send("/invite trainer 5536")
        made = await marat.wait_for(lambda m: "start=inv_" in m.text and m.text != made.text)
        code = re.search(r"start=inv_([\w-]+)", made.text).group(1)  # type: ignore[union-attr]
        await dana.send(f"/start inv_{code}")
        menu = await dana.wait_for(lambda m: "Добро пожаловать!" in m.text)
        assert "Қош келдіңіз" not in menu.text
        assert menu.text.startswith(
            "Добро пожаловать! Теперь у вас роль «тренер». Территория: Баянаульский район"
        )


async def test_the_admin_panel_buttons_all_answer(client: SandboxClient, bot_factory: BotFactory) -> None:
    async with bot_factory(admin_ids={GLOBAL_ADMIN}) as app:
        admin = await client.user("Әсел", id=GLOBAL_ADMIN, language_code="ru")
        for language, panel_title, expected in (
            (
                "Русский",
                "Администрирование",
                {
                    "➕ Пригласить": "какую роль получит",
                    "👥 Роли": "Роли",
                    "📥 Импорт файла": "Отправьте в этот чат CSV-файл",
                    "📬 Доставка уведомлений": "В очереди: 0",
                },
            ),
            (
                "Қазақша",
                "Әкімшілік",
                {
                    "➕ Шақыру": "қай рөл берілсін",
                    "👥 Рөлдер": "Рөлдер",
                    "📥 Файлды импорттау": "CSV файлын жіберіңіз",
                    "📬 Хабарламалардың жеткізілуі": "Кезекте: 0",
                },
            ),
        ):
            await admin.send("/language")
            await admin.next_message()
            await admin.press(language, wait=0)
            await admin.wait_for(lambda m: bool(m.buttons) and "?" in m.text)
            for label, says in expected.items():
                await admin.send("/admin")
                panel = await admin.wait_for(lambda m, title=panel_title: title in m.text)
                await admin.press_on(panel, label, wait=0)
                shown = await admin.wait_for(lambda m, says=says: says in m.text)
                assert shown.message_id == panel.message_id
        assert app.bot_data.db is not None
