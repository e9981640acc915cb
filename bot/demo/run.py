"""``auylnet demo``: the sandbox, the bot and a freshly seeded database, all offline."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import signal
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import SecretStr
from telegram.warnings import PTBDeprecationWarning, PTBUserWarning

from bot.app import build_application
from bot.classes import service as classes_service
from bot.classes.service import NewLesson
from bot.clock import Clock
from bot.config import Settings
from bot.runner import polling
from bot.sandbox.client import SandboxClient
from bot.sandbox.server import RunningSandbox, run_sandbox
from db import places, users
from db.database import Database
from db.models import Role

log = logging.getLogger(__name__)

SHAKAT, BAYANAUL = "556069100", "553630100"
DEMO_TOKEN = "7000000000:AuylNetDemoBotTokenForTheLocalSandbox"


@dataclass(frozen=True)
class Persona:
    id: int
    first_name: str
    last_name: str
    language_code: str
    role: Role | None = None
    scope: str = ""
    note: str = ""


PERSONAS = (
    Persona(1001, "Әсел", "Нұрланқызы", "kk", "admin", note="admin"),
    Persona(1002, "Бауыржан", "Сейітов", "kk", "staff", note="field staff, all regions"),
    Persona(1003, "Гүлнар", "Әбдірахманова", "kk", "trainer", "55", "trainer, Pavlodar region"),
    Persona(1004, "Сергей", "Ким", "ru", "staff", "15", note="field staff, Aktobe region"),
    Persona(1005, "Айгүл", "Жұмабаева", "kk", note="resident of Шақат"),
    Persona(1006, "Ольга", "Петрова", "ru", note="resident of Баянауыл"),
    Persona(1007, "Ерлан", "Омаров", "en", note="resident, Telegram in English"),
)


def quiet_console() -> None:
    """Keep the demo's console to what a newcomer needs, with the persona links last.

    The job queue's scheduler logs every run of every job at INFO (twice a minute, for ever), and
    python-telegram-bot warns once per conversation about its ``per_message`` setting, which the
    conversations choose on purpose; neither says anything to someone trying the bot.
    """
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=r"If 'per_message=False'", category=PTBUserWarning)
    warnings.filterwarnings("ignore", category=PTBDeprecationWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)


async def prepare_database(db_path: Path, clock: Clock, zone: ZoneInfo) -> None:
    """A fresh demo database: places and rollout data, and the personas' roles."""
    from bot.demo.seed import seed_demo

    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)  # noqa: ASYNC240 - once, before serving
    database = await Database.open(db_path)
    try:
        await seed_demo(database)
        async with database.transaction() as tx:
            for persona in PERSONAS:
                if persona.role is not None:
                    await users.grant_role(
                        tx,
                        user_id=persona.id,
                        role=persona.role,
                        scope=persona.scope,
                        actor_id=None,
                        now=clock.now(),
                    )
            # Personas start with their Telegram names; languages are chosen in the chat.
            for persona in PERSONAS:
                await users.record_contact(
                    tx,
                    user_id=persona.id,
                    first_name=persona.first_name,
                    last_name=persona.last_name,
                    username=None,
                    telegram_language=persona.language_code,
                    now=clock.now(),
                )
            # Two residents already have a village: Ольга's is connected (an outage is three taps),
            # Айгүл's is being built (her card shows the planned date and the buildings waiting).
            for persona_id, village in ((1005, SHAKAT), (1006, BAYANAUL)):
                await places.set_my_village(tx, persona_id, village)
                await places.follow(tx, persona_id, village, clock.now())
            # The trainer has a class coming up that residents can book.
            await classes_service.create_lesson(
                tx, demo_lesson(clock, zone), trainer_id=1003, now=clock.now()
            )
    finally:
        await database.close()


def demo_lesson(clock: Clock, zone: ZoneInfo) -> NewLesson:
    """Smartphone basics in Баянауыл, the day after tomorrow at 10:00 local time."""
    day = (clock.now().astimezone(zone) + timedelta(days=2)).date()
    return NewLesson(
        village_code=BAYANAUL,
        venue="№1 орта мектеп, 12-кабинет",
        starts_at=datetime(day.year, day.month, day.day, 10, 0, tzinfo=zone),
        minutes=90,
        topic="smartphone",
        language="kk",
        capacity=12,
    )


async def run_demo(
    *,
    host: str = "127.0.0.1",
    port: int = 8081,
    db_path: Path = Path("var/demo.db"),
    stop: asyncio.Event | None = None,
    on_ready: Callable[[str], None] | None = None,
    settings: Settings | None = None,
) -> int:
    """Run until Ctrl-C (or ``stop`` is set); ``on_ready`` gets the page address.

    ``settings`` (the environment's, by default) give the time zone, the Bot API spec and the limits;
    the demo sets the token, the sandbox's address, the database and the staff group itself.
    """
    quiet_console()
    if settings is None:
        settings = Settings(bot_token=DEMO_TOKEN, _env_file=None)  # type: ignore[arg-type, call-arg]
    clock = Clock()
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signum, stop.set)

    async with contextlib.AsyncExitStack() as running:
        try:
            sandbox = await running.enter_async_context(
                run_sandbox(host=host, port=port, spec_path=settings.sandbox_spec)
            )
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise
            print(
                f"auylnet demo: port {port} is in use; pick another:"
                f" make demo PORT={port + 1} (or auylnet demo --port {port + 1})",
                file=sys.stderr,
            )
            return 1
        await prepare_database(db_path, clock, settings.zone)
        await serve_demo(sandbox, settings, db_path, clock, stop, on_ready)
    print("AuylNet demo stopped.", flush=True)
    return 0


async def serve_demo(
    sandbox: RunningSandbox,
    settings: Settings,
    db_path: Path,
    clock: Clock,
    stop: asyncio.Event,
    on_ready: Callable[[str], None] | None,
) -> None:
    """The personas and the staff group in the sandbox, then the bot; the links once all is up."""
    async with SandboxClient(sandbox.url) as client:
        for persona in PERSONAS:
            await client.user(
                persona.first_name,
                id=persona.id,
                last_name=persona.last_name,
                language_code=persona.language_code,
            )
        staff = [p.id for p in PERSONAS if p.role in ("staff", "admin")]
        group = await client.group("AuylNet staff", staff)
    demo_settings = settings.model_copy(
        update={
            "bot_token": SecretStr(DEMO_TOKEN),
            "api_base_url": sandbox.api_url,
            "db_path": db_path,
            "staff_chat_id": group.id,
        }
    )
    application = build_application(demo_settings, clock=clock)
    async with polling(application):
        print(banner(sandbox.url), flush=True)
        if on_ready is not None:
            on_ready(sandbox.url)
        await stop.wait()


def banner(url: str) -> str:
    lines = [
        "",
        "AuylNet demo is running (offline). Open the chat page:",
        f"  {url}/",
        "Or go straight to a persona:",
    ]
    lines += [f"  {url}/?user={p.id}  {p.first_name} {p.last_name} — {p.note}" for p in PERSONAS]
    lines += ["The staff group 'AuylNet staff' receives outage alerts.", "Ctrl-C stops the demo.", ""]
    return "\n".join(lines)
