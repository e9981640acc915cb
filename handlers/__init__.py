"""Thin Telegram handlers, one module per feature, put together here in one visible order.

Each feature module exposes ``FLOWS`` (its multi-step flows, see ``bot.flows``) and ``HANDLERS``
(everything else it answers). The groups, in the order python-telegram-bot runs them:

* ``-1``: who is writing, in which language (``system.load_member``);
* ``0``: the one conversation holding every feature's flows, so input a flow asked for reaches it
  before anything else; a command or a main-menu button ends the flow and passes on;
* ``1``: every feature's handlers in the order below (the first match wins), then the catch-alls.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from telegram import Update
from telegram.ext import Application, BaseHandler, ConversationHandler, TypeHandler

from bot import flows, ui
from bot.context import BotContext
from handlers import (
    admin,
    announcements,
    classes_booking,
    classes_register,
    classes_schedule,
    exports,
    imports,
    install,
    menu,
    mydata,
    outages_report,
    outages_staff,
    outbox,
    privacy,
    start,
    stats,
    system,
    villages,
)

FEATURES: tuple[ModuleType, ...] = (
    start,
    menu,
    admin,
    outbox,
    privacy,
    villages,
    install,
    outages_report,
    outages_staff,
    classes_booking,
    classes_schedule,
    classes_register,
    imports,
    stats,
    exports,
    announcements,
    mydata,
)
Handler = BaseHandler[Update, BotContext, Any]


def register_all(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(TypeHandler(Update, system.load_member), group=-1)
    app.add_handler(flows.build([flow for feature in FEATURES for flow in feature.FLOWS]), group=0)
    for feature in FEATURES:
        app.add_handlers(feature.HANDLERS, group=1)
    app.add_handlers(system.FALLBACKS, group=1)  # last resort answers, after every feature
    app.add_error_handler(system.on_error)
    for group, handlers in app.handlers.items():
        if group >= 0:
            for handler in handlers:
                _settle(handler)


def _settle(handler: Handler) -> None:
    """Every handler that answers an update leaves no pressed button spinning (``bot.ui.settle``)."""
    if isinstance(handler, ConversationHandler):
        for inner in (
            *handler.entry_points,
            *handler.fallbacks,
            *(h for s in handler.states.values() for h in s),
        ):
            _settle(inner)
    elif not flows.passes_on(handler.callback):
        handler.callback = ui.settle(handler.callback)
