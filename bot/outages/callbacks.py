"""Buttons of the outage flow, shared by the handlers and the notification renderers."""

from __future__ import annotations

from bot.callbacks import CallbackData


class StaffCb(CallbackData, prefix="oi"):
    """A staff action on an incident: take, progress, resolve (then a reason)."""

    incident: int
    action: str
    reason: str | None = None


class FixedCb(CallbackData, prefix="of"):
    """A reporter's answer to "Is it working now?"."""

    incident: int
    working: bool
