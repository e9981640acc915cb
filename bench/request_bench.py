"""What the bot's rate limiter throttles, and what a missing ``sniffio`` costs, measured.

    python bench/request_bench.py [--taps 600] [--rounds 3]

The sandbox runs in its own process with flood control off (so only the bot's own limiter limits).
A *tap* is what a button press costs the bot: ``answerCallbackQuery`` plus ``editMessageText`` in
the person's private chat, 64 at a time across 100 people. A *send* is one ``sendMessage`` to a
person. Each configuration runs in a fresh process, the configurations interleaved, ``--rounds``
times; the medians are printed with the ratio to the anchor (PTB's ``AIORateLimiter``, which the
bot used before):

* ``ptb-limiter`` — PTB's AIORateLimiter(30/s overall, 20/min per group): every call that names a
  chat goes through the 30/s limiter, edits included;
* ``auylnet`` — ``bot.telegram_api.TelegramLimits`` with the same limits: sends are limited (30/s,
  per chat, per group), edits in private chats and button answers are not;
* ``auylnet-no-sniffio`` — the same, with ``import sniffio`` failing as when the package is not
  installed (httpcore tries it again on every request).

Sends are reported as the sustained rate, after the limiter's first second's bucket (30) is spent.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.abc
import importlib.machinery
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TOKEN = "7300000000:" + "Q" * 35
CONFIGURATIONS = ("ptb-limiter", "auylnet", "auylnet-no-sniffio")
PEOPLE = 100
CONCURRENCY = 64


class _SniffioMissing(importlib.abc.MetaPathFinder):
    """``import sniffio`` fails after searching every path entry, as for a package not installed."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "sniffio":
            return None
        importlib.machinery.PathFinder.find_spec("sniffio_is_not_installed", path)
        raise ModuleNotFoundError("No module named 'sniffio'", name="sniffio")


async def worker(configuration: str, url: str, taps: int, sends: int) -> dict[str, float]:
    if configuration == "auylnet-no-sniffio":
        sys.modules.pop("sniffio", None)
        sys.meta_path.insert(0, _SniffioMissing())
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup
    from telegram.ext import AIORateLimiter, ExtBot
    from telegram.request import HTTPXRequest

    from bot.sandbox.client import SandboxClient
    from bot.telegram_api import TelegramLimits

    limiter: Any = (
        AIORateLimiter(overall_max_rate=30, group_max_rate=20, max_retries=2)
        if configuration == "ptb-limiter"
        else TelegramLimits(overall_per_second=30, group_per_minute=20, max_retries=2)
    )
    bot = ExtBot(
        TOKEN, base_url=f"{url}/bot", request=HTTPXRequest(connection_pool_size=128), rate_limiter=limiter
    )
    button = InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="ok")]])
    async with bot, SandboxClient(url) as client:
        people = [await client.user(f"{configuration} {n}") for n in range(PEOPLE)]
        await client.call("POST", "limits", json={"enabled": False})
        # Setting up (not measured): one message with a button per person.
        prompts = []
        for person in people:
            prompts.append(await bot.send_message(person.id, "?", reply_markup=button))
            await asyncio.sleep(1 / 25)
        queries = []
        for n in range(taps):
            person, prompt = people[n % PEOPLE], prompts[n % PEOPLE]
            pressed = await client.call(
                "POST",
                "press",
                json={
                    "user_id": person.id,
                    "chat_id": person.id,
                    "message_id": prompt.message_id,
                    "callback_data": "ok",
                },
            )
            queries.append((pressed["callback_query_id"], person.id, prompt.message_id, n))
        gate = asyncio.Semaphore(CONCURRENCY)

        async def tap(query_id: str, chat_id: int, message_id: int, n: int) -> None:
            async with gate:
                await bot.answer_callback_query(query_id)
                await bot.edit_message_text(f"#{n}", chat_id, message_id, reply_markup=button)

        started = time.perf_counter()
        await asyncio.gather(*(tap(*query) for query in queries))
        taps_per_second = taps / (time.perf_counter() - started)

        finished: list[float] = []

        async def send(n: int) -> None:
            async with gate:
                await bot.send_message(people[n % PEOPLE].id, f"№{n}")
                finished.append(time.perf_counter())

        await asyncio.sleep(1.5)  # the limiter's bucket fills up again
        await asyncio.gather(*(send(n) for n in range(sends)))
        # Sustained: after the first second's bucket of 30 is spent.
        sends_per_second = (len(finished) - 30) / (finished[-1] - finished[29])
    return {"taps_per_second": taps_per_second, "sends_per_second": sends_per_second}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taps", type=int, default=600)
    parser.add_argument("--sends", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--worker", choices=CONFIGURATIONS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(asyncio.run(worker(args.worker, args.url, args.taps, args.sends))))
        return

    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "sandbox", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert sandbox.stdout is not None
        while b"sandbox on" not in sandbox.stdout.readline():
            pass
        url = f"http://127.0.0.1:{port}"
        results: dict[str, list[dict[str, float]]] = {name: [] for name in CONFIGURATIONS}
        for _ in range(args.rounds):
            for name in CONFIGURATIONS:
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--worker",
                        name,
                        "--url",
                        url,
                        "--taps",
                        str(args.taps),
                        "--sends",
                        str(args.sends),
                    ],
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                results[name].append(json.loads(out.strip().splitlines()[-1]))
    finally:
        sandbox.send_signal(signal.SIGTERM)
        sandbox.wait(30)

    def median(name: str, key: str) -> float:
        return statistics.median(run[key] for run in results[name])

    anchor_taps, anchor_sends = (
        median("ptb-limiter", "taps_per_second"),
        median("ptb-limiter", "sends_per_second"),
    )
    print(f"{args.taps} taps (answer + edit), {args.sends} sends; medians of {args.rounds} interleaved runs")
    for name in CONFIGURATIONS:
        taps, sends = median(name, "taps_per_second"), median(name, "sends_per_second")
        print(
            f"  {name:<20} taps {taps:7.1f}/s ({taps / anchor_taps:4.2f}×)"
            f"   sends, sustained {sends:5.1f}/s ({sends / anchor_sends:4.2f}×)"
        )
    no_sniffio, with_sniffio = (
        median("auylnet-no-sniffio", "taps_per_second"),
        median("auylnet", "taps_per_second"),
    )
    print(f"  sniffio installed: {with_sniffio / no_sniffio:4.2f}× the taps per second without it")


if __name__ == "__main__":
    main()
