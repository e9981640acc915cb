"""AuylNet against a bare python-telegram-bot echo bot, through the same sandbox.

    python bench/throughput_bench.py [--users 100] [--seconds 20] [--rounds 3] [--rates 50,100,200]

Both bots poll the same sandbox (flood control off, the Bot API spec checked when ../shared is
there), each in its own process, with the same polling settings (long poll, no pause between polls,
updates of different chats handled concurrently). The people are played by this script through the
sandbox's control API.

* Closed loop: ``--users`` people each act, wait for the answer (a new message or an edit of the
  pressed message), and act again. AuylNet's people walk the resident's main path — menu → my
  village's card; menu → report → what → since when → send; menu → classes → a class → book for me
  → age — the echo bot's people send a text and wait for it back. Rounds alternate between the two
  bots, and the ratio of answered updates per second is reported per round.
* Open loop: actions arrive at a fixed rate whatever the answers (many people, each one waiting for
  their own answer before acting again), and p50/p99 of the time to the answer is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.sandbox.client import SandboxClient, SandboxError  # noqa: E402

TOKEN = "7000000042:" + "B" * 35
SPEC = ROOT.parent / "shared" / "data" / "botapi-10.0.json"
BAYANAUL = "553630100"  # connected in the demo data: reports are taken there
FIRST_ID = 800_000

SANDBOX = """
import asyncio, sys
from pathlib import Path
from bot.sandbox.limits import Limits
from bot.sandbox.server import run_sandbox
async def main():
    spec = Path(sys.argv[2]) if sys.argv[2] != '-' else None
    async with run_sandbox(port=int(sys.argv[1]), limits=Limits(enabled=False), spec_path=spec):
        print('ready', flush=True)
        await asyncio.Event().wait()
asyncio.run(main())
"""

ECHO_BOT = """
import sys
from telegram import Update
from telegram.ext import Application, MessageHandler, filters

async def echo(update, context):
    await update.message.reply_text(update.message.text)

application = (
    Application.builder().token(sys.argv[2]).base_url(sys.argv[1]).concurrent_updates(True).build()
)
application.add_handler(MessageHandler(filters.TEXT, echo))
application.run_polling(allowed_updates=Update.ALL_TYPES, poll_interval=0.0, timeout=25)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the people -------------------------------------------------------------------------------------
@dataclass
class Person:
    id: int
    waiting: asyncio.Future[dict[str, Any]] | None = None
    last: dict[str, Any] | None = None  # the bot's newest message in this chat, as it looks now
    booked: set[int] = field(default_factory=set)


class Chats:
    """One long poll of the sandbox's events, handing each chat's answers to whoever waits there."""

    def __init__(self, client: SandboxClient, people: dict[int, Person]) -> None:
        self.client, self.people, self.seq = client, people, 0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Chats:
        self.seq = (await self.client.call("GET", "events", params={"after": 0, "timeout": 0}))["last_seq"]
        self._task = asyncio.create_task(self._listen())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _listen(self) -> None:
        while True:
            answer = await self.client.call("GET", "events", params={"after": self.seq, "timeout": 5})
            for event in answer["events"]:
                self.seq = max(self.seq, event["seq"])
                message = event.get("message") or {}
                person = self.people.get(event.get("chat_id", 0))
                if person is None or event["kind"] not in ("message", "edit") or not message.get("from_bot"):
                    continue
                person.last = message
                if person.waiting is not None and not person.waiting.done():
                    person.waiting.set_result(message)


async def act(client: SandboxClient, person: Person, action: tuple[str, str], timeout: float = 30) -> float:
    """Send a text or press a button, wait for the answer; the seconds it took."""
    person.waiting = asyncio.get_running_loop().create_future()
    started = time.perf_counter()
    kind, value = action
    if kind == "send":
        await client.call("POST", "send", json={"user_id": person.id, "text": value})
    else:
        assert person.last is not None
        await client.call(
            "POST",
            "press",
            json={
                "user_id": person.id,
                "chat_id": person.id,
                "message_id": person.last["message_id"],
                "callback_data": value,
            },
        )
    await asyncio.wait_for(person.waiting, timeout)
    return time.perf_counter() - started


