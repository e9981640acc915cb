"""Finding a village by a name typed any way, or by a location.

The index holds every settlement's Kazakh and Russian names in folded form (see ``names.fold``)
and asks rapidfuzz for the closest ones; results carry district and region so namesakes can be
told apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import aiosqlite
from rapidfuzz import fuzz, process

from bot.places.names import fold

MIN_SCORE = 62.0


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

    def name(self, language: str) -> str:
        return self.name_kk if language == "kk" else self.name_ru

    def where(self, language: str) -> str:
        """ "district, region" in the given language."""
        if language == "kk":
            return f"{self.district_kk}, {self.region_kk}"
        return f"{self.district_ru}, {self.region_ru}"


@dataclass(frozen=True)
class Match:
    place: Place
    score: float


class VillageIndex:
    def __init__(self, places: list[Place]) -> None:
        self.places = places
        self._by_code = {place.code: place for place in places}
        keys: dict[str, list[int]] = {}
        for position, place in enumerate(places):
            names = {fold(place.name_kk), fold(place.name_ru)}
            # Each word of a longer name too, so «Акжар» finds «Большой Акжар» with a plain ratio.
            words = {word for name in names for word in name.split() if len(word) >= 4} - names
            for name in names | words:
                if name and position not in keys.get(name, []):
                    keys.setdefault(name, []).append(position)
        self._keys = list(keys)
        self._owners = [keys[key] for key in self._keys]
        self._located = [p for p in places if p.latitude is not None and p.longitude is not None]

    def __len__(self) -> int:
        return len(self.places)

    def get(self, code: str) -> Place | None:
        return self._by_code.get(code)

    @classmethod
    async def load(cls, conn: aiosqlite.Connection) -> VillageIndex:
        async with conn.execute(
            "SELECT v.code, v.name_kk, v.name_ru, d.name_kk, d.name_ru, r.name_kk, r.name_ru, v.stage,"
            " v.latitude, v.longitude FROM villages v"
            " LEFT JOIN areas d ON d.code = v.district_code LEFT JOIN areas r ON r.code = v.region_code"
            " ORDER BY v.code"
        ) as cursor:
            rows = await cursor.fetchall()
        return cls(
            [
                Place(
                    row[0],
                    row[1],
                    row[2],
                    row[3] or "",
                    row[4] or "",
                    row[5] or "",
                    row[6] or "",
                    row[7],
                    row[8],
                    row[9],
                )
                for row in rows
            ]
        )

    def search(self, query: str, limit: int = 5) -> list[Match]:
        """The villages whose name is closest to ``query``, best first."""
        wanted = fold(query)
        if len(wanted) < 2:
            return []
        # A plain ratio over whole names and their words is fast and forgiving enough once the
        # spelling differences are folded away.
        found = process.extract(
            wanted, self._keys, scorer=fuzz.ratio, processor=None, limit=limit * 6, score_cutoff=MIN_SCORE
        )
        best: dict[int, float] = {}
        for key, score, slot in found:
            # An exact or prefix match beats a fuzzy one of the same WRatio.
            bonus = 10.0 if key == wanted else 4.0 if key.startswith(wanted) else 0.0
            bonus -= min(abs(len(key) - len(wanted)), 10) * 0.3
            for position in self._owners[slot]:
                best[position] = max(best.get(position, 0.0), score + bonus)
        ranked = sorted(
            best.items(),
            key=lambda item: (-item[1], self.places[item[0]].stage == "none", self.places[item[0]].code),
        )
        return [Match(self.places[position], round(score, 1)) for position, score in ranked[:limit]]

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
