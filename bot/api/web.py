"""What every API handler shares: the services, the client's language, answers in JSON or XML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.api.config import ApiSettings
from bot.api.keys import RateLimiter
from bot.api.texts import ERRORS, language_of, plain, words
from bot.clock import Clock
from bot.config import Language, Settings
from bot.i18n import Translator
from db.api import ApiKey
from db.database import Database


@dataclass
class Api:
    """The API's long-lived parts, kept on the aiohttp application."""

    db: Database
    settings: Settings
    api_settings: ApiSettings
    clock: Clock
    limiter: RateLimiter = field(default_factory=RateLimiter)


API = web.AppKey("api", Api)
# The key the request came with (None: anonymous), set by the middleware for the request's task.
current_key: ContextVar[ApiKey | None] = ContextVar("api_key", default=None)


def api_of(request: web.Request) -> Api:
    return request.app[API]


def key_of(request: web.Request) -> ApiKey | None:
    return current_key.get()


def language(request: web.Request) -> Language:
    return language_of(
        request.query.get("locale"),
        request.headers.get("Accept-Language"),
        api_of(request).settings.default_language,
    )


def translator_for(request: web.Request) -> Translator:
    return words(language(request))


def local_time(request: web.Request, moment: datetime | None) -> str | None:
    """ISO 8601 in the configured zone, e.g. 2026-03-01T14:05:00+05:00."""
    if moment is None:
        return None
    return moment.astimezone(api_of(request).settings.zone).isoformat(timespec="seconds")


def json_answer(
    data: Any,
    *,
    status: int = 200,
    content_type: str = "application/json",
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    return web.Response(
        body=json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(),
        status=status,
        content_type=content_type,
        charset="utf-8",
        headers=headers,
    )


# Open311 XML: a list's items are named by the singular of the list's element.
_ITEM_TAGS = {
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}


def _fill(parent: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for name, inner in value.items():
            child = ET.SubElement(parent, name)
            _fill(child, inner)
    elif isinstance(value, list | tuple):
        tag = _ITEM_TAGS.get(parent.tag, "item")
        for inner in value:
            child = ET.SubElement(parent, tag)
            _fill(child, inner)
    elif isinstance(value, bool):
        parent.text = "true" if value else "false"
    elif value is not None:
        parent.text = str(value)


def xml_answer(
    root: str, item: str | None, data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """``<root><item>…</item>…</root>`` for a list (``item`` names its elements), or ``<root>…</root>``."""
    element = ET.Element(root)
    if item is None:
        _fill(element, data)
    else:
        for entry in data:
            _fill(ET.SubElement(element, item), entry)
    body = ET.tostring(element, encoding="utf-8", xml_declaration=True)
    return web.Response(body=body, status=status, content_type="text/xml", charset="utf-8", headers=headers)


def wants_xml(request: web.Request) -> bool:
    return request.path.endswith(".xml")


class Refusal(Exception):
    """An error answer: an HTTP status and the words for it."""

    def __init__(
        self, status: int, code: str, /, headers: Mapping[str, str] | None = None, **params: object
    ) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.params = params
        self.headers = dict(headers or {})


def refusal_answer(request: web.Request, refusal: Refusal) -> web.Response:
    """Open311's error list under /open311/ (JSON or XML by the address), ``{"errors": […]}`` elsewhere."""
    description = plain(translator_for(request), ERRORS[refusal.code], **refusal.params)
    errors = [{"code": refusal.status, "description": description}]
    if request.path.startswith("/open311/"):
        if wants_xml(request):
            return xml_answer("errors", "error", errors, status=refusal.status, headers=refusal.headers)
        return json_answer(errors, status=refusal.status, headers=refusal.headers)
    return json_answer({"errors": errors}, status=refusal.status, headers=refusal.headers)


def one_of(values: Sequence[str], text: str | None, name: str) -> list[str]:
    """A comma-separated filter whose every entry must be known."""
    if not text:
        return []
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    for value in chosen:
        if value not in values:
            raise Refusal(400, "bad_parameter", name=name, value=value)
    return chosen


def whole_number(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query.get(name)
    if text is None or text == "":
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise Refusal(400, "bad_parameter", name=name, value=text)
    return int(text)
