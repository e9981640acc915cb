"""Notification kinds: how each queued notification is rendered for its recipient.

A feature registers a renderer per kind; the outbox stores only the kind and JSON parameters and
renders at send time with the recipient's current language.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardMarkup

from bot.i18n import Translator


@dataclass(frozen=True)
class Rendered:
    """What one notification shows.

    ``photo`` (a Telegram file id) is sent as a photo with the text as its caption, ``location`` as a
    map pin (the text is not sent), ``document`` (a file name and its bytes) as a file with the text
    as its caption; ``reply_to_slot`` names a slot whose message in the same chat this one answers
    (shown as a reply, and sent alone if that message is gone). A notification with a slot is edited
    in place, so it is text only.
    """

    text: str
    keyboard: InlineKeyboardMarkup | None = None
    photo: str | None = None
    location: tuple[float, float] | None = None
    document: tuple[str, bytes] | None = None
    reply_to_slot: str | None = None


Renderer = Callable[[Translator, Mapping[str, Any]], Rendered]
_RENDERERS: dict[str, Renderer] = {}


def renderer(kind: str) -> Callable[[Renderer], Renderer]:
    """Register the function that renders notifications of ``kind``."""

    def register(function: Renderer) -> Renderer:
        if kind in _RENDERERS and _RENDERERS[kind] is not function:
            raise ValueError(f"renderer for {kind!r} registered twice")
        _RENDERERS[kind] = function
        return function

    return register


def render(kind: str, t: Translator, params: Mapping[str, Any]) -> Rendered:
    try:
        function = _RENDERERS[kind]
    except KeyError:
        raise LookupError(f"no renderer for notification kind {kind!r}") from None
    return function(t, params)
