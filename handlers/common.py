"""Pieces the feature handlers share while they move onto ``bot.ui`` and ``bot.flows``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot import ui
from bot.callbacks import CallbackData
from bot.context import BotContext
from bot.core.callbacks import MenuCb
from bot.core.texts import ROLE_NAMES
from bot.flows import cancel as cancel_flow
from bot.ui import MAX_FREE_TEXT, answer_the_question, back_to_menu, button, keyboard, refuse, requires
from bot.ui import stale as stale_button
from db import drafts
from db.models import Role

__all__ = [
    "MAX_FREE_TEXT",
    "ROLE_NAMES",
    "MenuCb",
    "answer_the_question",
    "back_to_menu",
    "button",
    "cancel_flow",
    "keyboard",
    "refuse",
    "reply",
    "requires",
    "stale_button",
    "step_filter",
    "update_draft",
    "village_choices",
]


async def reply(
    update: Update,
    context: BotContext,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    *,
    edit: bool = False,
) -> Message | None:
    """Answer in the update's chat; with ``edit``, replace the pressed message instead."""
    return await ui.show(update, context, text, markup, new=not edit)


def village_choices(
    context: BotContext, typed: str, choose: Callable[[str], CallbackData], *, role: Role | None = None
) -> list[list[InlineKeyboardButton]]:
    """Buttons for the villages closest to what was typed ("Name — district, region").

    With ``role``, only villages in the member's area for that role are offered.
    """
    t = context.t
    matches = context.services.villages.search(typed[:MAX_FREE_TEXT], limit=5)
    found = [m.place for m in matches if role is None or context.member.can(role, m.place.code)]
    return [
        [
            button(
                ui.shorten(
                    t._("{village} — {where}", village=p.name(t.language), where=p.where(t.language)), 60
                ),
                choose(p.code),
            )
        ]
        for p in found
    ]


async def update_draft(context: BotContext, flow: str, **changes: Any) -> dict[str, Any]:
    """The member's draft for ``flow`` with ``changes`` merged in (and saved)."""
    async with context.db.transaction() as tx:
        return await drafts.update_draft(tx, context.member.id, flow, changes, context.clock.now())


def step_filter(prefix: str, step: str) -> Callable[[object], bool]:
    """A CallbackQueryHandler pattern for one step of a flow's typed callback data."""
    head = f"{prefix}:{step}:"
    return lambda data: isinstance(data, str) and data.startswith(head)
