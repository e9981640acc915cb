"""Every setting in the README is read by the program and changes what people see or what it does.

Covered elsewhere, with values other than the defaults: the token, the API address, the database
and the default language (test_cli_run.py), the admins and the staff group (test_first_contact.py,
test_outages_e2e.py), reports per hour and the mass-outage report count (test_outages_e2e.py), the
global rate (test_outbox.py). This file has all the others, and a check that the README's table and
the program agree.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sys
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bot.classes import service as classes_service
from bot.classes.service import NewLesson
from bot.clock import Clock
from bot.config import Settings
from bot.i18n import Translator
from bot.notify import Rendered, renderer
from bot.outages.service import NewReport, file_report
from bot.sandbox.client import SandboxClient, wait_until
from db import outages, outbox, places, users
from db.database import Database
from tests.conftest import BOT_TOKEN, BOTAPI_SPEC, REPO, BotFactory
from tests.test_classes_e2e import greet
from tests.test_classes_rules import person
from tests.test_outages_e2e import report

SHAKAT, BAYANAUL = "556069100", "553630100"


def test_the_readme_table_lists_exactly_the_settings_the_program_reads() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Settings", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`(AUYLNET_[A-Z_]+)`", table))
    read = {f"AUYLNET_{name.upper()}" for name in Settings.model_fields}
    assert listed == read


# --- AUYLNET_TIMEZONE -------------------------------------------------------------------------------
async def test_the_time_zone_setting_changes_the_time_on_a_residents_ticket(
    sandbox: Any, client: SandboxClient, tmp_path: Path
) -> None:
    """Kazakhstan has one zone (UTC+5); a deployment configured for another shows that one."""
    from bot.demo.seed import seed_demo

    aigul = await client.user("Айгүл", language_code="kk")
    database = await Database.open(tmp_path / "live.db")
    await seed_demo(database)
    async with database.transaction() as tx:
        await users.ensure_account(tx, aigul.id, Clock().now())
        await places.set_my_village(tx, aigul.id, BAYANAUL)  # connected: a report gets a ticket
    await database.close()
    zone = ZoneInfo("Europe/Moscow")  # UTC+3: two hours behind Asia/Almaty all year
    env = {
        **os.environ,
        "AUYLNET_BOT_TOKEN": BOT_TOKEN,
        "AUYLNET_API_BASE_URL": sandbox.api_url,
        "AUYLNET_DB_PATH": str(tmp_path / "live.db"),
        "AUYLNET_TIMEZONE": "Europe/Moscow",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        await wait_until(lambda: sandbox.state.stats["requests"].get("getUpdates"), timeout=30)
        await greet(aigul, "Қазақша")
        before = datetime.now(zone)
        ticket = await report(aigul, "Бүкіл ауыл", "Бүгіннен бері", "📨 Қазір жіберу")
        after = datetime.now(zone)
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, output.decode()
    first_line = ticket.splitlines()[0]
    assert first_line.startswith("✅ AN-000001 өтініш қабылданды, ")
    shown = re.findall(r"\d{2}:\d{2}", first_line)[-1]
    assert shown in {before.strftime("%H:%M"), after.strftime("%H:%M")}, first_line
    almaty = before.astimezone(ZoneInfo("Asia/Almaty")).strftime("%H:%M")
    assert shown != almaty


# --- AUYLNET_BOTAPI_SPEC ----------------------------------------------------------------------------
@pytest.fixture
def stricter_spec(tmp_path: Path) -> Path:
    """The official spec with one change: sendMessage requires a parameter nobody sends."""
    if not BOTAPI_SPEC.exists():
        pytest.skip(f"the Bot API spec is not at {BOTAPI_SPEC} (../shared is absent)")
    spec = json.loads(BOTAPI_SPEC.read_text(encoding="utf-8"))
    spec["methods"]["sendMessage"]["fields"].append(
        {"name": "village_code", "types": ["String"], "required": True, "description": "test only"}
    )
    path = tmp_path / "stricter-spec.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


async def send_as_bot(base: str, chat_id: int) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{base}/bot{BOT_TOKEN}/sendMessage", data={"chat_id": chat_id, "text": "Сәлем"}
        ) as answer:
            body: dict[str, Any] = await answer.json()
            return body


async def start(args: list[str], env: Mapping[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, env={**os.environ, **env}, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip


async def wait_for_line(process: asyncio.subprocess.Process, text: str) -> str:
    assert process.stdout is not None
    while True:
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        assert line, f"the process ended before printing {text!r}"
        if text in line:
            return line


async def stop(process: asyncio.subprocess.Process) -> None:
    process.send_signal(signal.SIGINT)
    await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_auylnet_sandbox_validates_against_the_configured_spec(
    stricter_spec: Path, tmp_path: Path
) -> None:
    port = free_port()
    process = await start(
        ["sandbox", "--port", str(port)], {"AUYLNET_BOTAPI_SPEC": str(stricter_spec)}, tmp_path
    )
    try:
        await wait_for_line(process, "sandbox on")
        async with SandboxClient(f"http://127.0.0.1:{port}") as client:
            aigul = await client.user("Айгүл")
            answer = await send_as_bot(f"http://127.0.0.1:{port}", aigul.id)
    finally:
        await stop(process)
    assert answer == {
        "ok": False,
        "error_code": 400,
        "description": 'Bad Request: parameter "village_code" is required',
    }


async def test_auylnet_demo_validates_against_the_configured_spec(
    stricter_spec: Path, tmp_path: Path
) -> None:
    env = {"AUYLNET_BOTAPI_SPEC": str(stricter_spec)}
    port = free_port()
    process = await start(["demo", "--port", str(port), "--db", str(tmp_path / "demo.db")], env, tmp_path)
    try:
        await wait_for_line(process, "AuylNet demo is running")
        answer = await send_as_bot(f"http://127.0.0.1:{port}", 1005)  # Айгүл, a persona of the demo
    finally:
        await stop(process)
    assert answer["description"] == 'Bad Request: parameter "village_code" is required'


async def test_a_spec_that_is_not_there_is_an_invalid_setting(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    for command in (["sandbox", "--port", "0"], ["demo", "--port", "0", "--db", str(tmp_path / "demo.db")]):
        process = await start(command, {"AUYLNET_BOTAPI_SPEC": str(missing)}, tmp_path)
        output, _ = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 2
        assert (
            output.decode().strip()
            == f"auylnet: invalid setting AUYLNET_BOTAPI_SPEC: no such file: {missing}"
        )


# --- AUYLNET_MASS_OUTAGE_MINUTES ---------------------------------------------------------------------
@pytest.mark.parametrize(("minutes", "mass"), [(30, True), (10, False)])
async def test_the_mass_outage_window_is_the_configured_minutes(
    tmp_path: Path, minutes: int, mass: bool
) -> None:
    """Three reports eight minutes apart: a mass outage within 30 minutes, not within 10."""
    from bot.demo.seed import seed_demo

    database = await Database.open(tmp_path / "outages.db")
    await seed_demo(database)
    rules = Settings(bot_token=BOT_TOKEN, _env_file=None, mass_outage_reports=3, mass_outage_minutes=minutes)  # type: ignore[arg-type, call-arg]
    start_at = Clock().now()
    for user_id in (1, 2, 3):
        async with database.transaction() as tx:
            await users.ensure_account(tx, user_id, start_at)
            await file_report(
                tx,
                NewReport(user_id, SHAKAT, "village", "today"),
                source_key=f"u{user_id}",
                settings=rules,
                now=start_at + timedelta(minutes=8 * (user_id - 1)),
            )
    async with database.read() as conn:
        [incident] = await outages.unresolved(conn)
    await database.close()
    assert incident.reports == 3
    assert bool(incident.mass) is mass


# --- AUYLNET_RATE_PRIVATE_PER_SECOND and AUYLNET_RATE_GROUP_PER_MINUTE -------------------------------
@renderer("test.settings.ping")
def render_ping(t: Translator, params: Mapping[str, Any]) -> Rendered:
    return Rendered(t._("Hello, {name}! I am AuylNet.", name=params["name"]))


async def queue(app: Any, chat_id: int, count: int) -> None:
    clock = app.bot_data.clock
    async with app.bot_data.db.transaction() as tx:
        for n in range(count):
            await outbox.enqueue(
                tx, chat_id=chat_id, kind="test.settings.ping", params={"name": str(n)}, now=clock.now()
            )


async def arrival_times(person: Any, count: int, started: float) -> list[float]:
    """Seconds from ``started`` until each of the first ``count`` pings arrived."""
    seen: list[float] = []
    while len(seen) < count:
        messages = [m for m in await person.messages() if "AuylNet" in m.text]
        seen += [time.monotonic() - started] * (len(messages) - len(seen))
        await asyncio.sleep(0.05)
    return seen


async def test_private_chats_are_paced_at_the_configured_rate(
    client: SandboxClient, bot_factory: BotFactory
) -> None:
    await client.limits(enabled=False)  # the sandbox would allow any pace: what is measured is the bot's
    aigul = await client.user("Айгүл", language_code="kk")
    async with bot_factory(rate_private_per_second=4) as app:
        started = time.monotonic()
        await queue(app, aigul.id, 6)
        times = await asyncio.wait_for(arrival_times(aigul, 6, started), 20)
    # At 4 a second, six messages to one chat take about 1.25 s (at the default 1 a second: 5 s).
    assert 1.0 <= times[-1] < 3.0, times


async def test_a_group_is_paced_at_the_configured_rate(
    client: SandboxClient, bot_factory: BotFactory
) -> None:
    await client.limits(enabled=False)
    bolat = await client.user("Болат", language_code="kk")
    group = await client.group("AuylNet staff", [bolat])
    async with bot_factory(rate_group_per_minute=12) as app:
        started = time.monotonic()
        await queue(app, group.id, 13)
        times = await asyncio.wait_for(arrival_times(bolat.in_chat(group), 13, started), 30)
    # Twelve a minute: a burst of twelve, then one every five seconds (the default 20 sends all 13 at once).
    assert times[11] < 3.0, times
    assert times[12] >= 4.0, times


# --- AUYLNET_SEAT_OFFER_MINUTES -----------------------------------------------------------------------
async def test_a_freed_seat_is_held_for_the_configured_minutes(
    client: SandboxClient, bot_factory: BotFactory, clock: Clock
) -> None:
    aigul = await client.user("Айгүл", language_code="kk")
    boris = await client.user("Борис", language_code="ru")
    async with bot_factory(seed=True, seat_offer_minutes=30) as app:
        await greet(aigul, "Қазақша")
        await greet(boris, "Русский")
        async with app.bot_data.db.transaction() as tx:
            await users.ensure_account(tx, 650001, clock.now())
            lesson = await classes_service.create_lesson(
                tx,
                NewLesson(BAYANAUL, "Кітапхана", clock.now() + timedelta(days=2), 60, "safety", "kk", 1),
                trainer_id=650001,
                now=clock.now(),
            )
            for person in (aigul, boris):
                await classes_service.book(
                    tx, lesson.id, user_id=person.id, age_group="60plus", attendee_name=None,
                    source_key=f"b{person.id}", now=clock.now(),
                )  # fmt: skip
        clock.advance(lesson.starts_at - clock.now() - timedelta(hours=24))
        await classes_service.run_checks(app.bot_data.db, app.bot_data.config, app.bot_data.clock.now())
        reminder = await aigul.wait_for(lambda m: m.text.startswith("⏰ 24 сағаттан кейін сабақ"))
        await aigul.press_on(reminder, "✖️ Келе алмаймын", wait=0)  # cancelling asks once
        question = await aigul.wait_for(lambda m: m.text.startswith("Жазылудан бас тартасыз ба?"))
        await aigul.press_on(question, "✖️ Иә, бас тартамын")
        offered_at = clock.now()
        offer = await boris.wait_for(lambda m: m.text.startswith("🎟 Освободилось место"))
        until = (offered_at + timedelta(minutes=30)).astimezone(ZoneInfo("Asia/Almaty")).strftime("%H:%M")
        assert f", {until}" in offer.text, offer.text

        clock.advance(timedelta(minutes=31))
        await classes_service.run_checks(app.bot_data.db, app.bot_data.config, app.bot_data.clock.now())
        assert await boris.press_on(offer, "✅ Да, приду") == "Извините, время подтвердить это место истекло."


# --- AUYLNET_MASS_OUTAGE_VILLAGES, AUYLNET_TAKE_WITHIN_MINUTES, AUYLNET_RESOLVE_WITHIN_HOURS -----------
async def outage_database(tmp_path: Path, people: int) -> Database:
    from bot.demo.seed import seed_demo

    database = await Database.open(tmp_path / "outages.db")
    await seed_demo(database)
    async with database.transaction() as tx:
        for user_id in range(1, people + 1):
            await users.ensure_account(tx, user_id, Clock().now())
    return database


@pytest.mark.parametrize(("villages", "mass"), [(2, True), (3, False)])
async def test_outages_in_the_configured_number_of_villages_of_a_district_are_a_mass_outage(
    tmp_path: Path, villages: int, mass: bool
) -> None:
    database = await outage_database(tmp_path, 2)
    rules = Settings(bot_token=BOT_TOKEN, _env_file=None, mass_outage_villages=villages)  # type: ignore[arg-type, call-arg]
    async with database.read() as conn:
        shakat = await places.get_village(conn, SHAKAT)
        assert shakat is not None
        neighbour = next(v for v in await places.villages_in(conn, shakat.district_code) if v.code != SHAKAT)
    now = Clock().now()
    for user_id, village in ((1, SHAKAT), (2, neighbour.code)):
        async with database.transaction() as tx:
            await file_report(
                tx,
                NewReport(user_id, village, "village", "today"),
                source_key=f"v{user_id}",
                settings=rules,
                now=now,
            )
    async with database.read() as conn:
        found = await outages.unresolved(conn)
    await database.close()
    assert len(found) == 2
    assert all(bool(incident.mass) is mass for incident in found)


async def test_the_service_levels_are_the_configured_minutes_and_hours(tmp_path: Path) -> None:
    from bot.outages.service import check_service_levels, is_overdue, take

    database = await outage_database(tmp_path, 1)
    rules = Settings(
        bot_token=BOT_TOKEN,  # type: ignore[arg-type]
        _env_file=None,  # type: ignore[call-arg]
        admin_ids=frozenset({900}),
        take_within_minutes=15,
        resolve_within_hours=2,
    )
    opened = Clock().now()
    async with database.transaction() as tx:
        filed = await file_report(
            tx, NewReport(1, SHAKAT, "school", "today"), source_key="s1", settings=rules, now=opened
        )
        await users.ensure_account(tx, 77, opened)
        await users.grant_role(tx, user_id=77, role="staff", scope="", actor_id=None, now=opened)
    async with database.transaction() as tx:
        assert await check_service_levels(tx, rules, opened + timedelta(minutes=14)) == 0
        assert await check_service_levels(tx, rules, opened + timedelta(minutes=16)) == 1
    taken = await take(
        database, person(77, ("staff", "")), filed.incident.id, rules, opened + timedelta(minutes=20)
    )
    await database.close()
    assert not is_overdue(taken, rules, opened + timedelta(hours=1, minutes=59))
    assert is_overdue(taken, rules, opened + timedelta(hours=2, minutes=1))
