"""Kill -9 the bot at random moments while residents tap and type: is every tap answered once?

    python bench/crash_bench.py [--residents 100] [--kills 5] [--seed N]

A sandbox runs in its own process (``auylnet sandbox``, flood control on, spec validation on) and
the bot in another (``auylnet run``, polling, a demo-seeded SQLite file). Each resident goes through
the same ten actions at their own pace — /start, the language button, «My village's internet»,
typing the village name, choosing it, «This is my village», /report, what, since when, «Send now» —
waiting for each answer before the next action. When the residents' actions reach five random
points of the burst, the bot is killed with SIGKILL and started again at once.

**How a tap is counted as answered** (what the person sees, then what the database holds):

* every action's answer arrived: the message (or edit) with the next button the person needs, or
  for «This is my village» the button's answer; an action whose answer never came within 90 s is
  *lost*;
* every pressed button was answered (the spinner stopped) exactly once — Telegram refuses a second
  answer, so more than one cannot happen;
* the replies in each chat — new messages and edits that changed what a message shows, not
  counting notifications from the outbox — compared with a resident who went through the same
  actions before the burst, with no kill: each reply more than that is *duplicated*, each fewer is
  *missing*;
* the database: each resident has their language, their village and exactly one report; every
  stored update is marked done.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.i18n import translator  # noqa: E402
from bot.sandbox.client import SandboxClient, SandboxMessage, TestUser  # noqa: E402

TOKEN = "7200000000:" + "K" * 35
ANSWER_TIMEOUT = 90.0
VILLAGE = {"kk": "Баянауыл", "ru": "Баянаул"}  # connected in the demo data: reports are taken


@dataclass(frozen=True)
class Step:
    action: str  # "send" (typed) or "press" (a button)
    value: str
    then: Callable[[SandboxMessage], bool] | None  # the answer to wait for; None: the button's answer


def script(language: str) -> list[Step]:
    """The ten actions, with labels from the catalogs (so the script follows the wording)."""
    t = translator(language)  # type: ignore[arg-type]
    village = VILLAGE[language]
    home, just_now = t._("home internet").capitalize(), t._("just now").capitalize()
    own_language = "Қазақша" if language == "kk" else "Русский"
    menu_item, mine, send_now = (
        t._("📶 My village's internet"),
        t._("🏡 This is my village"),
        t._("📨 Send now"),
    )
    prompt = t._(
        "Type the name of your village, in Kazakh or Russian, or choose it from the list."
        " «📍 Near me» lists the villages around you."
    )[:20]
    return [
        Step("send", "/start", lambda m: own_language in m.labels),
        Step("press", own_language, lambda m: menu_item in m.labels),
        Step("press", menu_item, lambda m: prompt in m.text),
        Step("send", village, lambda m: any(label.startswith(f"{village} —") for label in m.labels)),
        Step("press", f"{village} —", lambda m: mine in m.labels),
        Step("press", mine, None),
        Step("send", "/report", lambda m: home in m.labels),
        Step("press", home, lambda m: just_now in m.labels),
        Step("press", just_now, lambda m: send_now in m.labels),
        Step("press", send_now, lambda m: m.text.startswith("✅")),
    ]


@dataclass
class Resident:
    person: TestUser
    language: str
    done_steps: int = 0
    lost_at: int | None = None
    lost_why: str = ""
    presses: list[str] = field(default_factory=list)  # callback query ids


@dataclass
class CrashReport:
    residents: int
    actions: int
    kills: list[int]
    lost: int
    unanswered_presses: int
    duplicated: int
    missing: int
    domain_problems: list[str]
    undone_updates: int
    replayed_updates: int
    expected_replies: int
    seconds: float

    def lines(self) -> list[str]:
        return [
            f"residents {self.residents}, actions {self.actions}"
            f" ({self.actions - self.lost} answered, {self.lost} lost),"
            f" bot killed {len(self.kills)}× after {', '.join(map(str, self.kills))} actions",
            f"buttons whose answer never came: {self.unanswered_presses}",
            f"replies: {self.duplicated} duplicated, {self.missing} missing"
            f" (expected {self.expected_replies} in all)",
            f"updates handled again after a restart: {self.replayed_updates}; not done at the end:"
            f" {self.undone_updates}",
            f"database problems: {len(self.domain_problems)}"
            + (f" — {'; '.join(self.domain_problems[:5])}" if self.domain_problems else ""),
            f"wall time {self.seconds:.1f} s",
        ]


class Progress:
    def __init__(self, kill_points: list[int]) -> None:
        self.actions = 0
        self.kill_points = sorted(kill_points)
        self.crossed = asyncio.Event()

    def tick(self) -> None:
        self.actions += 1
        if self.kill_points and self.actions >= self.kill_points[0]:
            self.crossed.set()


async def _press(person: TestUser, label_start: str) -> str:
    for message in reversed(await person.messages()):
        for row in message.buttons:
            for text, data in row:
                if text.startswith(label_start):
                    pressed = await person.client.call(
                        "POST",
                        "press",
                        json={
                            "user_id": person.id,
                            "chat_id": person.chat_id,
                            "message_id": message.message_id,
                            "callback_data": data,
                        },
                    )
                    return str(pressed["callback_query_id"])
    raise LookupError(f"no button {label_start!r}")


async def _answered(client: SandboxClient, query_id: str, wait: float) -> bool:
    """The press was settled: answered, or its message edited (which ends the button's wait)."""
    answer = await client.call("GET", f"callback_answers/{query_id}", params={"wait": wait})
    return bool(answer["answered"] or answer.get("edited"))


async def live(resident: Resident, steps: list[Step], progress: Progress, rng: random.Random) -> None:
    """One resident's actions, each after the previous one was answered."""
    person = resident.person
    for number, step in enumerate(steps):
        await asyncio.sleep(rng.uniform(0.05, 0.4))  # a person reads, then taps
        try:
            if step.action == "send":
                await person.send(step.value)
            else:
                resident.presses.append(await _press(person, step.value))
            if step.then is not None:
                await person.wait_for(step.then, timeout=ANSWER_TIMEOUT)
            elif not await _answered(person.client, resident.presses[-1], ANSWER_TIMEOUT):
                raise TimeoutError("button not answered")
        except (TimeoutError, LookupError) as error:
            resident.lost_at = number
            last = await person.last_message()
            resident.lost_why = (
                f"{error!r}; last message: {last.text[:60] if last else None!r} {last.labels if last else []}"
            )
            return
        resident.done_steps += 1
        progress.tick()


async def replies_in(client: SandboxClient, chat_id: int, notifications: set[int]) -> list[str]:
    """The bot's visible replies in a chat: new messages and edits, notifications left out."""
    answer = await client.call("GET", "events", params={"after": 0, "chat_id": chat_id, "timeout": 0})
    replies = []
    for event in answer["events"]:
        message = event.get("message") or {}
        if event["kind"] == "message" and not message.get("from_bot"):
            replies.append(f"  > {message.get('text', '')[:40]}")
        if event["kind"] not in ("message", "edit") or not message.get("from_bot"):
            continue
        if message.get("message_id") in notifications:
            continue
        replies.append(f"{event['kind']} {message['message_id']}: {message.get('text', '')[:50]!r}")
    return replies


def counted(replies: list[str]) -> int:
    return sum(1 for line in replies if not line.startswith("  > "))


def notification_ids(db_path: Path) -> dict[int, set[int]]:
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT chat_id, message_id FROM outbox WHERE message_id IS NOT NULL").fetchall()
    found: dict[int, set[int]] = {}
    for chat_id, message_id in rows:
        found.setdefault(chat_id, set()).add(message_id)
    return found


def database_check(db_path: Path, residents: list[Resident]) -> tuple[list[str], int, int]:
    problems = []
    with sqlite3.connect(db_path) as conn:
        for resident in residents:
            who = resident.person.id
            row = conn.execute("SELECT language, village_code FROM users WHERE id = ?", (who,)).fetchone()
            if row is None or row[0] != resident.language:
                problems.append(f"user {who}: language {row[0] if row else None}")
            if row is None or row[1] is None:
                problems.append(f"user {who}: no village")
            reports = conn.execute("SELECT COUNT(*) FROM reports WHERE user_id = ?", (who,)).fetchone()[0]
            if reports != 1:
                problems.append(f"user {who}: {reports} reports")
        undone = conn.execute("SELECT COUNT(*) FROM inbox WHERE done_at IS NULL").fetchone()[0]
        replayed = conn.execute("SELECT COUNT(*) FROM inbox WHERE attempts > 0").fetchone()[0]
    return problems, undone, replayed


async def settle(db_path: Path, client: SandboxClient, quiet: float = 2.0, timeout: float = 60.0) -> None:
    """Wait until every stored update is done, nothing waits in the outbox, and the chats are quiet."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sqlite3.connect(db_path) as conn:
            undone = conn.execute("SELECT COUNT(*) FROM inbox WHERE done_at IS NULL").fetchone()[0]
            pending = conn.execute("SELECT COUNT(*) FROM outbox WHERE state = 'pending'").fetchone()[0]
        if not undone and not pending:
            break
        await asyncio.sleep(0.2)
    last = (await client.call("GET", "events", params={"after": 0, "timeout": 0}))["last_seq"]
    while time.monotonic() < deadline:
        await asyncio.sleep(quiet)
        now = (await client.call("GET", "events", params={"after": last, "timeout": 0}))["last_seq"]
        if now == last:
            return
        last = now


BotStarter = Callable[[], Awaitable[asyncio.subprocess.Process]]


async def crash_story(
    client: SandboxClient,
    db_path: Path,
    start_bot: BotStarter,
    *,
    residents: int,
    kills: int,
    rng: random.Random,
    verbose: bool = False,
) -> CrashReport:
    """Calibrate with one resident, then the burst with ``kills`` SIGKILLs; the counts."""
    started = time.monotonic()
    bot = await start_bot()
    try:
        while not (await client.stats())["requests"].get("getUpdates"):
            if bot.returncode is not None:
                raise RuntimeError("the bot stopped at once; see its log")
            await asyncio.sleep(0.1)
        # The replies one resident sees when nothing goes wrong: the yardstick.
        calibrating = Resident(await client.user("Калибр", language_code="kk"), "kk")
        await live(calibrating, script("kk"), Progress([]), rng)
        assert calibrating.lost_at is None, "the bot does not answer the script; see its log"
        await settle(db_path, client, quiet=1.0)
        expected = {
            "kk": counted(
                await replies_in(
                    client, calibrating.person.id, notification_ids(db_path).get(calibrating.person.id, set())
                )
            ),
        }
        calibrating_ru = Resident(await client.user("Калибр", language_code="ru"), "ru")
        await live(calibrating_ru, script("ru"), Progress([]), rng)
        assert calibrating_ru.lost_at is None, "the bot does not answer the script in Russian"
        await settle(db_path, client, quiet=1.0)
        expected["ru"] = counted(
            await replies_in(
                client,
                calibrating_ru.person.id,
                notification_ids(db_path).get(calibrating_ru.person.id, set()),
            )
        )

        people = [
            Resident(await client.user(f"Тұрғын {n}", language_code=language), language)
            for n, language in ((n, "kk" if n % 2 else "ru") for n in range(residents))
        ]
        total = residents * len(script("kk"))
        points = sorted(rng.sample(range(total // 20, total * 9 // 10), kills))
        progress = Progress(points)
        done_at_kill: list[int] = []

        finished = False

        async def killer() -> None:
            nonlocal bot
            while True:
                await progress.crossed.wait()
                progress.crossed.clear()
                if finished or not progress.kill_points:
                    return
                progress.kill_points.pop(0)
                bot.send_signal(signal.SIGKILL)
                await bot.wait()
                done_at_kill.append(progress.actions)
                bot = await start_bot()
                if progress.kill_points and progress.actions >= progress.kill_points[0]:
                    progress.crossed.set()

        killing = asyncio.create_task(killer())
        await asyncio.gather(*(live(r, script(r.language), progress, rng) for r in people))
        finished = True
        progress.crossed.set()
        await killing
        await settle(db_path, client)
        notifications = notification_ids(db_path)
        duplicated = missing = unanswered = 0
        for resident in people:
            replies = await replies_in(
                client, resident.person.id, notifications.get(resident.person.id, set())
            )
            seen = counted(replies)
            wanted = expected[resident.language] if resident.lost_at is None else seen
            if seen != wanted and verbose:
                print(f"user {resident.person.id}: {seen} replies, {wanted} expected", *replies, sep="\n    ")
            duplicated += max(0, seen - wanted)
            missing += max(0, wanted - seen)
            for query_id in resident.presses:
                if not await _answered(client, query_id, 0):
                    unanswered += 1
        problems, undone, replayed = database_check(db_path, people)
        for resident in people:
            if resident.lost_at is not None:
                problems.append(
                    f"user {resident.person.id} lost at step {resident.lost_at + 1}: {resident.lost_why}"
                )
        return CrashReport(
            residents=residents,
            actions=sum(len(script(r.language)) for r in people),
            kills=done_at_kill,
            lost=sum(len(script(r.language)) - r.done_steps for r in people),
            unanswered_presses=unanswered,
            duplicated=duplicated,
            missing=missing,
            domain_problems=problems,
            undone_updates=undone,
            replayed_updates=replayed,
            expected_replies=sum(expected[r.language] for r in people),
            seconds=time.monotonic() - started,
        )
    finally:
        if bot.returncode is None:
            bot.send_signal(signal.SIGTERM)
            await asyncio.wait_for(bot.wait(), 60)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bot_environment(api_url: str, db_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "AUYLNET_BOT_TOKEN": TOKEN,
        "AUYLNET_API_BASE_URL": api_url,
        "AUYLNET_DB_PATH": str(db_path),
        "AUYLNET_HEALTH_PORT": "0",
    }


def bot_starter(api_url: str, db_path: Path, log_path: Path) -> BotStarter:
    """``auylnet run`` as a subprocess, its log appended to ``log_path``."""

    async def start() -> asyncio.subprocess.Process:
        log = log_path.open("ab")
        try:
            return await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                "run",
                env=bot_environment(api_url, db_path),
                cwd=db_path.parent,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        finally:
            log.close()

    return start


async def seed(db_path: Path) -> None:
    from bot.demo.seed import seed_demo
    from db.database import Database

    database = await Database.open(db_path)
    try:
        await seed_demo(database)
    finally:
        await database.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=100)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", type=Path, help="keep the database and the bot's log in this folder")
    parser.add_argument("--verbose", action="store_true", help="print the chats where the replies differ")
    args = parser.parse_args()
    seed_value = args.seed if args.seed is not None else random.randrange(10**6)
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        db_path = folder / "crash.db"
        for stale in [*folder.glob("crash.db*"), folder / "bot.log"]:
            stale.unlink(missing_ok=True)
        await seed(db_path)
        port = free_port()
        sandbox = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "sandbox",
            "--port",
            str(port),
            env={**os.environ, "PYTHONPATH": str(REPO)},
            cwd=folder,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            assert sandbox.stdout is not None
            while b"sandbox on" not in await asyncio.wait_for(sandbox.stdout.readline(), 30):
                pass
            url = f"http://127.0.0.1:{port}"
            async with SandboxClient(url) as client:
                report = await crash_story(
                    client,
                    db_path,
                    bot_starter(f"{url}/bot", db_path, folder / "bot.log"),
                    residents=args.residents,
                    kills=args.kills,
                    rng=random.Random(seed_value),
                    verbose=args.verbose,
                )
        finally:
            sandbox.send_signal(signal.SIGTERM)
            await asyncio.wait_for(sandbox.wait(), 30)
    print(f"crash bench (seed {seed_value}):")
    for line in report.lines():
        print("  " + line)
    print(
        json.dumps(
            {"seed": seed_value, **{k: v for k, v in report.__dict__.items() if k != "domain_problems"}}
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
