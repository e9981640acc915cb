"""How close does the outbox get to Telegram's global limit, and how long does a notification wait?

    python bench/outbox_bench.py [--users 10000] [--rate 300] [--steady 5000]

The sandbox runs in its own process (pinned to core 0 when taskset exists) with flood control on
and its global limit raised to ``--rate``; the worker runs here, on the other core, with the same
``rate_global_per_second``. Two phases:

* burst: ``--users`` notifications, one per user, queued in one transaction; throughput is
  measured from the first delivery to the last (the worker does not spend the one-second burst
  Telegram's bucket would allow at the start, so this is its sustained rate);
* steady: ``--steady`` more, queued at 90 % of the limit in batches every 50 ms, each followed by
  ``wake()``; this shows the delay a notification sees when the queue is not backed up.

Delay = time from the enqueue commit to the sandbox reporting the message (long-polled events).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.clock import Clock  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.i18n import Translator  # noqa: E402
from bot.notify import Rendered, renderer  # noqa: E402
from bot.outbox import OutboxWorker, build_outbox_bot  # noqa: E402
from bot.sandbox.limits import Limits  # noqa: F401,E402  (the server script imports it)
from db import outbox  # noqa: E402
from db.database import Database  # noqa: E402

TOKEN = "4242421:" + "B" * 35
SPEC = ROOT.parent / "shared" / "data" / "botapi-10.0.json"
SERVER = """
import asyncio, sys
from bot.sandbox.server import run_sandbox
async def main():
    async with run_sandbox(port=int(sys.argv[1]), spec_path=None if sys.argv[2] == '-' else sys.argv[2]):
        print('ready', flush=True)
        await asyncio.Event().wait()
