"""Multi-step flows: one set of rules for every conversation the bot holds.

Each feature describes its flows (:class:`Flow`: entry points, named states, the role it needs);
:func:`build` turns all of them into one python-telegram-bot ``ConversationHandler``, which runs
before every other handler (group 0). From that:

* a person is in at most one flow; starting any flow ends the one before;
* any command and any main-menu button ends the current flow, and then does what it always does
  (the other handlers, in group 1, see it);
* what a person sends goes to the flow that asked for it before anything else sees it: a location
  sent while ``/install`` asks for one lands in the installation, not in the village search;
* something the current step does not take gets «Please answer the question above, or press
  Cancel»; «✖️ Cancel» and ``/cancel`` leave the flow and forget its drafts;
* a flow that needs a role checks it at every step, so a role revoked half-way stops the flow
  with the reason.

States are strings named ``"<flow>.<step>"``, kept in SQLite by the persistence, so a half-done flow
survives a restart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import ui
from bot.context import BotContext
from bot.core import texts
from bot.core.callbacks import FlowCb, MenuCb
from db import drafts
from db.models import Role

Handler = BaseHandler[Update, BotContext, Any]
State = str | int  # a step name "<flow>.<step>", or END
NAME = "flows"
END = ConversationHandler.END
TIMEOUT_SECONDS = 1800
PASSES_ON = "_flow_passes_on"  # marks a callback after which other handlers still see the update


@dataclass(frozen=True)
class Flow:
    """One multi-step conversation of a feature."""

    name: str
    entry_points: Sequence[Handler]
    states: Mapping[str, Sequence[Handler]]
    role: Role | None = None
    extra_drafts: Sequence[str] = field(default_factory=tuple)

    def state(self, step: str) -> str:
        return f"{self.name}.{step}"


def build(flows: Sequence[Flow]) -> ConversationHandler[BotContext]:
    """The one conversation holding every flow; add it in group 0, before everything else."""
    entry_points: list[Handler] = []
    states: dict[object, list[Handler]] = {}
    for flow in flows:
        for handler in flow.entry_points:
            entry_points.append(_stopping(handler, flow, first_step=True))
        for state, handlers in flow.states.items():
            if not state.startswith(flow.name + ".") or state in states:
                raise ValueError(
                    f"flow {flow.name}: state {state!r} must be new and start with {flow.name!r}"
                )
            states[state] = [_stopping(handler, flow, first_step=False) for handler in handlers]
            # Anything else sent at this step (text, a photo, a sticker…) is answered here, so it
            # never reaches a handler outside the flow.
            states[state].append(
                _stopping(MessageHandler(~filters.COMMAND, ui.answer_the_question), flow, first_step=False)
            )
    fallbacks: list[Handler] = [
        _stopping(CallbackQueryHandler(cancel, pattern=FlowCb.filter()), None, first_step=False),
        _stopping(CommandHandler("cancel", cancel), None, first_step=False),
        _passing_on(MessageHandler(filters.COMMAND, _leave)),
        _passing_on(CallbackQueryHandler(_leave, pattern=MenuCb.filter())),
    ]
    return ConversationHandler(
        entry_points=entry_points,
        states=states,
        fallbacks=fallbacks,
        name=NAME,
        persistent=True,
        allow_reentry=True,
        conversation_timeout=TIMEOUT_SECONDS,
    )


def _stopping(handler: Handler, flow: Flow | None, *, first_step: bool) -> Handler:
    """Run a step, then stop: no handler outside the flow sees this update."""
    step = handler.callback

    async def run(update: Update, context: BotContext) -> object:
        if flow is not None and flow.role is not None and not _holds(context, flow.role):
            t = context.t
            role = t._(texts.ROLE_NAMES[flow.role])
            reason = texts.ONLY_FOR_ROLE if first_step else texts.ROLE_TAKEN_MIDWAY
            await ui.refuse(update, context, t._(reason, role=role))
            raise ApplicationHandlerStop(END)
        raise ApplicationHandlerStop(await step(update, context))

    handler.callback = run
    return handler


def _holds(context: BotContext, role: Role) -> bool:
    return context.has_member and context.member.holds(role)


def _passing_on(handler: Handler) -> Handler:
    setattr(handler.callback, PASSES_ON, True)
    return handler


async def _leave(update: Update, context: BotContext) -> State:
    """A command or a main-menu button ends the flow; the handlers after the flows then answer it."""
    return END


async def cancel(update: Update, context: BotContext) -> State:
    """«✖️ Cancel» or /cancel: leave the flow and forget what it had collected."""
    t = context.t
    if context.has_member:
        async with context.db.transaction() as tx:
            await drafts.clear_all(tx, context.member.id)
    await ui.show(update, context, t._(texts.CANCELLED), ui.keyboard([ui.back_to_menu(t)]))
    return END


def passes_on(callback: Callable[..., object]) -> bool:
    return bool(getattr(callback, PASSES_ON, False))
