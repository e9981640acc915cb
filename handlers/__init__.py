"""One module per feature; ``register_all`` adds them to the application in order.

A feature module exposes ``register(app)`` and, when it keeps something running or loaded,
``async startup(app)`` / ``async shutdown(app)``.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from telegram.ext import Application

from handlers import admin, classes, imports, install, menu, outages, outbox, privacy, start, system, villages

# Order matters within group 0: the first matching handler wins.
FEATURES: tuple[ModuleType, ...] = (
    start,
    menu,
    admin,
    outbox,
    privacy,
    villages,
    install,
    outages,
    classes,
    imports,
)


def register_all(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    system.register_pre(app)
    for feature in FEATURES:
        feature.register(app)
    # Catch-alls last.
    menu.register_fallback(app)
    system.register_fallback(app)


async def startup_all(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    for feature in FEATURES:
        if hasattr(feature, "startup"):
            await feature.startup(app)


async def shutdown_all(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    for feature in reversed(FEATURES):
        if hasattr(feature, "shutdown"):
            await feature.shutdown(app)
