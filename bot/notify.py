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
    text: str
    keyboard: InlineKeyboardMarkup | None = None


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
