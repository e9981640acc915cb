"""The village status feed and the OpenAPI document, read over HTTP as another system would."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from bot.api.server import build_api, openapi_document
from bot.places.rollout import NewInstallation, record_installation
from tests.api_support import (
    BAYANAUL,
    SHAKAT,
    RunningApi,
    api_settings,
    bot_settings,
    running_api,
    seeded_database,
)

PAVLODAR, BAYANAUL_DISTRICT = "550000000", "553600000"


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[RunningApi]:
    db = await seeded_database(tmp_path / "feed.db")
    try:
        async with running_api(db, bot_settings(tmp_path / "feed.db")) as running:
            yield running
    finally:
        await db.close()


async def body(api: RunningApi, path: str, **params: str) -> dict:  # type: ignore[type-arg]
    response = await api.get(path, **params)
    assert response.status == 200, await response.text()
    return json.loads(await response.read())  # type: ignore[no-any-return]


async def test_villages_page_by_page_with_totals_and_filters(api: RunningApi) -> None:
    first = await body(api, "/api/v1/villages", limit="2")
    assert (first["total"], first["limit"], first["offset"], len(first["villages"])) == (1248, 2, 0, 2)
    assert first["next"].endswith("offset=2&limit=2") or "offset=2" in first["next"]
    codes = [v["kato"] for v in first["villages"]]
    assert codes == sorted(codes)
    following = await body(api, first["next"])
    assert following["offset"] == 2 and following["villages"][0]["kato"] > codes[-1]

    connected = await body(api, "/api/v1/villages", region=PAVLODAR, stage="connected", limit="1000")
    assert connected["total"] == len(connected["villages"]) and connected["next"] is None
    assert all(v["stage"] == "connected" and v["region"]["kato"] == PAVLODAR for v in connected["villages"])
    bayanaul = next(v for v in connected["villages"] if v["kato"] == BAYANAUL)
    assert bayanaul["name"]["kk"] == "Баянауыл"
    assert bayanaul["district"] == {
        "kato": BAYANAUL_DISTRICT,
        "name": {"kk": "Баянауыл ауданы", "ru": "Баянаульский район"},
    }
    assert bayanaul["planned"] == {"year": 2024, "quarter": 3}
    assert (bayanaul["operator"], bayanaul["technology"]) == ("Kazakhtelecom", "fibre")
    assert bayanaul["location"] == {"lat": 50.79, "long": 75.7}
    assert bayanaul["buildings"] == {"total": 4, "online": 3}

    district = await body(api, "/api/v1/villages", district=BAYANAUL_DISTRICT, stage="design,construction")
    assert district["total"] >= 1 and {v["stage"] for v in district["villages"]} <= {"design", "construction"}

    for params in (
        {"stage": "finished"},
        {"region": "55"},
        {"limit": "0"},
        {"limit": "5000"},
        {"offset": "-1"},
    ):
        response = await api.get("/api/v1/villages", **params)
        assert response.status == 400, params
        assert json.loads(await response.read())["errors"][0]["code"] == 400


async def test_a_village_with_its_buildings_speeds_and_open_outages(api: RunningApi) -> None:
    async with api.db.transaction() as tx:
        await record_installation(
            tx,
            NewInstallation(SHAKAT, None, "school", "№2 мектеп", "fibre", 95.5),
            staff_id=1,
            source_key="t:1",
            now=api.clock.now(),
        )
    village = await body(api, f"/api/v1/villages/{SHAKAT}")
    # A school online does not make the village connected for homes: staff say when it is.
    assert village["kato"] == SHAKAT and village["stage"] == "construction"
    assert village["change_reason"] == "installed" and village["changed_at"].endswith("+05:00")
    school = next(b for b in village["buildings"]["items"] if b["name"] == "№2 мектеп")
    assert (school["kind"], school["connected"], school["technology"], school["speed_mbps"]) == (
        "school",
        True,
        "fibre",
        95.5,
    )
    assert school["connected_at"].endswith("+05:00")
    assert village["buildings"]["online"] >= 1 and village["open_outages"] == []

    assert (await api.get("/api/v1/villages/559999999")).status == 404
    assert (await api.get("/api/v1/villages/abc")).status == 400


async def test_villages_as_a_geojson_feature_collection(api: RunningApi) -> None:
    response = await api.get("/api/v1/villages.geojson", region=PAVLODAR)
    assert response.status == 200 and response.content_type == "application/geo+json"
    collection = json.loads(await response.read())
    assert collection["type"] == "FeatureCollection" and "crs" not in collection
    features = collection["features"]
    assert features and all(f["type"] == "Feature" and f["geometry"]["type"] == "Point" for f in features)
    bayanaul = next(f for f in features if f["id"] == BAYANAUL)
    # RFC 7946: longitude first.
    assert bayanaul["geometry"]["coordinates"] == [75.7, 50.79]
    assert bayanaul["properties"]["stage"] == "connected" and "location" not in bayanaul["properties"]
    for feature in features:
        longitude, latitude = feature["geometry"]["coordinates"]
        assert 46 <= longitude <= 88 and 40 <= latitude <= 56  # Kazakhstan
    everywhere = json.loads(await (await api.get("/api/v1/villages.geojson")).read())
    assert len(everywhere["features"]) == 26  # every demo village with coordinates, none without


def test_the_openapi_document_validates_and_describes_every_route(tmp_path: Path) -> None:
    document = json.loads(openapi_document())
    validate(document)
    app = build_api(None, bot_settings(tmp_path / "x.db"), api_settings())  # type: ignore[arg-type]
    served = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter", "")
        served.add((route.method.lower(), path))
    described = {(method, path) for path, operations in document["paths"].items() for method in operations}
    assert {(m, p) for m, p in served if m != "head"} == described


async def test_the_openapi_document_is_served(api: RunningApi) -> None:
    response = await api.get("/api/openapi.json")
    assert response.status == 200
    assert json.loads(await response.read())["openapi"].startswith("3.")