def buttons(message: dict[str, Any] | None) -> list[str]:
    markup = (message or {}).get("reply_markup") or {}
    return [button.get("callback_data", "") for row in markup.get("inline_keyboard", []) for button in row]


def pick(person: Person, test: Callable[[str], bool]) -> str | None:
    return next((data for data in buttons(person.last) if test(data)), None)


def auylnet_path(person: Person, number: int) -> list[Callable[[], tuple[str, str] | None]]:
    """One of the resident's three main paths, each step chosen from what the bot shows now."""

    def press(test: Callable[[str], bool]) -> Callable[[], tuple[str, str] | None]:
        def step() -> tuple[str, str] | None:
            data = pick(person, test)
            return ("press", data) if data else None

        return step

    def a_class() -> tuple[str, str] | None:
        for data in buttons(person.last):
            if data.startswith("cl:show:") and int(data.rsplit(":", 1)[1]) not in person.booked:
                person.booked.add(int(data.rsplit(":", 1)[1]))
                return ("press", data)
        return None

    menu: list[Callable[[], tuple[str, str] | None]] = [lambda: ("send", "/menu")]
    if number % 3 == 0:
        return [*menu, press(lambda d: d == "menu:village")]
    if number % 3 == 1:
        return [
            *menu,
            press(lambda d: d == "menu:report"),
            press(lambda d: d == "rpk:home"),
            press(lambda d: d == "rps:now"),
            press(lambda d: d == "rp:send"),
        ]
    return [
        *menu,
        press(lambda d: d == "menu:classes"),
        a_class,
        press(lambda d: d.startswith("cb:") and d.endswith(":me:")),
        press(lambda d: d.startswith("cb:") and d.endswith(":60plus")),
    ]


def say(text: str) -> Callable[[], tuple[str, str] | None]:
    return lambda: ("send", text)


async def live(
    client: SandboxClient, person: Person, bot: str, stop: float, answered: list[float], rng: random.Random
) -> None:
    """A person acting in a closed loop until ``stop``: each answer recorded with its time."""
    number = rng.randrange(3)
    while time.perf_counter() < stop:
        if bot == "echo":
            steps = [say(f"Сәлем {number}")]
        else:
            steps = auylnet_path(person, number)
        for step in steps:
            action = step()
            if action is None or time.perf_counter() >= stop:
                break
            try:
                await act(client, person, action)
            except TimeoutError:
                return
            answered.append(time.perf_counter())
        number += 1


# --- the bots ---------------------------------------------------------------------------------------
async def prepare_auylnet(db_path: Path, people: list[int]) -> None:
    """The demo's places, the people living in Баянауыл with Kazakh chosen, and ten classes there."""
    from bot.classes.service import NewLesson, create_lesson
    from bot.clock import Clock
    from bot.demo.seed import seed_demo
    from db import places, users
    from db.database import Database

    db = await Database.open(db_path)
    clock = Clock()
    try:
        await seed_demo(db)
        async with db.transaction() as tx:
            for user_id in people:
                await users.record_contact(
                    tx, user_id=user_id, first_name=f"Тұрғын {user_id}", last_name=None, username=None,
                    telegram_language="kk", now=clock.now(),
                )  # fmt: skip
                await users.set_language(tx, user_id, "kk")
                await places.set_my_village(tx, user_id, BAYANAUL)
            await users.ensure_account(tx, 1, clock.now())
            for day in range(10):
                await create_lesson(
                    tx,
                    NewLesson(
                        BAYANAUL, "Мектеп", clock.now() + timedelta(days=day + 2), 60, "egov", "kk", 200
                    ),
                    trainer_id=1,
                    now=clock.now(),
                )
    finally:
        await db.close()


