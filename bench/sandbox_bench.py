"""How fast is the sandbox? sendMessage round trips per second, and end-to-end updates per second.

    python bench/sandbox_bench.py [--seconds 5] [--clients 32]

The server runs in its own process pinned to one core (taskset, when available), with flood
control off, so the figure is the sandbox's own capacity on one core.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.sandbox.client import SandboxClient

TOKEN = "424242:" + "B" * 35
SPEC = Path(__file__).resolve().parents[2] / "shared" / "data" / "botapi-10.0.json"
SERVER = """
import asyncio, sys
from bot.sandbox.limits import Limits
from bot.sandbox.server import run_sandbox
async def main():
    async with run_sandbox(port=int(sys.argv[1]), limits=Limits(enabled=False), spec_path=None if sys.argv[2] == '-' else sys.argv[2]):
        print('ready', flush=True)
        await asyncio.Event().wait()
asyncio.run(main())
"""


def start_server(port: int, spec: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-c", SERVER, str(port), spec]
    if shutil.which("taskset"):
        command = ["taskset", "-c", "0", *command]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1]
    )
    assert process.stdout is not None
    process.stdout.readline()
    return process


def plain_message(chat_id: int) -> dict[str, str]:
    return {"chat_id": str(chat_id), "text": "Сәлем, ауыл!", "parse_mode": "HTML"}


def message_with_keyboard(chat_id: int) -> dict[str, str]:
    """What AuylNet mostly sends: formatted text under a keyboard, every nested field checked."""
    rows = [
        [{"text": f"Ауыл {row}{col}", "callback_data": f"village:{row}{col}"} for col in range(3)]
        for row in range(2)
    ]
    return {
        "chat_id": str(chat_id),
        "text": "<b>Шақат</b>: the fibre is <i>being built</i> — 2025 ж. 8 наурыз",
        "parse_mode": "HTML",
        "reply_markup": json.dumps({"inline_keyboard": rows}, ensure_ascii=False),
        "link_preview_options": json.dumps({"is_disabled": True}),
    }


async def send_messages(
    url: str, payload: dict[str, str], seconds: float, clients: int
) -> tuple[int, list[float]]:
    api = f"{url}/bot{TOKEN}/sendMessage"
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                async with http.post(api, data=payload) as response:
                    await response.read()
                    assert response.status == 200, await response.text()
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(worker() for _ in range(clients)))
    return len(latencies), latencies


async def echo_round_trips(url: str, seconds: float, users: int) -> int:
    """A minimal PTB bot echoing text; users each send, wait for the echo, send again."""
    from telegram import Update
    from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_message.text
        await update.effective_message.reply_text(update.effective_message.text)

    app = ApplicationBuilder().token(TOKEN).base_url(f"{url}/bot").concurrent_updates(64).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    done = 0
    async with app, SandboxClient(url) as client:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        people = [await client.user(f"U{i}") for i in range(users)]
        deadline = time.perf_counter() + seconds

        async def chat(person) -> None:  # type: ignore[no-untyped-def]
            nonlocal done
            n = 0
            while time.perf_counter() < deadline:
                n += 1
                await person.send(f"msg {n}")
                await person.next_message(timeout=10)
                done += 1

        await asyncio.gather(*(chat(p) for p in people))
        await app.updater.stop()
        await app.stop()
    return done


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--port", type=int, default=18181)
    parser.add_argument("--spec", default=str(SPEC) if SPEC.exists() else "-")
    args = parser.parse_args()

    server = start_server(args.port, args.spec)
    url = f"http://127.0.0.1:{args.port}"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/bot{TOKEN}/getMe") as response:
                assert response.status == 200
        async with SandboxClient(url) as client:
            user = await client.user("Bench")
        validation = "on" if args.spec != "-" else "off"
        for label, payload in (
            ("sendMessage", plain_message(user.id)),
            ("sendMessage + HTML + 6-button keyboard", message_with_keyboard(user.id)),
        ):
            count, latencies = await send_messages(url, payload, args.seconds, args.clients)
            print(
                f"{label}: {count / args.seconds:,.0f} round trips/s with {args.clients} clients"
                f" (p50 {percentile(latencies, 0.5) * 1000:.1f} ms,"
                f" p99 {percentile(latencies, 0.99) * 1000:.1f} ms;"
                f" spec validation {validation}; server on one core)"
            )
        echoed = await echo_round_trips(url, args.seconds, args.users)
        print(
            f"end to end: {echoed / args.seconds:,.0f} updates/s answered by a PTB echo bot"
            f" ({args.users} users, each waiting for the answer before sending again)"
        )
    finally:
        server.terminate()
        server.wait()
    print(f"cpu: {os.cpu_count()} cores; python {sys.version.split()[0]}")


if __name__ == "__main__":
    asyncio.run(main())