asyncio.run(main())
"""
NUMBER = re.compile(r"#(\d+)")


@renderer("bench.greeting")
def render_greeting(t: Translator, params: Mapping[str, Any]) -> Rendered:
    return Rendered(t._("Hello, {name}! I am AuylNet.", name=f"#{params['n']}"))


def start_server(port: int) -> subprocess.Popen[str]:
    command = [sys.executable, "-c", SERVER, str(port), str(SPEC) if SPEC.exists() else "-"]
    if shutil.which("taskset"):
        command = ["taskset", "-c", "0", *command]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stdout is not None
    process.stdout.readline()
    return process


async def create_users(http: aiohttp.ClientSession, url: str, count: int) -> list[int]:
    ids: list[int] = []
    semaphore = asyncio.Semaphore(32)

    async def one(i: int) -> None:
        async with (
            semaphore,
            http.post(
                f"{url}/sandbox/api/users",
                json={"id": 7_000_000 + i, "first_name": f"Тұрғын {i}", "language_code": "kk"},
            ) as response,
        ):
            ids.append(int((await response.json())["id"]))

    await asyncio.gather(*(one(i) for i in range(count)))
    return sorted(ids)


class Arrivals:
    """Long-polls the sandbox's event feed and notes when each numbered notification arrived."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http = http
        self.url = url
        self.at: dict[int, float] = {}
        self.seq = 0
        self.stopped = False

    async def run(self) -> None:
        while not self.stopped:
            async with self.http.get(
                f"{self.url}/sandbox/api/events", params={"after": self.seq, "timeout": 1}
            ) as response:
                data = await response.json()
            now = time.perf_counter()
            for event in data["events"]:
                if event["kind"] == "message" and event.get("message", {}).get("from_bot"):
                    found = NUMBER.search(event["message"].get("text", ""))
                    if found:
                        self.at.setdefault(int(found.group(1)), now)
            self.seq = int(data["last_seq"])

    async def wait_for(self, count: int, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while len(self.at) < count:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"only {len(self.at)} of {count} arrived")
            await asyncio.sleep(0.05)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def main(users: int, rate: float, steady: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    port = 18000 + os.getpid() % 1000
    server = start_server(port)
    url = f"http://127.0.0.1:{port}"
    workdir = Path(tempfile.mkdtemp(prefix="outbox-bench-"))
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(
                f"{url}/sandbox/api/limits", json={"enabled": True, "global_per_second": rate}
            ):
                pass
            print(f"creating {users} sandbox users …", flush=True)
            ids = await create_users(http, url, users)
            settings = Settings(
                bot_token=TOKEN,  # type: ignore[arg-type]
                api_base_url=f"{url}/bot",
                db_path=workdir / "bench.db",
                rate_global_per_second=rate,
                _env_file=None,  # type: ignore[call-arg]
            )
            db = await Database.open(settings.db_path)
            clock = Clock()
            async with db.transaction() as conn:
                await conn.executemany(
                    "INSERT INTO users (id, first_name, language, first_seen, last_seen)"
                    " VALUES (?, ?, ?, '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')",
                    [(uid, f"Тұрғын {i}", "kk" if i % 2 else "ru") for i, uid in enumerate(ids)],
                )
            arrivals = Arrivals(http, url)
            collector = asyncio.create_task(arrivals.run())
            queued_at: dict[int, float] = {}

            async with build_outbox_bot(settings) as bot:
                worker = OutboxWorker(bot, db, settings, clock)
                # Burst: everything queued at once.
                async with db.transaction() as conn:
                    for n, uid in enumerate(ids):
                        await outbox.enqueue(
                            conn, chat_id=uid, kind="bench.greeting", params={"n": n}, now=clock.now()
                        )
                burst_queued = time.perf_counter()
                queued_at.update(dict.fromkeys(range(users), burst_queued))
                await worker.start()
                await arrivals.wait_for(users, timeout=users / rate * 3 + 30)
                burst = [arrivals.at[n] for n in range(users)]

                # Steady: 90 % of the limit, small batches, woken after each commit.
                batch = max(1, round(rate * 0.9 * 0.05))
                next_batch = time.perf_counter()
                for start in range(0, steady, batch):
                    await asyncio.sleep(max(0.0, next_batch - time.perf_counter()))
                    next_batch += 0.05
                    async with db.transaction() as conn:
                        for n in range(users + start, users + min(steady, start + batch)):
                            await outbox.enqueue(
                                conn,
                                chat_id=ids[n % users],
                                kind="bench.greeting",
                                params={"n": n},
                                now=clock.now(),
                            )
                    committed = time.perf_counter()
                    queued_at.update(
                        dict.fromkeys(range(users + start, users + min(steady, start + batch)), committed)
                    )
                    worker.wake()
                await arrivals.wait_for(users + steady, timeout=steady / rate * 3 + 30)
                await worker.stop()
            arrivals.stopped = True
            await collector
            async with http.get(f"{url}/sandbox/api/stats") as response:
                stats = await response.json()
            await db.close()

        first, last = min(burst), max(burst)
        window_rate = (users - 1) / (last - first)
        raw_rate = users / (last - burst_queued)
        burst_delays = [at - burst_queued for at in burst]
        steady_delays = [arrivals.at[n] - queued_at[n] for n in range(users, users + steady)]
        too_many = sum(v for k, v in stats["rejected"].items() if "Too Many Requests" in k)
        print()
        print(f"limit: {rate:g} messages/s global (sandbox and worker), 1/s per private chat")
        print(f"burst of {users}: {raw_rate:.1f} msgs/s from enqueue to last delivery;")
        print(f"  first to last delivery: {window_rate:.1f} msgs/s = {window_rate / rate:.1%} of the limit")
        print(
            f"  delay p50 {percentile(burst_delays, 0.5):.2f} s, p99 {percentile(burst_delays, 0.99):.2f} s,"
            f" max {max(burst_delays):.2f} s (queue drain)"
        )
        if steady:
            print(
                f"steady {steady} at 90% of the limit: delay p50 {percentile(steady_delays, 0.5) * 1000:.0f} ms,"
                f" p99 {percentile(steady_delays, 0.99) * 1000:.0f} ms,"
                f" mean {statistics.mean(steady_delays) * 1000:.0f} ms"
            )
        print(f"sandbox: {stats['sent_messages']} messages, 429 answers: {too_many}")
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--steady", type=int, default=5_000)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.users, arguments.rate, arguments.steady))