def start_sandbox(port: int, spec: str) -> subprocess.Popen[str]:
    sandbox = subprocess.Popen(
        [sys.executable, "-c", SANDBOX, str(port), spec], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert sandbox.stdout is not None
    sandbox.stdout.readline()  # "ready"
    return sandbox


def start_bot(bot: str, api_url: str, db_path: Path) -> subprocess.Popen[bytes]:
    if bot == "echo":
        command = [sys.executable, "-c", ECHO_BOT, api_url, TOKEN]
    else:
        command = [sys.executable, "-m", "bot.cli", "run"]
    env = {
        **os.environ,
        "AUYLNET_BOT_TOKEN": TOKEN,
        "AUYLNET_API_BASE_URL": api_url,
        "AUYLNET_DB_PATH": str(db_path),
        "AUYLNET_HEALTH_PORT": "0",
        "AUYLNET_REPORTS_PER_HOUR": "100000",
        # Flood control is off in the sandbox; the bot's own pacing of Telegram's limits too.
        "AUYLNET_RATE_PRIVATE_PER_SECOND": "100000",
        "AUYLNET_RATE_GLOBAL_PER_SECOND": "100000",
    }
    # The bot's log goes to a file beside the database: a pipe nobody reads would fill and stop it.
    log = (db_path.parent / f"{bot}.log").open("ab")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


@contextlib.asynccontextmanager
async def running(bot: str, client: SandboxClient, api_url: str, db_path: Path, people: list[Person]):  # type: ignore[no-untyped-def]
    process = start_bot(bot, api_url, db_path)
    try:
        probe = people[0]
        deadline = time.monotonic() + 60
        while True:  # up once it answers someone
            try:
                await act(client, probe, ("send", "/menu" if bot == "auylnet" else "ping"), timeout=2)
                break
            except (TimeoutError, SandboxError):  # not answering yet, or not connected yet
                await asyncio.sleep(0.2)
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (db_path.parent / f"{bot}.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"{bot} did not start: {log}") from None
        yield process
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(30)
        if process.poll() is None:
            process.kill()


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def closed_loop(
    client: SandboxClient, people: list[Person], bot: str, seconds: float, seed: int, pids: dict[str, int]
) -> dict[str, float]:
    """Answered updates per second, counted after a warm-up of a fifth of the time, and the CPU
    milliseconds each process (the bot, the sandbox) spent per answered update in that time."""
    answered: list[float] = []
    rng = random.Random(seed)
    start = time.perf_counter()
    stop = start + seconds
    cpu: dict[str, float] = {}

    async def sample_after_warm_up() -> None:
        await asyncio.sleep(seconds / 5)
        cpu.update({name: cpu_seconds(pid) for name, pid in pids.items()})

    sampler = asyncio.create_task(sample_after_warm_up())
    await asyncio.gather(*(live(client, person, bot, stop, answered, rng) for person in people))
    await sampler
    counted = [moment for moment in answered if moment >= start + seconds / 5]
    figures = {"per_second": len(counted) / (seconds * 4 / 5)}
    for name, pid in pids.items():
        figures[f"{name}_cpu_ms"] = 1000 * (cpu_seconds(pid) - cpu[name]) / max(1, len(counted))
    return figures


async def open_loop(
    client: SandboxClient, people: list[Person], bot: str, rate: float, seconds: float
) -> dict[str, float]:
    """Actions arriving at ``rate`` a second for ``seconds``: latency percentiles and what kept up."""
    latencies: list[float] = []
    idle = list(people)
    random.Random(7).shuffle(idle)
    missed = 0
    paths: dict[int, list[Callable[[], tuple[str, str] | None]]] = {}
    counter: dict[int, int] = {}

    async def one(person: Person) -> None:
        steps = paths.get(person.id)
        if not steps:
            counter[person.id] = counter.get(person.id, 0) + 1
            steps = paths[person.id] = (
                [lambda: ("send", "Сәлем")] if bot == "echo" else auylnet_path(person, counter[person.id])
            )
        action = steps.pop(0)()
        if action is None:
            paths.pop(person.id, None)
            action = ("send", "/menu")
        try:
            latencies.append(await act(client, person, action))
        except TimeoutError:
            latencies.append(float("inf"))
        idle.append(person)

    tasks = []
    start = time.perf_counter()
    for n in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
        if not idle:
            missed += 1
            continue
        tasks.append(asyncio.create_task(one(idle.pop())))
    await asyncio.gather(*tasks)
    finite = sorted(latency for latency in latencies if latency != float("inf"))
    return {
        "offered": rate,
        "answered_per_second": len(finite) / seconds,
        "p50_ms": 1000 * statistics.median(finite) if finite else float("nan"),
        "p99_ms": 1000 * finite[int(len(finite) * 0.99) - 1] if finite else float("nan"),
        "timeouts": sum(1 for latency in latencies if latency == float("inf")),
        "no_idle_person": missed,
    }


async def main(args: argparse.Namespace) -> None:
    port = free_port()
    spec = str(SPEC) if SPEC.exists() else "-"
    sandbox = start_sandbox(port, spec)
    base = f"http://127.0.0.1:{port}"
    results: dict[str, Any] = {"closed_loop": [], "open_loop": {}}
    try:
        async with SandboxClient(base) as client:
            everyone = max(args.users, int(max(args.rates) * 2))
            ids = [FIRST_ID + n for n in range(everyone)]
            for user_id in ids:
                await client.call("POST", "users", json={"id": user_id, "first_name": f"Тұрғын {user_id}"})
            people = {user_id: Person(user_id) for user_id in ids}
            with tempfile.TemporaryDirectory() as folder:
                db_path = Path(folder) / "bench.db"
                await prepare_auylnet(db_path, ids)
                async with Chats(client, people):
                    crowd = [people[user_id] for user_id in ids[: args.users]]
                    for round_number in range(args.rounds):
                        row: dict[str, Any] = {}
                        order = ("echo", "auylnet") if round_number % 2 == 0 else ("auylnet", "echo")
                        for bot in order:
                            await client.call("POST", "reset")
                            async with running(bot, client, f"{base}/bot", db_path, crowd) as process:
                                pids = {"bot": process.pid, "sandbox": sandbox.pid}
                                row[bot] = await closed_loop(
                                    client, crowd, bot, args.seconds, round_number, pids
                                )
                        row["ratio"] = row["auylnet"]["per_second"] / row["echo"]["per_second"]
                        results["closed_loop"].append(row)
                        print(
                            f"closed loop, round {round_number + 1}: AuylNet {row['auylnet']['per_second']:.1f}"
                            f" updates/s, echo {row['echo']['per_second']:.1f} updates/s, ratio {row['ratio']:.2f};"
                            f" CPU per update: AuylNet {row['auylnet']['bot_cpu_ms']:.2f} ms"
                            f" (sandbox {row['auylnet']['sandbox_cpu_ms']:.2f} ms),"
                            f" echo {row['echo']['bot_cpu_ms']:.2f} ms (sandbox {row['echo']['sandbox_cpu_ms']:.2f} ms)",
                            flush=True,
                        )
                    for bot in ("echo", "auylnet"):
                        await client.call("POST", "reset")
                        everybody = list(people.values())
                        async with running(bot, client, f"{base}/bot", db_path, everybody):
                            for rate in args.rates:
                                figures = await open_loop(client, everybody, bot, rate, args.open_seconds)
                                results["open_loop"].setdefault(bot, []).append(figures)
                                print(
                                    f"open loop, {bot}, {rate:.0f}/s offered: {figures['answered_per_second']:.1f}/s"
                                    f" answered, p50 {figures['p50_ms']:.0f} ms, p99 {figures['p99_ms']:.0f} ms,"
                                    f" timeouts {figures['timeouts']}",
                                    flush=True,
                                )
    finally:
        sandbox.terminate()
        sandbox.wait(10)
    rounds = results["closed_loop"]
    ratios = [row["ratio"] for row in rounds]
    cpu = {bot: statistics.median(row[bot]["bot_cpu_ms"] for row in rounds) for bot in ("auylnet", "echo")}
    results["summary"] = {
        "ratio_median": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "bot_cpu_ms_median": cpu,
    }
    print(
        f"closed-loop ratio AuylNet / echo: median {statistics.median(ratios):.2f},"
        f" {min(ratios):.2f}–{max(ratios):.2f} over {len(ratios)} rounds (goal ≥ 0.8);"
        f" the bot's CPU per update: AuylNet {cpu['auylnet']:.2f} ms, echo {cpu['echo']:.2f} ms"
        f" (echo / AuylNet {cpu['echo'] / cpu['auylnet']:.2f})"
    )
    if args.json:
        await asyncio.to_thread(Path(args.json).write_text, json.dumps(results, indent=2))


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--rates", type=lambda text: [float(v) for v in text.split(",")], default=[50, 100, 200]
    )
    parser.add_argument("--open-seconds", type=float, default=10)
    parser.add_argument("--json", help="also write the figures to this file")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(arguments()))
