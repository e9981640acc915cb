"""Open311 GeoReport v2 under ``/open311/v2/``: discovery, services, requests and tokens, JSON or XML.

Mapping (docs/api.md has it in full): a service is an outage kind; a service request is a report
(ticket) and its ``service_request_id`` the number residents quote (``AN-000123``); its status is
``closed`` once the incident it belongs to is resolved; ``address_id`` is the village's KATO code
and ``lat``/``long`` the village's coordinates (never a point a resident shared).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from bot.api import service
from bot.api.service import KINDS, SINCE, ApiError, ApiReport, FiledRequest
from bot.api.texts import (
    NOT_PLANNED,
    NOTICE_AGAIN,
    NOTICE_JOINED,
    NOTICE_NEW_INCIDENT,
    PUBLISH_QUESTION,
    PUBLISH_VALUES,
    REOPENED_NOTE,
    RESOLVED_NOTES,
    SERVICE_DESCRIPTIONS,
    SERVICE_GROUP,
    SERVICE_KEYWORDS,
    SERVICE_NAMES,
    SINCE_QUESTION,
    SINCE_VALUES,
    STAGE_NAMES,
    STATUS_NOTES,
    plain,
)
from bot.api.web import (
    Refusal,
    api_of,
    json_answer,
    key_of,
    one_of,
    translator_for,
    wants_xml,
    whole_number,
    xml_answer,
)
from bot.i18n import N_, Translator
from db.api import PublicRequest

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this API last changed in a way a client would notice.
CHANGESET = "2026-11-30T00:00:00+05:00"
FORMATS = "{format:json|xml}"
KEY_SERVICE = N_("Keys are issued by the operator of this AuylNet installation.")
PLANNED = N_("{year}, quarter {quarter}")
PLANNED_YEAR = N_("during {year}")

routes = web.RouteTableDef()


def _answer(
    request: web.Request, root: str, item: str | None, data: Any, *, status: int = 200
) -> web.Response:
    if wants_xml(request):
        return xml_answer(root, item, data, status=status)
    return json_answer(data, status=status)


@routes.get(f"/open311/v2/discovery.{FORMATS}")
async def discovery(request: web.Request) -> web.Response:
    """Where the endpoint is and what it speaks."""
    api = api_of(request)
    base = api.api_settings.public_url or f"{request.scheme}://{request.host}"
    t = translator_for(request)
    data = {
        "changeset": CHANGESET,
        "contact": api.api_settings.contact,
        "key_service": plain(t, KEY_SERVICE),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": f"{base.rstrip('/')}/open311/v2",
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
    return _answer(request, "discovery", None, data)


def _service(t: Translator, kind: str) -> dict[str, Any]:
    return {
        "service_code": kind,
        "service_name": plain(t, SERVICE_NAMES[kind]),
        "description": plain(t, SERVICE_DESCRIPTIONS[kind]),
        "metadata": True,
        "type": "realtime",
        "keywords": plain(t, SERVICE_KEYWORDS),
        "group": plain(t, SERVICE_GROUP),
    }


@routes.get(f"/open311/v2/services.{FORMATS}")
async def services(request: web.Request) -> web.Response:
    """One service per outage kind, named in the client's language."""
    t = translator_for(request)
    return _answer(request, "services", "service", [_service(t, kind) for kind in KINDS])


@routes.get(f"/open311/v2/services/{{service_code}}.{FORMATS}")
async def service_definition(request: web.Request) -> web.Response:
    """The attributes a report of this service may carry."""
    kind = request.match_info["service_code"]
    if kind not in KINDS:
        raise Refusal(404, "unknown_service", value=kind)
    t = translator_for(request)
    attributes = [
        {
            "variable": True,
            "code": "SINCE",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": None,
            "order": 1,
            "description": plain(t, SINCE_QUESTION),
            "values": [{"key": key, "name": plain(t, SINCE_VALUES[key])} for key in SINCE],
        },
        {
            "variable": True,
            "code": "PUBLISH",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": None,
            "order": 2,
            "description": plain(t, PUBLISH_QUESTION),
            "values": [{"key": key, "name": plain(t, name)} for key, name in PUBLISH_VALUES.items()],
        },
    ]
    return _answer(request, "service_definition", None, {"service_code": kind, "attributes": attributes})


