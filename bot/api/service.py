"""Rules of the open API: filing a report for another system, and what the public may read.

A report filed through the API goes through the same outage rules as a resident's in Telegram
(``bot.outages.service.file_report``: a duplicate joins the open incident, the hourly limit per
reporter, staff alerted). The API adds its own checks first: a write key, its area, a known village,
and a village that has a network to fail.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from bot.config import Settings
from bot.outages.service import NewReport, OutageError, file_report
from db import api, audit, events
from db.api import ApiKey, PublicRequest, PublicVillage
from db.database import Database

KINDS: tuple[str, ...] = ("home", "school", "medical", "akimat", "village", "mobile")
SINCE: tuple[str, ...] = ("now", "today", "yesterday", "days")
MAX_DESCRIPTION = 1000
MAX_RANGE = timedelta(days=90)
# Open311 fields a client may use to tell its residents apart, in the order they are looked at.
REPORTER_FIELDS: tuple[str, ...] = ("account_id", "device_id", "email", "phone")


class ApiError(ValueError):
    """A request the rules refuse; ``code`` names it (words in ``bot.api.texts.ERRORS``)."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class ApiReport:
    """A report as another system sends it (Open311 POST requests)."""

    service_code: str
    village_code: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    since: str = "now"
    description: str | None = None
    publish_description: bool = False
    reporter: tuple[str, str] | None = None  # (Open311 field, value) naming the resident, if any
    idempotency_key: str | None = None


@dataclass(frozen=True)
class FiledRequest:
    report_id: int
    token: str
    new: bool  # False: this reporter had already reported it, or the same request came again
    joined: bool  # the report joined an incident others had reported
    number: str


def request_number(report_id: int) -> str:
    """The number residents quote (AN-000123) is the Open311 service_request_id."""
    return f"AN-{report_id:06d}"


def parse_request_number(text: str) -> int | None:
    """AN-000123, an-123 or 123 → 123."""
    text = text.strip().upper().removeprefix("AN-")
    return int(text) if text.isdigit() and len(text) <= 12 else None


def has_network(village: PublicVillage) -> bool:
    """A village with a network that can fail: connected, served by some technology, or a building online."""
    return village.stage == "connected" or village.technology is not None or village.buildings_online > 0


def reporter_key(salt: str, reporter: tuple[str, str] | None) -> str:
    """How the client's resident is told apart without keeping what identifies them."""
    if reporter is None:
        return ""
    field, value = reporter
    digest = hmac.new(salt.encode(), f"{field}:{value.strip().lower()}".encode(), hashlib.sha256)
    return digest.hexdigest()


async def file_request(
    db: Database,
    key: ApiKey,
    request: ApiReport,
    *,
    settings: Settings,
    nearest_km: float,
    now: datetime,
) -> FiledRequest:
    """File a report for a client system in one transaction; audited."""
    if key.scope != "write":
        raise ApiError("read_only_key")
    if request.service_code not in KINDS:
        raise ApiError("unknown_service", value=request.service_code)
    if request.since not in SINCE:
        raise ApiError("bad_parameter", name="attribute[SINCE]", value=request.since)
    description = (request.description or "").strip() or None
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise ApiError("too_long", max=MAX_DESCRIPTION)
    idempotency = request.idempotency_key or uuid.uuid4().hex
    async with db.transaction() as tx:
        code = request.village_code
        if code is None:
            if request.latitude is None or request.longitude is None:
                raise ApiError("no_location")
            code = await api.nearest_village(tx, request.latitude, request.longitude, nearest_km)
            if code is None:
                raise ApiError("no_village_near", km=nearest_km)
        village = await api.public_village(tx, code)
        if village is None:
            raise ApiError("unknown_village", value=code)
        if not code.startswith(key.area):
            raise ApiError("outside_area", area=key.area)
        if request.service_code != "mobile" and not has_network(village):
            raise ApiError(
                "not_connected",
                value=code,
                stage=village.stage,
                year=village.planned_year,
                quarter=village.planned_quarter,
            )
        user_id = await api.reporter_account(
            tx,
            client_id=key.client_id,
            client_name=key.client_name,
            reporter_key=reporter_key(key.client_salt, request.reporter),
            now=now,
        )
        try:
            filed = await file_report(
                tx,
                NewReport(
                    user_id=user_id,
                    village_code=code,
                    kind=request.service_code,
                    since=request.since,
                    description=description,
                ),
                source_key=f"api:{key.client_id}:{idempotency}",
                settings=settings,
                now=now,
            )
        except OutageError as error:
            if error.code == "too_many" and error.until is not None:
                raise ApiError("too_many", until=error.until) from None
            raise ApiError(
                "unknown_village" if error.code == "unknown_village" else "internal", value=code
            ) from None
        token = await api.record_api_report(
            tx,
            report_id=filed.report.id,
            client_id=key.client_id,
            key_id=key.id,
            publish_description=request.publish_description,
            token=secrets.token_urlsafe(16),
            now=now,
        )
        await api.key_used(tx, key.id, now)
        await audit.record(
            tx,
            actor_id=user_id,
            subject=f"report:{filed.report.id}",
            action="api.report" if filed.new else "api.report_again",
            detail={
                "client": key.client_name,
                "key": key.id,
                "village": code,
                "kind": request.service_code,
                "incident": filed.incident.id,
                "publish_description": request.publish_description,
            },
            now=now,
        )
    return FiledRequest(
        report_id=filed.report.id,
        token=token,
        new=filed.new,
        joined=filed.incident.reports > 1,
        number=request_number(filed.report.id),
    )


