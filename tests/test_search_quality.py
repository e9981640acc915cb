"""Search quality over the whole official classifier: typos, scripts, Russian and Kazakh spellings.

Skipped when ../shared/data/kato.csv is absent (the product does not ship it).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.places.importer import import_kato
from bot.places.search import VillageIndex
from db.database import Database
from tests.conftest import KATO_CSV

pytestmark = pytest.mark.skipif(
    not KATO_CSV.exists(), reason="the official classifier (../shared/data/kato.csv) is absent"
)

# (what a person types, the KATO code they mean)
QUERIES: list[tuple[str, str]] = [
    # Шақат / Шакат, Pavlodar district
    ("Шақат", "556069100"),
    ("Шакат", "556069100"),
    ("Şaqat", "556069100"),
    ("shakat", "556069100"),
    ("Шакатт", "556069100"),
    ("shaqat", "556069100"),
    # Баянауыл / Баянаул
    ("Баянауыл", "553630100"),
    ("Баянаул", "553630100"),
    ("Bayanauyl", "553630100"),
    ("bayanaul", "553630100"),
    ("Баянауль", "553630100"),
    ("Баянул", "553630100"),
    # Жаңатілек / Жанатилек
    ("Жаңатілек", "553641100"),
    ("Жанатилек", "553641100"),
    ("Jañatılek", "553641100"),
    ("zhanatilek", "553641100"),
    # Мәшһүр Жүсіп
    ("Мәшһүр Жүсіп", "553639100"),
    ("Машхур Жусуп", "553639100"),
    ("Mäşhür Jüsıp", "553639100"),
    # Майқайың / Майкаин
    ("Майқайың", "553655100"),
    ("Майкаин", "553655100"),
    ("maikain", "553655100"),
    ("Майкайын", "553655100"),
    # Тереңкөл / Теренколь (Pavlodar) — «Теренколь» also exists in West Kazakhstan
    ("Тереңкөл", "554830100"),
    ("Tereñköl", "554830100"),
    ("terenkol", "554830100"),
    # Аққулы / Шаға
    ("Аққулы", "555230100"),
    ("Аккулы", "555230100"),
    ("akkuly", "555230100"),
    ("Шаға", "555257100"),
    ("Шака", "555257100"),
    # Ертіс / Иртышск; Сілеті / Селеты
    ("Иртышск", "554630100"),
    ("Иртышьск", "554630100"),
    ("Сілеті", "554667100"),
    ("Селеты", "554667100"),
    ("Sıletı", "554667100"),
    # Үлкен Ақжар / Большой Акжар
    ("Большой Акжар", "555633100"),
    ("Үлкен Ақжар", "555633100"),
    ("Большой Ажар", "555633100"),
    # Қоңырөзек / Коныр Озек; Шарбақты / Шарбакты; Прииртыш / Прииртышское
    ("Қоңырөзек", "556453100"),
    ("Коныр Озек", "556453100"),
    ("Шарбақты", "556830100"),
    ("Шарбакты", "556830100"),
    ("sharbakty", "556830100"),
    ("Прииртышское", "554259100"),
    ("Прииртыш", "554259100"),
    # Aktobe region
    ("Мәртөк", "154630100"),
    ("Мартук", "154630100"),
    ("martok", "154630100"),
    ("Мартюк", "154630100"),
    ("Қазірет", "154637100"),
    ("Хазретовка", "154637100"),
    ("Ойыл", "155230100"),
    ("Уил", "155230100"),
    ("Ырғыз", "156830100"),
    ("Иргиз", "156830100"),
    ("Yrğyz", "156830100"),
    ("Қобда", "154230100"),
    ("Кобда", "154230100"),
    ("Хобда", "154230100"),
    ("Жұрын", "154845100"),
    ("Джурун", "154845100"),
    ("Журын", "154845100"),
    ("Ақкемер", "154833100"),
    ("Аккемер", "154833100"),
    ("Қарауылкелді", "153630100"),
    ("Карауылкелды", "153630100"),
    ("Бестамақ", "153235100"),
    ("Бестамак", "153235100"),
    ("Темирбека Жургенева", "153430100"),
    ("Шамши Калдаякова", "154059100"),
    ("Қосестек", "154055100"),
    ("Кос-Истек", "154055100"),
    ("Кеңқияқ", "155639100"),
    ("Кенкияк", "155639100"),
    ("kenkiyak", "155639100"),
    ("Мөңке би", "156444100"),
    ("Монке би", "156444100"),
]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> VillageIndex:
    async def build() -> VillageIndex:
        database = await Database.open(Path(tmp_path_factory.mktemp("kato")) / "kato.db")
        result = await import_kato(database, KATO_CSV)
        assert result.ok, result.summary()
        async with database.read() as conn:
            loaded = await VillageIndex.load(conn)
        await database.close()
        return loaded

    return asyncio.run(build())


def test_top3_hit_rate_is_at_least_95_percent(index: VillageIndex) -> None:
    assert len(QUERIES) >= 60
    misses = [
        (query, expected, [m.place.code for m in index.search(query, limit=3)])
        for query, expected in QUERIES
        if expected not in [m.place.code for m in index.search(query, limit=3)]
    ]
    hit_rate = 1 - len(misses) / len(QUERIES)
    assert hit_rate >= 0.95, f"top-3 hit rate {hit_rate:.1%}; misses: {misses}"


def test_namesakes_are_told_apart_by_district_and_region(index: VillageIndex) -> None:
    found = index.search("Теренколь", limit=5)
    namesakes = [m.place for m in found if m.place.name_ru == "Теренколь"]
    assert {p.code for p in namesakes} >= {"554830100", "274047415"}
    places = {p.where("ru") for p in namesakes}
    assert len(places) == len(namesakes)
    assert "район Тереңкөл, Павлодарская область" in places


def test_the_index_covers_every_settlement(index: VillageIndex) -> None:
    assert len(index) == 12986
