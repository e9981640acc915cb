"""How long does importing the whole official classifier take? (goal: under 10 s)

    python bench/import_bench.py [--kato ../shared/data/kato.csv] [--runs 3]

Each run imports into a fresh database file; a second import of the same file (a no-op) is timed too.
The anchor, timed in the same run: reading and splitting the same file with the csv module alone.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.places.importer import import_kato
from bot.places.search import VillageIndex
from db.database import Database

DEFAULT_KATO = Path(__file__).resolve().parents[2] / "shared" / "data" / "kato.csv"


def parse_only(kato: Path) -> float:
    started = time.perf_counter()
    rows = list(csv.DictReader(io.StringIO(kato.read_bytes().decode("utf-8-sig"))))
    assert rows
    return time.perf_counter() - started


async def one_run(kato: Path) -> tuple[float, float, float, int]:
    with tempfile.TemporaryDirectory() as folder:
        database = await Database.open(Path(folder) / "bench.db")
        started = time.perf_counter()
        result = await import_kato(database, kato)
        first = time.perf_counter() - started
        assert result.ok, result.summary()
        started = time.perf_counter()
        again = await import_kato(database, kato)
        second = time.perf_counter() - started
        assert again.unchanged == result.rows
        started = time.perf_counter()
        async with database.read() as conn:
            index = await VillageIndex.load(conn)
        load = time.perf_counter() - started
        await database.close()
        return first, second, load, len(index)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kato", type=Path, default=DEFAULT_KATO)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not args.kato.exists():
        raise SystemExit(f"no classifier at {args.kato}")
    runs = [await one_run(args.kato) for _ in range(args.runs)]
    anchor = statistics.median(parse_only(args.kato) for _ in range(args.runs))
    first = statistics.median(r[0] for r in runs)
    second = statistics.median(r[1] for r in runs)
    load = statistics.median(r[2] for r in runs)
    print(
        f"import of {args.kato.name} ({runs[0][3]:,} settlements) into a fresh database: {first:.2f} s (median of {args.runs})"
    )
    print(f"importing the same file again (no changes): {second:.2f} s")
    print(f"anchor, csv module parsing the same file: {anchor:.2f} s; import / anchor: {first / anchor:.1f}×")
    print(f"building the search index from the database: {load * 1000:.0f} ms")


if __name__ == "__main__":
    asyncio.run(main())
