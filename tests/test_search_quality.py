"""Search quality over the whole official classifier: typos, scripts, Russian and Kazakh spellings.

Skipped when ../shared/data/kato.csv is absent (the product does not ship it).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.i18n import translator
from bot.places import service, texts
from bot.places.importer import import_kato
from bot.places.search import VillageIndex
from db import places
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


def test_a_village_comes_before_a_point_or_farm_of_the_same_name(index: VillageIndex) -> None:
    found = index.search("Шұқыр", limit=5)
    assert found[0].place.code == "473644139" and found[0].place.kind == "village"
    assert [m.place.kind for m in found].index("locality") > 0
    russian = index.search("Шукыр", limit=5)
    assert russian[0].place.code == "473644139"


def test_a_search_never_lists_one_place_twice_nor_two_places_the_same_way(index: VillageIndex) -> None:
    for query in ("Ақтөбе", "Актобе", "Акжар", "Акши", "Теренколь"):
        found = [m.place for m in index.search(query, limit=6)]
        assert len({p.code for p in found}) == len(found)
        for language in ("kk", "ru"):
            labels = texts.village_labels(translator(language), found)
            assert len(set(labels)) == len(labels) and all(len(label) <= 40 for label in labels), labels
    aktobe = [m.place for m in index.search("Ақтөбе", limit=6)]
    assert not [p for p in aktobe if p.name_ru.startswith("ферма")]  # 14 villages of that name come first


@pytest.mark.parametrize("noise", ["Kazakhtelecom", "Казахтелеком", "hello", "123", "не работает", "Tele2"])
def test_nothing_rather_than_noise(index: VillageIndex, noise: str) -> None:
    assert index.search(noise) == []


async def test_browsing_bayanaul_district_reaches_each_village_in_four_pages(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "kato.db")
    try:
        assert (await import_kato(database, KATO_CSV)).ok
        async with database.read() as conn:
            villages = [
                v for v in await places.villages_in(conn, "553600000") if v.kind in ("village", "town")
            ]
        reached: dict[str, int] = {}
        for language in ("kk", "ru"):
            okrug_page = await service.browse(database, "okrugs", "553600000", 0, language)
            assert okrug_page is not None
            for number in range(okrug_page.pages):
                listed = await service.browse(database, "okrugs", "553600000", number, language)
                assert listed is not None and len(listed.entries) <= 8
                for okrug in listed.entries:
                    first = await service.browse(database, "places", okrug.code, 0, language)
                    assert first is not None
                    for place_number in range(first.pages):
                        page = await service.browse(database, "places", okrug.code, place_number, language)
                        assert page is not None and len(page.entries) <= 8
                        labels = [entry.label for entry in page.entries]
                        assert len(set(labels)) == len(labels)
                        for entry in page.entries:
                            reached[entry.code] = max(reached.get(entry.code, 0), number + place_number + 2)
        assert {v.code for v in villages} <= set(reached)
        assert max(reached[v.code] for v in villages) <= 4
    finally:
        await database.close()
