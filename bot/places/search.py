"""Finding a village by a name typed any way, or by a location.

The index holds every settlement's Kazakh and Russian names in folded form (see ``names.fold``)
and asks rapidfuzz for the closest ones. Ranking, best first: how close the name is (a whole name
before one word of a longer name), then what kind of place it is — a village or town before a
railway siding, and both before a wintering place, farm or point of the same name. Results under a
sensible score are left out: nothing is better than noise. Results carry okrug, district and region
so namesakes can be told apart.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import Any

import aiosqlite
from rapidfuzz import fuzz, process

from bot.places.names import core_name, fold
from db import places as db_places

# rapidfuzz's plain ratio a key must reach to be considered at all.
MIN_RATIO = 62.0
# The final score a result must reach to be shown (an exact whole name scores 110).
MIN_SCORE = 80.0
# A result this far below the best one is noise next to it.
SPREAD = 22.0
LENGTH_PENALTY = 1.0  # per letter longer or shorter than what was typed
WORD_PENALTY = 4.0  # «Акжар» in «Большой Акжар»: a word of a longer name, not the whole name
KIND_PENALTY = {"village": 0.0, "town": 0.0, "station": 5.0, "locality": 12.0}


@dataclass(frozen=True)
class Place:
    code: str
    name_kk: str
    name_ru: str
    district_kk: str
    district_ru: str
    region_kk: str
    region_ru: str
    stage: str = "none"
    latitude: float | None = None
    longitude: float | None = None
    kind: str = "village"
    okrug_kk: str = ""
    okrug_ru: str = ""

    def name(self, language: str) -> str:
        return self.name_kk if language == "kk" else self.name_ru

    def district(self, language: str) -> str:
        return self.district_kk if language == "kk" else self.district_ru

    def okrug(self, language: str) -> str:
        return self.okrug_kk if language == "kk" else self.okrug_ru

    def region(self, language: str) -> str:
        return self.region_kk if language == "kk" else self.region_ru

    def where(self, language: str) -> str:
        """ "district, region" in the given language."""
        return f"{self.district(language)}, {self.region(language)}"


@dataclass(frozen=True)
class Match:
    place: Place
    score: float


class VillageIndex:
    def __init__(self, places: list[Place]) -> None:
        self.places = places
        self._by_code = {place.code: place for place in places}
        keys: dict[str, dict[int, float]] = {}

        def add(key: str, position: int, penalty: float) -> None:
            if key:
                owners = keys.setdefault(key, {})
                owners[position] = min(owners.get(position, penalty), penalty)

        for position, place in enumerate(places):
            names = {fold(place.name_kk), fold(place.name_ru)}
            for name in names:
                add(name, position, 0.0)
                add(core_name(name), position, 0.0)  # «точка Шукыр» is found as «Шукыр»
            # Each word of a longer name too, so «Акжар» finds «Большой Акжар» with a plain ratio.
            for name in names:
                words = core_name(name).split()
                if len(words) > 1:
                    for word in words:
                        if len(word) >= 4:
                            add(word, position, WORD_PENALTY)
        self._keys = list(keys)
        self._owners = [list(keys[key].items()) for key in self._keys]
        self._located = [p for p in places if p.latitude is not None and p.longitude is not None]

    def __len__(self) -> int:
        return len(self.places)

    def get(self, code: str) -> Place | None:
        return self._by_code.get(code)

    @classmethod
    async def load(cls, conn: aiosqlite.Connection) -> VillageIndex:
        """Every settlement from the database; the index is built off the event loop."""
        rows = await db_places.index_rows(conn)
        return await asyncio.to_thread(cls.from_rows, rows)

    @classmethod
    def from_rows(cls, rows: list[tuple[Any, ...]]) -> VillageIndex:
        return cls(
            [
                Place(
                    code=row[0],
                    name_kk=row[1],
                    name_ru=row[2],
                    district_kk=row[3] or "",
                    district_ru=row[4] or "",
                    region_kk=row[5] or "",
                    region_ru=row[6] or "",
                    stage=row[7],
                    latitude=row[8],
                    longitude=row[9],
                    kind=row[10] or "village",
                    okrug_kk=row[11] or "",
                    okrug_ru=row[12] or "",
                )
                for row in rows
            ]
        )

    def search(self, query: str, limit: int = 5) -> list[Match]:
        """The places whose name is closest to ``query``, best first; none when nothing is close."""
        wanted = fold(query)
        if len(wanted) < 2:
            return []
        found = process.extract(
            wanted, self._keys, scorer=fuzz.ratio, processor=None, limit=limit * 12, score_cutoff=MIN_RATIO
        )
        best: dict[int, float] = {}
        for key, ratio, slot in found:
            # An exact or prefix match beats a fuzzy one of the same ratio.
            bonus = 10.0 if key == wanted else 4.0 if key.startswith(wanted) else 0.0
            bonus -= min(abs(len(key) - len(wanted)), 10) * LENGTH_PENALTY
            for position, penalty in self._owners[slot]:
                score = ratio + bonus - penalty - KIND_PENALTY.get(self.places[position].kind, 0.0)
                best[position] = max(best.get(position, -1.0), score)
        ranked = sorted(
            ((position, score) for position, score in best.items() if score >= MIN_SCORE),
            key=lambda item: (-item[1], self.places[item[0]].stage == "none", self.places[item[0]].code),
        )
        if not ranked:
            return []
        top = ranked[0][1]
        return [
            Match(self.places[position], round(score, 1))
            for position, score in ranked[:limit]
            if score >= top - SPREAD
        ]

    def nearest(self, latitude: float, longitude: float, limit: int = 5) -> list[tuple[Place, float]]:
        """Villages with known coordinates, nearest first, with the distance in km."""
        measured = [
            (place, distance_km(latitude, longitude, place.latitude or 0.0, place.longitude or 0.0))
            for place in self._located
        ]
        measured.sort(key=lambda item: item[1])
        return measured[:limit]


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    earth = 6371.0
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = math.radians(lat2 - lat1), math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * earth * math.asin(math.sqrt(a))
