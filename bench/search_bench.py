"""Village search latency over the whole official classifier, on one core (goal: p99 under 5 ms).

    python bench/search_bench.py [--queries 3000] [--kato ../shared/data/kato.csv]

The queries are real settlement names, changed the way people change them: Kazakh letters typed
as Russian ones, Kazakh Latin or plain ASCII, a dropped, doubled or swapped letter. The hit rate of
the intended village in the top 3 is reported too. The anchor, timed in the same run on the same
queries: rapidfuzz's bare ``process.extract`` over the folded names, without AuylNet's ranking.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rapidfuzz import fuzz, process

from bot.places.importer import import_kato
from bot.places.names import fold
from bot.places.search import Place, VillageIndex
from db.database import Database

DEFAULT_KATO = Path(__file__).resolve().parents[2] / "shared" / "data" / "kato.csv"
TO_RUSSIAN = str.maketrans("әғқңөұүһі", "агкноуухи")
TO_LATIN = str.maketrans(
    {
        "а": "a",
        "ә": "ä",
        "б": "b",
        "в": "v",
        "г": "g",
        "ғ": "ğ",
        "д": "d",
        "е": "e",
        "ж": "j",
        "з": "z",
        "и": "i",
        "й": "i",
        "к": "k",
        "қ": "q",
        "л": "l",
        "м": "m",
        "н": "n",
        "ң": "ñ",
        "о": "o",
        "ө": "ö",
        "п": "p",
        "р": "r",
        "с": "s",
        "т": "t",
        "у": "u",
        "ұ": "ū",
        "ү": "ü",
        "ф": "f",
        "х": "h",
        "һ": "h",
        "ц": "ts",
        "ч": "ch",
        "ш": "ş",
        "щ": "şş",
        "ы": "y",
        "і": "ı",
        "э": "e",
        "ю": "iu",
        "я": "ia",
        "ь": "",
        "ъ": "",
    }
)


def typo(word: str, rng: random.Random) -> str:
    if len(word) < 5:
        return word
    at = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("drop", "double", "swap"))
    if kind == "drop":
        return word[:at] + word[at + 1 :]
    if kind == "double":
        return word[:at] + word[at] + word[at:]
    return word[:at] + word[at + 1] + word[at] + word[at + 2 :]


def make_queries(places: list[Place], count: int, rng: random.Random) -> list[tuple[str, str]]:
    queries = []
    for place in rng.sample(places, count):
        name = rng.choice((place.name_kk, place.name_ru))
        style = rng.choice(("as is", "russian letters", "latin", "typo"))
        if style == "russian letters":
            name = name.lower().translate(TO_RUSSIAN)
        elif style == "latin":
            name = name.lower().translate(TO_LATIN)
        elif style == "typo":
            name = typo(name, rng)
        queries.append((name, place.code))
    return queries


async def load_index(kato: Path) -> VillageIndex:
    with tempfile.TemporaryDirectory() as folder:
        database = await Database.open(Path(folder) / "bench.db")
        result = await import_kato(database, kato)
        assert result.ok, result.summary()
        async with database.read() as conn:
            index = await VillageIndex.load(conn)
        await database.close()
    return index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kato", type=Path, default=DEFAULT_KATO)
    parser.add_argument("--queries", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    index = asyncio.run(load_index(args.kato))
    queries = make_queries(index.places, args.queries, random.Random(args.seed))
    for query, _ in queries[:50]:
        index.search(query)  # warm up
    timings = []
    hits = 0
    for query, expected in queries:
        started = time.perf_counter()
        found = index.search(query, limit=3)
        timings.append((time.perf_counter() - started) * 1000)
        hits += expected in [m.place.code for m in found]
    names = sorted({fold(name) for place in index.places for name in (place.name_kk, place.name_ru)})
    anchor = []
    for query, _ in queries:
        started = time.perf_counter()
        process.extract(fold(query), names, scorer=fuzz.ratio, processor=None, limit=36, score_cutoff=62)
        anchor.append((time.perf_counter() - started) * 1000)
    timings.sort()
    anchor.sort()
    p99 = timings[int(len(timings) * 0.99) - 1]
    anchor_p99 = anchor[int(len(anchor) * 0.99) - 1]
    print(
        f"{len(queries):,} queries over {len(index):,} settlements, one core:"
        f" p50 {statistics.median(timings):.2f} ms, p99 {p99:.2f} ms, max {timings[-1]:.2f} ms"
    )
    print(
        f"anchor, bare rapidfuzz extract over {len(names):,} folded names: p50 {statistics.median(anchor):.2f} ms,"
        f" p99 {anchor_p99:.2f} ms; AuylNet / anchor at p50: {statistics.median(timings) / statistics.median(anchor):.2f}×"
    )
    print(
        f"intended village in the top 3: {hits / len(queries):.1%}"
        " (typo'd, transliterated and re-lettered real names; namesakes count as misses)"
    )


if __name__ == "__main__":
    main()
