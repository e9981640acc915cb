"""The demo's sample data: real villages of Pavlodar and Aktobe regions with plausible rollout data.

``kato_sample.csv`` is an extract of the official classifier (KATO, NK RK 11-2025) for the two
regions; ``plan_sample.csv`` and ``objects_sample.csv`` are made up for demonstration.
"""

from __future__ import annotations

from pathlib import Path

from bot.places.importer import import_kato, import_objects, import_plan
from db.database import Database

DEMO_DATA = Path(__file__).resolve().parent
KATO_SAMPLE = DEMO_DATA / "kato_sample.csv"
PLAN_SAMPLE = DEMO_DATA / "plan_sample.csv"
OBJECTS_SAMPLE = DEMO_DATA / "objects_sample.csv"


async def seed_demo(db: Database) -> None:
    """Load the sample classifier, plan and objects; running it again changes nothing."""
    for run, path in (
        (import_kato, KATO_SAMPLE),
        (import_plan, PLAN_SAMPLE),
        (import_objects, OBJECTS_SAMPLE),
    ):
        result = await run(db, path)
        if not result.ok:
            raise RuntimeError(result.summary())