class _Requests:
    """Renders reports for one answer: names, notes and the time zone looked up once, not per row."""

    def __init__(self, request: web.Request, t: Translator) -> None:
        api = api_of(request)
        self._zone = api.settings.zone
        self._to_resolve = timedelta(hours=api.settings.resolve_within_hours)
        self._kk = t.language == "kk"
        self._names = {kind: plain(t, name) for kind, name in SERVICE_NAMES.items()}
        self._notes = {state: plain(t, note) for state, note in STATUS_NOTES.items()}
        self._resolved = {reason: plain(t, note) for reason, note in RESOLVED_NOTES.items()}
        self._reopened = plain(t, REOPENED_NOTE)

    def _time(self, moment: datetime | None) -> str | None:
        return None if moment is None else moment.astimezone(self._zone).isoformat(timespec="seconds")

    def _status_notes(self, found: PublicRequest) -> str:
        if found.state == "resolved":
            return self._resolved.get(found.resolution or "other", self._resolved["other"])
        if found.state == "open" and found.reopened_at is not None:
            return self._reopened
        return self._notes[found.state]

    def item(self, found: PublicRequest) -> dict[str, Any]:
        closed = found.state == "resolved"
        if self._kk:
            places = (found.village_kk, found.district_kk, found.region_kk)
        else:
            places = (found.village_ru, found.district_ru, found.region_ru)
        updated = max(
            m for m in (found.created_at, found.taken_at, found.resolved_at, found.reopened_at) if m
        )
        expected = None if closed else (found.reopened_at or found.opened_at) + self._to_resolve
        return {
            "service_request_id": service.request_number(found.id),
            "status": "closed" if closed else "open",
            "status_notes": self._status_notes(found),
            "service_name": self._names[found.kind],
            "service_code": found.kind,
            "description": found.description,
            "agency_responsible": found.operator,
            "service_notice": None,
            "requested_datetime": self._time(found.created_at),
            "updated_datetime": self._time(updated),
            "expected_datetime": self._time(expected),
            "address": ", ".join(part for part in places if part),
            "address_id": found.village_code,
            "zipcode": None,
            "lat": found.latitude,
            "long": found.longitude,
            "media_url": None,
        }


def _requests_answer(request: web.Request, found: list[PublicRequest]) -> web.Response:
    render = _Requests(request, translator_for(request))
    return _answer(request, "service_requests", "request", [render.item(one) for one in found])


def _moment(request: web.Request, name: str) -> datetime | None:
    text = request.query.get(name)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "+"))
    except ValueError:
        raise Refusal(400, "bad_date", name=name, value=text) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=api_of(request).settings.zone)
    return moment


def _request_ids(text: str) -> list[int]:
    numbers = []
    for part in text.split(","):
        if not part.strip():
            continue
        number = service.parse_request_number(part)
        if number is None:
            raise Refusal(400, "bad_parameter", name="service_request_id", value=part.strip())
        numbers.append(number)
    return numbers[:1000]


@routes.get(f"/open311/v2/requests.{FORMATS}")
async def find_requests(request: web.Request) -> web.Response:
    """Reports by number, or searched by service, dates and status (the last 90 days by default)."""
    api = api_of(request)
    ids = request.query.get("service_request_id")
    if ids:
        # By the standard, service_request_id overrides every other filter.
        return _requests_answer(request, await service.requests_by_number(api.db, _request_ids(ids)))
    kinds = one_of(KINDS, request.query.get("service_code"), "service_code")
    statuses = set(one_of(("open", "closed"), request.query.get("status"), "status"))
    closed = None if len(statuses) != 1 else statuses == {"closed"}
    page_size = whole_number(request, "page_size", api.api_settings.page_size, 1, 1000)
    page = whole_number(request, "page", 1, 1, 1_000_000)
    try:
        found = await service.find_requests(
            api.db,
            start=_moment(request, "start_date"),
            end=_moment(request, "end_date"),
            kinds=kinds,
            closed=closed,
            limit=page_size,
            offset=(page - 1) * page_size,
            now=api.clock.now(),
        )
    except ApiError as error:
        raise _refusal(request, error) from None
    return _requests_answer(request, found)


@routes.get(f"/open311/v2/requests/{{service_request_id}}.{FORMATS}")
async def one_request(request: web.Request) -> web.Response:
    text = request.match_info["service_request_id"]
    number = service.parse_request_number(text)
    found = await service.requests_by_number(api_of(request).db, [number]) if number is not None else []
    if not found:
        raise Refusal(404, "unknown_request", value=text)
    return _requests_answer(request, found)


