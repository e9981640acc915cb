"""200 residents report outages at once through the sandbox: reports per second and p99 ticket time.

    python bench/outage_bench.py [--residents 200]

Everything runs for real: the sandbox (flood control off, spec validation on), the AuylNet
Application polling it with a SQLite file (WAL, synchronous=FULL), the outbox worker alerting staff.
Each resident taps /report → what → since when → Send; the time measured is from the Send tap to
the ticket appearing in their chat. The bot's own rate limit is raised to 1,000/s so that the
figure is the bot's capacity, not Telegram's 30 messages a second.

The anchor, in the same run and on the same bot: every resident sends /menu at once and waits for
the menu (one update, one answer, no writes). The report's updates per second are given as a share
of the anchor's.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import build_application
from bot.config import Settings
from bot.demo.seed import seed_demo
from bot.runner import polling
from bot.sandbox.client import SandboxClient, TestUser
from bot.sandbox.limits import Limits
from bot.sandbox.server import run_sandbox
from db import places, users
from db.database import Database

TOKEN = "7100000000:" + "R" * 35
SPEC = Path(__file__).resolve().parents[2] / "shared" / "data" / "botapi-10.0.json"
VILLAGES = ["553639100", "553630100", "554630100", "154630100", "155230100"]  # connected villages


async def resident_reports(person: TestUser) -> float:
    await person.send("/report")
    await person.wait_for(lambda m: "Бүкіл ауыл" in m.labels, timeout=120)
    await person.press("Бүкіл ауыл", wait=0)
    await person.wait_for(lambda m: "Бүгіннен бері" in m.labels, timeout=120)
    await person.press("Бүгіннен бері", wait=0)
    await person.wait_for(lambda m: "📨 Қазір жіберу" in m.labels, timeout=120)
    started = time.perf_counter()
    await person.press("📨 Қазір жіберу", wait=0)
    await person.wait_for(lambda m: m.text.startswith("✅"), timeout=120)
    return time.perf_counter() - started


async def resident_opens_menu(person: TestUser) -> float:
    started = time.perf_counter()
    await person.send("/menu")
    await person.wait_for(lambda m: "⚠️ Ақау туралы хабарлау" in m.labels, timeout=120)
    return time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "bench.db"
        database = await Database.open(db_path)
        await seed_demo(database)
        async with run_sandbox(
            spec_path=SPEC if SPEC.exists() else None, limits=Limits(enabled=False)
        ) as sandbox:
            async with SandboxClient(sandbox.url) as client:
                people = [await client.user(f"Тұрғын {n}", language_code="kk") for n in range(args.residents)]
                async with database.transaction() as tx:
                    for n, person in enumerate(people):
                        await users.record_contact(
                            tx,
                            user_id=person.id,
                            first_name=person.first_name,
                            last_name=None,
                            username=None,
                            telegram_language="kk",
                            now=_now(),
                        )
                        await users.set_language(tx, person.id, "kk")
                        await places.set_my_village(tx, person.id, VILLAGES[n % len(VILLAGES)])
                await database.close()
                settings = Settings(
                    bot_token=TOKEN,
                    api_base_url=sandbox.api_url,
                    db_path=db_path,  # type: ignore[arg-type]
                    rate_global_per_second=1000,
                    reports_per_hour=100,
                    _env_file=None,
                )  # type: ignore[call-arg]
                application = build_application(settings)
                async with polling(application):
                    # Once unmeasured, so connections and caches are warm for both measured phases.
                    await asyncio.gather(*(resident_opens_menu(person) for person in people))
                    started = time.perf_counter()
                    await asyncio.gather(*(resident_opens_menu(person) for person in people))
                    anchor = time.perf_counter() - started
                    started = time.perf_counter()
                    times = await asyncio.gather(*(resident_reports(person) for person in people))
                    elapsed = time.perf_counter() - started
                reports_db = await Database.open(db_path)
                async with reports_db.read() as conn:
                    counted = (await conn.execute_fetchall("SELECT count(*) FROM reports"))[0][0]
                    incidents = (await conn.execute_fetchall("SELECT count(*) FROM incidents"))[0][0]
                await reports_db.close()
    times.sort()
    p99 = times[max(0, int(len(times) * 0.99) - 1)]
    print(f"{args.residents} residents, each /report → what → since → Send, all at once:")
    print(
        f"  {counted} reports in {incidents} incidents; whole run {elapsed:.1f} s,"
        f" {counted / elapsed:.1f} reports/s (each report is 4 updates and 4 answers)"
    )
    print(
        f"  Send tap → ticket in the chat: p50 {statistics.median(times) * 1000:.0f} ms,"
        f" p99 {p99 * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms"
    )
    menus = args.residents / anchor
    updates = 4 * counted / elapsed
    print(
        f"  anchor, the same residents opening /menu at once: {menus:.0f} updates/s;"
        f" reporting runs at {updates:.0f} updates/s = {updates / menus:.2f} of the anchor"
    )


def _now():  # type: ignore[no-untyped-def]
    from bot.clock import Clock

    return Clock().now()


if __name__ == "__main__":
    asyncio.run(main())
