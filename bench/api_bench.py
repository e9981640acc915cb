"""Open311 ``GET /open311/v2/requests.json`` with filters over 100,000 reports: p99 and requests/s,
against a bare aiohttp handler answering the same bytes (the anchor), in the same run.

    python bench/api_bench.py [--reports 100000] [--seconds 10] [--clients 1,4,8] [--rounds 2]

The API runs as it does in production: its own process (one core), the real SQLite file (WAL), the
real middleware (key lookup, rate limit) and handlers. The anchor is a second process serving a
fixed response of the size of a typical API answer from a bare aiohttp handler, so the ratio shows
what AuylNet's query, mapping and serialisation cost over the HTTP stack alone. Clients run in this
process: closed loops of 1, 4 and 8 concurrent clients, interleaved anchor/API rounds.

Queries, drawn with a fixed seed: a service in a 30-day window; open reports of a service; closed
reports in a 30-day window; several services in a 60-day window, both statuses; the default (the
last 90 days). Each answer is one page of the default size (100 reports).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from aiohttp import web

KINDS = ("home", "school", "medical", "akimat", "village", "mobile")
RESOLUTIONS = ("fixed", "power", "not_ours", "duplicate", "other")


# --- the data -------------------------------------------------------------------------------------


async def build_database(path: Path, reports: int, now: datetime) -> int:
    """The demo's villages, 20,000 residents and ``reports`` reports over the last year; returns the
    number of incidents they form."""
    from bot.demo.seed import seed_demo
    from db.database import Database
    from db.timestamps import to_db

    db = await Database.open(path)
    await seed_demo(db)
    rng = random.Random(311)
    async with db.read() as conn:
        villages = [row[0] for row in await conn.execute_fetchall("SELECT code FROM villages ORDER BY code")]
    people = 20_000
    year = timedelta(days=365)
    incidents: list[tuple[int, str, str, datetime]] = []
    report_rows: list[tuple[object, ...]] = []
    next_report = 1
    incident_id = 0
    while next_report <= reports:
        incident_id += 1
        opened = now - year * rng.random() ** 1.5
        village, kind = rng.choice(villages), rng.choice(KINDS)
        incidents.append((incident_id, village, kind, opened))
        size = min(reports - next_report + 1, rng.choice((1, 1, 2, 3, 5, 8, 13)))
        for user_id in rng.sample(range(1, people + 1), size):
            created = opened + timedelta(minutes=rng.uniform(0, 180))
            report_rows.append(
                (
                    next_report,
                    incident_id,
                    user_id,
                    village,
                    kind,
                    rng.choice(("now", "today", "days")),
                    to_db(min(created, now)),
                )
            )
            next_report += 1
    # Only the latest incident of a village and kind may be unresolved (as the rules keep it).
    latest: dict[tuple[str, str], int] = {}
    for number, village, kind, _opened in incidents:
        latest[(village, kind)] = number
    open_ones = set(latest.values())
    incident_rows = []
    for number, village, kind, opened in incidents:
        if number in open_ones and rng.random() < 0.5:
            incident_rows.append(
                (
                    number,
                    village,
                    kind,
                    rng.choice(("open", "taken", "in_progress")),
                    to_db(opened),
                    None,
                    None,
                )
            )
        else:
            resolved = to_db(min(now, opened + timedelta(hours=rng.uniform(1, 48))))
            incident_rows.append(
                (number, village, kind, "resolved", to_db(opened), resolved, rng.choice(RESOLUTIONS))
            )
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO users (id, first_name, first_seen, last_seen) VALUES (?, 'resident', ?, ?)",
            [(user_id, to_db(now), to_db(now)) for user_id in range(1, people + 1)],
        )
        await tx.executemany(
            "INSERT INTO incidents (id, village_code, kind, state, opened_at, resolved_at, resolution)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            incident_rows,
        )
        await tx.executemany(
            "INSERT INTO reports (id, incident_id, user_id, village_code, kind, since, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            report_rows,
        )
    async with db.transaction() as tx:
        await tx.execute("ANALYZE")
    await db.close()
    return len(incidents)


def queries(now: datetime, count: int) -> list[str]:
    rng = random.Random(16)

    def window(days: int) -> str:
        end = now - timedelta(days=rng.uniform(0, 300))
        start = end - timedelta(days=days)
        return (
            f"start_date={start.isoformat(timespec='seconds')}&end_date={end.isoformat(timespec='seconds')}"
        )

    makers: list[Callable[[], str]] = [
        lambda: f"service_code={rng.choice(KINDS)}&{window(30)}",
        lambda: f"service_code={rng.choice(KINDS)}&status=open",
        lambda: f"status=closed&{window(30)}",
        lambda: f"service_code={','.join(rng.sample(KINDS, 3))}&status=open,closed&{window(60)}",
        lambda: "",
    ]
    return [
        "/open311/v2/requests.json?" + makers[n % len(makers)]().replace("+", "%2B") for n in range(count)
    ]


# --- the servers (each in its own process) ---------------------------------------------------------


async def serve_api(db_path: Path) -> None:
    """The API as ``auylnet api`` serves it (``start_api``), with the rate limit out of the way."""
    from types import SimpleNamespace

    from bot.api.config import ApiSettings
    from bot.api.server import start_api
    from bot.clock import Clock
    from bot.config import Settings
    from db.database import Database

    db = await Database.open(db_path)
    settings = Settings(bot_token="1:x", db_path=db_path, _env_file=None)  # type: ignore[arg-type, call-arg]
    api_settings = ApiSettings(_env_file=None, anonymous_per_minute=10_000_000)  # type: ignore[call-arg]
    services = SimpleNamespace(db=db, config=settings, clock=Clock())
    runner = await start_api(services, "127.0.0.1", 0, api_settings=api_settings)
    await _until_stopped(runner)
    await db.close()


async def serve_anchor(body: bytes) -> None:
    async def fixed(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json", charset="utf-8")

    app = web.Application()
    app.router.add_get("/open311/v2/requests.json", fixed)
    await _serve(app)


async def _serve(app: web.Application) -> None:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    await _until_stopped(runner)


async def _until_stopped(runner: web.AppRunner) -> None:
    print(runner.addresses[0][1], flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()


def start_server(*arguments: str) -> tuple[subprocess.Popen[bytes], str]:
    process = subprocess.Popen(
        [sys.executable, __file__, *arguments],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    assert process.stdout is not None
    port = process.stdout.readline().decode().strip()
    return process, f"http://127.0.0.1:{port}"


# --- the load ----------------------------------------------------------------------------------


async def closed_loop(
    base: str, paths: list[str], clients: int, seconds: float
) -> tuple[list[float], float, int]:
    """``clients`` loops each sending the next query as soon as the last answer is read."""
    latencies: list[float] = []
    sizes: list[int] = []
    cursor = [0]
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def client() -> None:
            while time.perf_counter() < deadline:
                path = paths[cursor[0] % len(paths)]
                cursor[0] += 1
                started = time.perf_counter()
                async with http.get(base + path) as response:
                    body = await response.read()
                    assert response.status == 200, body[:200]
                latencies.append(time.perf_counter() - started)
                sizes.append(len(body))

        began = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.perf_counter() - began
    return latencies, elapsed, int(statistics.mean(sizes))


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", default="1,4,8")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "bench.db"
        started = time.perf_counter()
        incidents = await build_database(db_path, args.reports, now)
        print(
            f"{args.reports:,} reports in {incidents:,} incidents written in {time.perf_counter() - started:.1f} s"
        )
        paths = queries(now, 2000)
        api_process, api_url = start_server("--serve-api", str(db_path))
        try:
            # The anchor answers the bytes of a typical (median-sized) API answer.
            async with aiohttp.ClientSession() as http:
                sized = []
                for path in paths[:50]:
                    async with http.get(api_url + path) as response:
                        sized.append(await response.read())
            typical = sorted(sized, key=len)[len(sized) // 2]
            body_path = Path(folder) / "anchor.json"
            body_path.write_bytes(typical)
            print(f"typical answer {len(typical):,} bytes, {len(json.loads(typical))} reports")
            anchor_process, anchor_url = start_server("--serve-anchor", str(body_path))
            try:
                await closed_loop(api_url, paths, 4, 1.0)  # warm both up
                await closed_loop(anchor_url, paths, 4, 1.0)
                results: dict[tuple[str, int], list[tuple[list[float], float, int]]] = {}
                for clients in (int(c) for c in args.clients.split(",")):
                    for _ in range(args.rounds):
                        for name, url in (("anchor", anchor_url), ("api", api_url)):
                            results.setdefault((name, clients), []).append(
                                await closed_loop(url, paths, clients, args.seconds)
                            )
            finally:
                anchor_process.send_signal(signal.SIGTERM)
                anchor_process.wait()
        finally:
            api_process.send_signal(signal.SIGTERM)
            api_process.wait()
    print()
    print("| clients | server | requests/s | p50 ms | p99 ms | mean bytes |")
    print("|---|---|---|---|---|---|")
    rates: dict[tuple[str, int], float] = {}
    for (name, clients), runs in results.items():
        latencies = [value for run in runs for value in run[0]]
        rate = sum(len(run[0]) for run in runs) / sum(run[1] for run in runs)
        rates[(name, clients)] = rate
        size = int(statistics.mean(run[2] for run in runs))
        label = "AuylNet API" if name == "api" else "anchor (bare aiohttp, same bytes)"
        print(
            f"| {clients} | {label} | {rate:,.0f} | {p(latencies, 0.5):.1f} | {p(latencies, 0.99):.1f} | {size:,} |"
        )
    print()
    for clients in sorted({c for _, c in rates}):
        print(
            f"{clients} client(s): AuylNet at {rates[('api', clients)] / rates[('anchor', clients)]:.2f}x the anchor's requests/s"
        )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve-api":
        asyncio.run(serve_api(Path(sys.argv[2])))
    elif len(sys.argv) == 3 and sys.argv[1] == "--serve-anchor":
        asyncio.run(serve_anchor(Path(sys.argv[2]).read_bytes()))
    else:
        asyncio.run(main())