@routes.get(f"/open311/v2/tokens/{{token}}.{FORMATS}")
async def token(request: web.Request) -> web.Response:
    """The service_request_id a POST's token stands for."""
    text = request.match_info["token"]
    report_id = await service.request_for_token(api_of(request).db, text)
    if report_id is None:
        raise Refusal(404, "unknown_token", value=text)
    data = [{"service_request_id": service.request_number(report_id), "token": text}]
    return _answer(request, "service_requests", "request", data)


def _float(form: Any, name: str, low: float, high: float) -> float | None:
    text = str(form.get(name) or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise Refusal(400, "bad_parameter", name=name, value=text) from None
    if not low <= value <= high:
        raise Refusal(400, "bad_parameter", name=name, value=text)
    return value


def _village_code(form: Any) -> str | None:
    for name in ("address_id", "address_string"):
        text = str(form.get(name) or "").strip()
        if text.isdigit() and len(text) == 9:
            return text
        if text and name == "address_id":
            raise Refusal(400, "bad_parameter", name=name, value=text)
    return None


def _reporter(form: Any) -> tuple[str, str] | None:
    for name in service.REPORTER_FIELDS:
        value = str(form.get(name) or "").strip()
        if value:
            return name, value
    return None


@routes.post(f"/open311/v2/requests.{FORMATS}")
async def create_request(request: web.Request) -> web.Response:
    """File a report for another system (write key): it becomes an AuylNet report and incident."""
    api = api_of(request)
    key = key_of(request)
    if key is None:
        raise Refusal(403, "no_key")
    form = await request.post()
    kind = str(form.get("service_code") or "").strip()
    if not kind:
        raise Refusal(400, "missing_parameter", name="service_code")
    publish = str(form.get("attribute[PUBLISH]") or "no").strip().lower()
    if publish not in PUBLISH_VALUES:
        raise Refusal(400, "bad_parameter", name="attribute[PUBLISH]", value=publish)
    report = ApiReport(
        service_code=kind,
        village_code=_village_code(form),
        latitude=_float(form, "lat", -90, 90),
        longitude=_float(form, "long", -180, 180),
        since=str(form.get("attribute[SINCE]") or "now").strip(),
        description=str(form.get("description") or "") or None,
        publish_description=publish == "yes",
        reporter=_reporter(form),
        idempotency_key=request.headers.get("Idempotency-Key"),
    )
    try:
        filed = await service.file_request(
            api.db,
            key,
            report,
            settings=api.settings,
            nearest_km=api.api_settings.nearest_village_km,
            now=api.clock.now(),
        )
    except ApiError as error:
        raise _refusal(request, error) from None
    t = translator_for(request)
    data = [
        {
            "service_request_id": filed.number,
            "service_notice": _notice(t, filed),
            "account_id": None,
            "token": filed.token,
        }
    ]
    return _answer(request, "service_requests", "request", data, status=201 if filed.new else 200)


def _notice(t: Translator, filed: FiledRequest) -> str:
    if not filed.new:
        return plain(t, NOTICE_AGAIN, number=filed.number)
    return plain(t, NOTICE_JOINED if filed.joined else NOTICE_NEW_INCIDENT, number=filed.number)


_STATUS = {
    "read_only_key": 403,
    "outside_area": 403,
    "unknown_service": 400,
    "too_many": 429,
}


def _refusal(request: web.Request, error: ApiError) -> Refusal:
    """The rules' refusal as an answer: its status, and its values in words."""
    t = translator_for(request)
    params = dict(error.params)
    headers: dict[str, str] = {}
    if error.code == "too_many":
        until = params.pop("until")
        assert isinstance(until, datetime)
        params["time"] = t.time(until)
        headers["Retry-After"] = str(max(1, int((until - api_of(request).clock.now()).total_seconds()) + 1))
    if error.code == "not_connected":
        params["stage"] = plain(t, STAGE_NAMES.get(str(params["stage"]), "none"))
        year, quarter = params.pop("year"), params.pop("quarter")
        if year is None:
            params["planned"] = plain(t, NOT_PLANNED)
        elif quarter is None:
            params["planned"] = plain(t, PLANNED_YEAR, year=str(year))
        else:
            params["planned"] = plain(t, PLANNED, quarter=str(quarter), year=str(year))
    return Refusal(_STATUS.get(error.code, 400), error.code, headers=headers, **params)
