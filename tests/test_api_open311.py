"""Open311 GeoReport v2 over HTTP: another system reads services and reports, and files reports."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import Clock
from bot.outages.service import resolve, take
from db import audit
from tests.api_support import (
    AKTOBE_VILLAGE,
    BAYANAUL,
    SHAKAT,
    RunningApi,
    bot_settings,
    running_api,
    seeded_database,
)
from tests.test_classes_rules import person

LOCAL_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+05:00$")


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[RunningApi]:
    db = await seeded_database(tmp_path / "api.db")
    try:
        async with running_api(db, bot_settings(tmp_path / "api.db", reports_per_hour=3)) as running:
            yield running
    finally:
        await db.close()


def xml_of(body: bytes) -> ET.Element:
    return ET.fromstring(body)


async def file(api: RunningApi, key: str, **fields: str) -> dict[str, str]:
    response = await api.post("/open311/v2/requests.json", {"api_key": key, **fields})
    assert response.status in (200, 201), await response.text()
    [answer] = json.loads(await response.read())
    return answer  # type: ignore[no-any-return]


async def test_discovery_in_json_and_xml(api: RunningApi) -> None:
    response = await api.get("/open311/v2/discovery.json")
    assert response.status == 200 and response.content_type == "application/json"
    found = json.loads(await response.read())
    [endpoint] = found["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == f"{api.url}/open311/v2"
    assert endpoint["formats"] == ["application/json", "text/xml"]

    response = await api.get("/open311/v2/discovery.xml")
    assert response.content_type == "text/xml"
    root = xml_of(await response.read())
    assert root.tag == "discovery"
    endpoint_xml = root.find("endpoints/endpoint")
    assert endpoint_xml is not None
    assert endpoint_xml.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert [f.text for f in endpoint_xml.findall("formats/format")] == ["application/json", "text/xml"]


async def test_services_are_the_outage_kinds_named_in_kazakh_or_russian(api: RunningApi) -> None:
    kk = json.loads(await (await api.get("/open311/v2/services.json", locale="kk_KZ")).read())
    ru = json.loads(await (await api.get("/open311/v2/services.json", locale="ru")).read())
    assert [s["service_code"] for s in kk] == ["home", "school", "medical", "akimat", "village", "mobile"]
    assert kk[0]["service_name"] == "Үй интернетіндегі ақау"
    assert ru[0]["service_name"] == "Сбой домашнего интернета"
    assert ru[4]["service_name"] == "Всё село без интернета"
    assert all(s["metadata"] is True and s["type"] == "realtime" for s in ru)

    response = await api.get("/open311/v2/services.xml", locale="ru_RU")
    root = xml_of(await response.read())
    assert root.tag == "services"
    services = root.findall("service")
    assert [s.findtext("service_code") for s in services][:2] == ["home", "school"]
    assert services[5].findtext("service_name") == "Сбой мобильного интернета"
    assert services[0].findtext("metadata") == "true"

    # Without a locale, Accept-Language decides.
    response = await api.http.get(
        f"{api.url}/open311/v2/services.json", headers={"Accept-Language": "ru-RU,ru;q=0.9"}
    )
    assert json.loads(await response.read())[1]["service_name"] == "Сбой интернета в школе"


async def test_a_service_definition_lists_its_attributes(api: RunningApi) -> None:
    found = json.loads(await (await api.get("/open311/v2/services/home.json", locale="ru")).read())
    assert found["service_code"] == "home"
    since, publish = found["attributes"]
    assert (since["code"], since["datatype"], since["required"], since["order"]) == (
        "SINCE",
        "singlevaluelist",
        False,
        1,
    )
    assert [v["key"] for v in since["values"]] == ["now", "today", "yesterday", "days"]
    assert since["values"][2]["name"] == "Со вчерашнего дня"
    assert publish["code"] == "PUBLISH" and [v["key"] for v in publish["values"]] == ["no", "yes"]

    root = xml_of(await (await api.get("/open311/v2/services/mobile.xml", locale="kk")).read())
    assert root.tag == "service_definition" and root.findtext("service_code") == "mobile"
    attributes = root.findall("attributes/attribute")
    assert [a.findtext("code") for a in attributes] == ["SINCE", "PUBLISH"]
    assert attributes[0].findtext("variable") == "true"
    assert [v.findtext("key") for v in attributes[0].findall("values/value")] == [
        "now",
        "today",
        "yesterday",
        "days",
    ]
    assert attributes[0].findall("values/value")[0].findtext("name") == "Жаңа ғана"

    missing = await api.get("/open311/v2/services/water.json", locale="ru")
    assert missing.status == 404
    assert json.loads(await missing.read()) == [{"code": 404, "description": "Нет услуги с кодом water."}]
    missing_xml = await api.get("/open311/v2/services/water.xml", locale="kk")
    root = xml_of(await missing_xml.read())
    assert missing_xml.status == 404 and root.tag == "errors"
    assert (
        root.findtext("error/code") == "404"
        and root.findtext("error/description") == "water коды бар қызмет жоқ."
    )


async def test_a_write_key_files_a_report_which_reads_back_by_id_and_token(api: RunningApi) -> None:
    key = await api.key("e-Akimat Pavlodar", "write", area="55")
    filed = await file(
        api,
        key,
        service_code="home",
        address_id=BAYANAUL,
        description="Нет сети с утра",
        account_id="citizen-17",
    )
    assert filed["service_request_id"] == "AN-000001"
    assert filed["service_notice"] in ("AN-000001 өтініш қабылданды; инженерлерге хабар берілді.",)
    assert filed["token"]

    response = await api.get("/open311/v2/requests/AN-000001.json", locale="ru")
    [found] = json.loads(await response.read())
    assert found["service_request_id"] == "AN-000001"
    assert (found["status"], found["service_code"], found["service_name"]) == (
        "open",
        "home",
        "Сбой домашнего интернета",
    )
    assert found["status_notes"] == "Новая: инженеры в курсе."
    assert found["address_id"] == BAYANAUL and found["address"].startswith("Баянаул")
    assert (found["lat"], found["long"]) == (50.79, 75.7)
    assert found["agency_responsible"] == "Kazakhtelecom"
    assert LOCAL_TIME.match(found["requested_datetime"]) and LOCAL_TIME.match(found["updated_datetime"])
    assert LOCAL_TIME.match(found["expected_datetime"])
    assert found["description"] is None  # the reporter did not agree to publish it

    root = xml_of(await (await api.get("/open311/v2/requests/1.xml", locale="kk")).read())
    assert root.tag == "service_requests"
    request = root.find("request")
    assert request is not None
    assert request.findtext("service_request_id") == "AN-000001" and request.findtext("status") == "open"
    assert request.findtext("lat") == "50.79" and request.findtext("long") == "75.7"
    assert request.findtext("address_id") == BAYANAUL
    assert request.findtext("description") == ""

    token = filed["token"]
    assert json.loads(await (await api.get(f"/open311/v2/tokens/{token}.json")).read()) == [
        {"service_request_id": "AN-000001", "token": token}
    ]
    root = xml_of(await (await api.get(f"/open311/v2/tokens/{token}.xml")).read())
    assert (
        root.findtext("request/service_request_id") == "AN-000001" and root.findtext("request/token") == token
    )
    assert (await api.get("/open311/v2/tokens/nothing.json")).status == 404
    assert (await api.get("/open311/v2/requests/AN-000999.json")).status == 404

    async with api.db.read() as conn:
        [entry] = await audit.entries_for(conn, "report:1")
        row = await (
            await conn.execute(
                "SELECT r.user_id, n.text FROM reports r JOIN report_notes n ON n.report_id = r.id WHERE r.id = 1"
            )
        ).fetchone()
    assert entry.action == "api.report" and entry.detail["client"] == "e-Akimat Pavlodar"
    assert row is not None and row[0] <= -(2**53) and row[1] == "Нет сети с утра"


async def test_the_post_answer_in_xml(api: RunningApi) -> None:
    key = await api.key("Operator", "write")
    response = await api.post(
        "/open311/v2/requests.xml", {"api_key": key, "service_code": "school", "address_id": AKTOBE_VILLAGE}
    )
    assert response.status == 201
    root = xml_of(await response.read())
    assert root.tag == "service_requests"
    assert root.findtext("request/service_request_id") == "AN-000001"
    assert root.findtext("request/token")


async def test_filing_is_refused_without_a_write_key_for_the_area(api: RunningApi) -> None:
    reader = await api.key("Dashboard", "read")
    pavlodar = await api.key("e-Akimat Pavlodar", "write", area="55")
    form = {"service_code": "home", "address_id": BAYANAUL}

    no_key = await api.post("/open311/v2/requests.json", form)
    assert no_key.status == 403
    assert json.loads(await no_key.read())[0]["code"] == 403
    read_only = await api.post("/open311/v2/requests.json?locale=ru", {"api_key": reader, **form})
    assert read_only.status == 403
    assert json.loads(await read_only.read())[0]["description"] == (
        "Этот api_key только для чтения; чтобы подать заявку, нужен ключ на запись."
    )
    forged = await api.post("/open311/v2/requests.json", {"api_key": "aun_forged", **form})
    assert forged.status == 403
    outside = await api.post(
        "/open311/v2/requests.xml?locale=ru",
        {"api_key": pavlodar, "service_code": "home", "address_id": AKTOBE_VILLAGE},
    )
    assert outside.status == 403
    assert xml_of(await outside.read()).findtext("error/description") == (
        "С этим api_key можно подавать заявки только по сёлам территории 55."
    )
    unknown = await api.post(
        "/open311/v2/requests.json", {"api_key": pavlodar, "service_code": "home", "address_id": "559999999"}
    )
    assert unknown.status == 400
    wrong_service = await api.post(
        "/open311/v2/requests.json", {"api_key": pavlodar, "service_code": "gas", "address_id": BAYANAUL}
    )
    assert wrong_service.status == 400
    nowhere = await api.post("/open311/v2/requests.json", {"api_key": pavlodar, "service_code": "home"})
    assert nowhere.status == 400
    async with api.db.read() as conn:
        assert (await (await conn.execute("SELECT count(*) FROM reports")).fetchone())[0] == 0  # type: ignore[index]

    # A revoked key stops working at once.
    from bot.api import keys

    [key_row] = [k for k in await keys.list_keys(api.db) if k.client_name == "e-Akimat Pavlodar"]
    assert await keys.revoke_key(api.db, key_row.id, api.clock.now())
    revoked = await api.post("/open311/v2/requests.json", {"api_key": pavlodar, **form})
    assert revoked.status == 403


async def test_a_village_without_a_network_yet_takes_only_mobile_outages(api: RunningApi) -> None:
    key = await api.key("e-Akimat Pavlodar", "write", area="55")
    refused = await api.post(
        "/open311/v2/requests.json?locale=ru",
        {"api_key": key, "service_code": "village", "address_id": SHAKAT},
    )
    assert refused.status == 400
    assert json.loads(await refused.read())[0]["description"] == (
        "Село 556069100 ещё не подключено (этап: строительство, срок: 2026 год, 4-й квартал): там нет сети, "
        "в которой мог бы быть сбой. О сбое мобильного интернета сообщить можно."
    )
    mobile = await file(api, key, service_code="mobile", address_id=SHAKAT)
    assert mobile["service_request_id"] == "AN-000001"


async def test_a_point_is_matched_to_the_nearest_village(api: RunningApi) -> None:
    key = await api.key("Operator", "write")
    filed = await file(api, key, service_code="home", lat="50.7915", long="75.7012")
    [found] = json.loads(
        await (await api.get(f"/open311/v2/requests/{filed['service_request_id']}.json")).read()
    )
    assert found["address_id"] == BAYANAUL
    far = await api.post(
        "/open311/v2/requests.json", {"api_key": key, "service_code": "home", "lat": "45.0", "long": "60.0"}
    )
    assert far.status == 400


async def test_residents_rules_apply_to_reports_from_other_systems(api: RunningApi) -> None:
    key = await api.key("e-Akimat Pavlodar", "write", area="55")
    first = await file(api, key, service_code="village", address_id=BAYANAUL, account_id="a-1")
    # The same resident again: their existing report, nothing new.
    again = await api.post(
        "/open311/v2/requests.json",
        {"api_key": key, "service_code": "village", "address_id": BAYANAUL, "account_id": "a-1"},
    )
    assert again.status == 200
    assert json.loads(await again.read())[0]["service_request_id"] == first["service_request_id"]
    # Another resident of that system: a new report joining the same incident.
    neighbour = await file(
        api, key, service_code="village", address_id=BAYANAUL, device_id="phone-2", locale="ru"
    )
    assert neighbour["service_request_id"] == "AN-000002"
    # A client retrying a POST with an Idempotency-Key files nothing new.
    retry = {"api_key": key, "service_code": "home", "address_id": BAYANAUL, "email": "x@example.kz"}
    once = await api.post("/open311/v2/requests.json", retry, headers={"Idempotency-Key": "req-9"})
    twice = await api.post("/open311/v2/requests.json", retry, headers={"Idempotency-Key": "req-9"})
    assert (
        json.loads(await once.read())[0]["service_request_id"]
        == json.loads(await twice.read())[0]["service_request_id"]
    )
    async with api.db.read() as conn:
        incidents = await (
            await conn.execute("SELECT kind, count(*) FROM reports GROUP BY incident_id ORDER BY 1")
        ).fetchall()
    assert [tuple(row) for row in incidents] == [("home", 1), ("village", 2)]

    # The hourly limit per reporter (3 in this test's settings), with Retry-After.
    for kind in ("school", "medical"):
        await file(api, key, service_code=kind, address_id=BAYANAUL, account_id="a-1")
    limited = await api.post(
        "/open311/v2/requests.json?locale=ru",
        {"api_key": key, "service_code": "akimat", "address_id": BAYANAUL, "account_id": "a-1"},
    )
    assert limited.status == 429
    assert 3500 <= int(limited.headers["Retry-After"]) <= 3601
    assert json.loads(await limited.read())[0]["description"].startswith(
        "Этот заявитель подал слишком много заявок"
    )


async def test_a_closed_incident_reads_closed_with_status_notes(api: RunningApi) -> None:
    key = await api.key("Operator", "write")
    filed = await file(api, key, service_code="school", address_id=BAYANAUL)
    number = filed["service_request_id"]
    await take(api.db, person(700, ("staff", "")), 1, api.settings, api.clock.now())
    [taken] = json.loads(await (await api.get(f"/open311/v2/requests/{number}.json", locale="ru")).read())
    assert (taken["status"], taken["status_notes"]) == ("open", "Инженер взял сбой в работу.")
    await resolve(api.db, person(700, ("staff", "")), 1, "power", api.settings, api.clock.now())
    [closed] = json.loads(await (await api.get(f"/open311/v2/requests/{number}.json", locale="ru")).read())
    assert closed["status"] == "closed"
    assert closed["status_notes"] == "Решено: причина — отключение электричества."
    assert closed["expected_datetime"] is None
    root = xml_of(await (await api.get(f"/open311/v2/requests/{number}.xml", locale="kk")).read())
    assert root.findtext("request/status") == "closed"
    assert root.findtext("request/status_notes") == "Шешілді: себебі электр жарығының сөнуі."


async def test_searching_requests_by_service_status_dates_and_ids(api: RunningApi) -> None:
    key = await api.key("Operator", "write")
    clock: Clock = api.clock
    for kind, village in (("home", BAYANAUL), ("school", BAYANAUL), ("home", AKTOBE_VILLAGE)):
        await file(api, key, service_code=kind, address_id=village)
    await resolve(api.db, person(700, ("staff", "")), 2, "fixed", api.settings, clock.now())

    async def ids(**params: str) -> list[str]:
        response = await api.get("/open311/v2/requests.json", **params)
        assert response.status == 200, await response.text()
        return [r["service_request_id"] for r in json.loads(await response.read())]

    assert await ids() == ["AN-000003", "AN-000002", "AN-000001"]  # newest first
    assert await ids(service_code="home") == ["AN-000003", "AN-000001"]
    assert await ids(status="closed") == ["AN-000002"]
    assert await ids(status="open", service_code="home,school") == ["AN-000003", "AN-000001"]
    assert await ids(status="open,closed") == ["AN-000003", "AN-000002", "AN-000001"]
    assert await ids(service_request_id="AN-000002,1") == ["AN-000001", "AN-000002"]
    assert await ids(page_size="2", page="2") == ["AN-000001"]
    later = (clock.now() + timedelta(hours=1)).isoformat()
    earlier = (clock.now() - timedelta(days=1)).isoformat()
    assert await ids(start_date=later) == []
    assert await ids(start_date=earlier, end_date=later) == ["AN-000003", "AN-000002", "AN-000001"]
    assert await ids(end_date=earlier) == []

    root = xml_of(await (await api.get("/open311/v2/requests.xml", status="closed")).read())
    assert [r.findtext("service_request_id") for r in root.findall("request")] == ["AN-000002"]

    for params in (
        {"status": "done"},
        {"service_code": "gas"},
        {"start_date": "yesterday"},
        {"page_size": "0"},
    ):
        response = await api.get("/open311/v2/requests.json", **params)
        assert response.status == 400, params
        assert json.loads(await response.read())[0]["code"] == 400
    too_long = await api.get(
        "/open311/v2/requests.xml",
        start_date="2026-01-01T00:00:00+05:00",
        end_date="2026-06-01T00:00:00+05:00",
    )
    assert too_long.status == 400 and xml_of(await too_long.read()).tag == "errors"


async def test_too_many_requests_get_429_with_retry_after(tmp_path: Path) -> None:
    db = await seeded_database(tmp_path / "limits.db")
    try:
        async with running_api(
            db, bot_settings(tmp_path / "limits.db"), anonymous_per_minute=3, key_per_minute=5
        ) as api:
            statuses = [(await api.get("/open311/v2/services.json")).status for _ in range(4)]
            assert statuses == [200, 200, 200, 429]
            limited = await api.get("/open311/v2/services.xml")
            assert limited.status == 429 and 1 <= int(limited.headers["Retry-After"]) <= 20
            assert xml_of(await limited.read()).findtext("error/code") == "429"
            # A key has its own allowance, apart from the address's.
            token = await api.key("Dashboard", "read")
            assert (await api.get("/open311/v2/services.json", api_key=token)).status == 200
            own = await api.key("Big portal", "read", per_minute=1)
            assert (await api.get("/api/v1/villages", api_key=own)).status == 200
            second = await api.get("/api/v1/villages", api_key=own)
            assert second.status == 429 and int(second.headers["Retry-After"]) >= 1
            assert json.loads(await second.read())["errors"][0]["code"] == 429
    finally:
        await db.close()


async def test_a_wrong_method_or_an_oversized_body_gets_a_clear_answer(api: RunningApi) -> None:
    wrong = await api.http.delete(f"{api.url}/open311/v2/requests.json?locale=ru")
    assert wrong.status == 405 and "GET" in wrong.headers["Allow"]
    assert json.loads(await wrong.read()) == [
        {"code": 405, "description": "Этот адрес не принимает такой метод."}
    ]
    key = await api.key("Operator", "write")
    huge = await api.post(
        "/open311/v2/requests.xml",
        {"api_key": key, "service_code": "home", "address_id": BAYANAUL, "description": "x" * 100_000},
    )
    assert huge.status == 413 and xml_of(await huge.read()).findtext("error/code") == "413"
    unknown = await api.get("/open311/v2/nothing.json")
    assert unknown.status == 404 and json.loads(await unknown.read())[0]["code"] == 404
