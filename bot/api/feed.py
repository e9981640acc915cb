"""The village status feed under ``/api/v1/``: the programme's progress as open data.

Public and read-only: every village with its stage, planned quarter, operator and technology, its
buildings with their measured speeds, and a GeoJSON map layer (RFC 7946: longitude first, WGS 84).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.api.web import Refusal, api_of, json_answer, local_time, one_of, whole_number
from db import api as queries
from db.api import PublicVillage
from db.places import STAGES

routes = web.RouteTableDef()
MAX_PAGE = 1000


def _area_code(request: web.Request, name: str) -> str | None:
    text = request.query.get(name)
    if not text:
        return None
    if not (text.isdigit() and len(text) == 9):
        raise Refusal(400, "bad_parameter", name=name, value=text)
    return text


def _filters(request: web.Request) -> dict[str, Any]:
    return {
        "region": _area_code(request, "region"),
        "district": _area_code(request, "district"),
        "stages": one_of(STAGES, request.query.get("stage"), "stage"),
    }


def _village(request: web.Request, village: PublicVillage, *, location: bool = True) -> dict[str, Any]:
    item: dict[str, Any] = {
        "kato": village.code,
        "name": {"kk": village.name_kk, "ru": village.name_ru},
        "region": {"kato": village.region_code, "name": {"kk": village.region_kk, "ru": village.region_ru}},
        "district": {
            "kato": village.district_code,
            "name": {"kk": village.district_kk, "ru": village.district_ru},
        },
        "stage": village.stage,
        "planned": (
            {"year": village.planned_year, "quarter": village.planned_quarter}
            if village.planned_year is not None
            else None
        ),
        "operator": village.operator,
        "technology": village.technology,
        "planned_technology": village.planned_technology,
        "population": village.population,
        "buildings": {"total": village.buildings, "online": village.buildings_online},
        "changed_at": local_time(request, village.changed_at),
        "change_reason": village.change_reason,
    }
    if location:
        item["location"] = (
            {"lat": village.latitude, "long": village.longitude}
            if village.latitude is not None and village.longitude is not None
            else None
        )
    return item


@routes.get("/api/v1/villages")
async def villages(request: web.Request) -> web.Response:
    """One page of villages in KATO order, with how many match."""
    api = api_of(request)
    filters = _filters(request)
    limit = whole_number(request, "limit", 100, 1, MAX_PAGE)
    offset = whole_number(request, "offset", 0, 0, 10_000_000)
    async with api.db.read() as conn:
        total, page = await queries.village_page(conn, limit=limit, offset=offset, **filters)
    following = offset + len(page)
    next_url = (
        str(request.rel_url.update_query({"offset": str(following), "limit": str(limit)}))
        if following < total
        else None
    )
    return json_answer(
        {
            "total": total,
            "limit": limit,
            "offset": offset,
            "next": next_url,
            "villages": [_village(request, village) for village in page],
        }
    )


@routes.get("/api/v1/villages.geojson")
async def villages_geojson(request: web.Request) -> web.Response:
    """Villages that have coordinates, as a GeoJSON FeatureCollection (same filters as the list)."""
    api = api_of(request)
    filters = _filters(request)
    async with api.db.read() as conn:
        located = await queries.located_villages(conn, **filters)
    features = [
        {
            "type": "Feature",
            "id": village.code,
            "geometry": {"type": "Point", "coordinates": [village.longitude, village.latitude]},
            "properties": _village(request, village, location=False),
        }
        for village in located
    ]
    return json_answer(
        {"type": "FeatureCollection", "features": features}, content_type="application/geo+json"
    )


@routes.get("/api/v1/villages/{kato}")
async def village(request: web.Request) -> web.Response:
    """One village with its buildings (speeds as measured at installation) and its open outages."""
    code = request.match_info["kato"]
    if not (code.isdigit() and len(code) == 9):
        raise Refusal(400, "bad_parameter", name="kato", value=code)
    api = api_of(request)
    async with api.db.read() as conn:
        found = await queries.public_village(conn, code)
        buildings = await queries.public_buildings(conn, code) if found else []
        outages = await queries.open_outages(conn, code) if found else []
    if found is None:
        raise Refusal(404, "unknown_village", value=code)
    item = _village(request, found)
    item["buildings"]["items"] = [
        {
            "id": building.id,
            "kind": building.kind,
            "name": building.name,
            "connected": building.connected,
            "technology": building.technology,
            "speed_mbps": building.speed_mbps,
            "connected_at": local_time(request, building.connected_at),
        }
        for building in buildings
    ]
    item["open_outages"] = [
        {"service_code": kind, "state": state, "opened_at": local_time(request, opened), "reports": reports}
        for kind, state, opened, reports in outages
    ]
    return json_answer(item)