async def requests_by_number(db: Database, numbers: list[int]) -> list[PublicRequest]:
    async with db.read() as conn:
        return await api.requests_by_id(conn, numbers)


async def find_requests(
    db: Database,
    *,
    start: datetime | None,
    end: datetime | None,
    kinds: list[str],
    closed: bool | None,
    limit: int,
    offset: int,
    now: datetime,
) -> list[PublicRequest]:
    """Open311's search: at most 90 days at once, the last 90 days when no dates are given."""
    for kind in kinds:
        if kind not in KINDS:
            raise ApiError("unknown_service", value=kind)
    if start is None and end is None:
        end = now + timedelta(seconds=1)
        start = end - MAX_RANGE
    elif start is None:
        assert end is not None
        start = end - MAX_RANGE
    elif end is None:
        end = min(now + timedelta(seconds=1), start + MAX_RANGE)
    if end - start > MAX_RANGE:
        raise ApiError("range_too_long")
    async with db.read() as conn:
        return await api.find_requests(
            conn, start=start, end=end, kinds=kinds, closed=closed, limit=limit, offset=offset
        )


async def request_for_token(db: Database, token: str) -> int | None:
    async with db.read() as conn:
        return await api.report_for_token(conn, token)


# --- webhooks -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewWebhook:
    webhook: events.Webhook
    secret: str  # shown once


async def add_webhook(db: Database, *, url: str, kinds: list[str], now: datetime) -> NewWebhook:
    """Register a receiver for some event kinds; its signing secret is returned once. Audited."""
    parsed = urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ApiError("bad_parameter", name="URL", value=url)
    chosen = tuple(dict.fromkeys(kind.strip() for kind in kinds if kind.strip()))
    unknown = [kind for kind in chosen if kind not in events.EVENT_KINDS]
    if unknown or not chosen:
        raise ApiError("bad_parameter", name="--events", value=",".join(unknown) or "")
    secret = secrets.token_hex(32)
    async with db.transaction() as tx:
        webhook = await events.add_webhook(tx, url=url, events=chosen, secret=secret, now=now)
        await audit.record(
            tx,
            actor_id=None,
            subject=f"webhook:{webhook.id}",
            action="webhook.add",
            detail={"url": url, "events": list(chosen)},
            now=now,
        )
    return NewWebhook(webhook, secret)


async def remove_webhook(db: Database, webhook_id: int, now: datetime) -> bool:
    async with db.transaction() as tx:
        removed = await events.remove_webhook(tx, webhook_id, now)
        if removed:
            await audit.record(
                tx, actor_id=None, subject=f"webhook:{webhook_id}", action="webhook.remove", now=now
            )
    return removed


async def list_webhooks(db: Database) -> list[events.Webhook]:
    async with db.read() as conn:
        return await events.webhooks(conn)
