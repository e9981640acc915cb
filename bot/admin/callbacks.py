"""Buttons of administration. Each press is checked again on the server as (role, area)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from bot.callbacks import CallbackData, Id, Kato
from db.models import Role

AdminScreen = Literal["panel", "invite", "roles", "imports", "outbox"]


class AdminCb(CallbackData, prefix="adm"):
    """A screen of the administration panel."""

    screen: AdminScreen


class InviteCb(CallbackData, prefix="inv"):
    """Making an invite: the role, then the area (``area`` None with ``make``: the whole country).

    Without ``make`` the parts of ``area`` are listed (None: the admin's own areas).
    """

    role: Role
    area: Kato | None = None
    make: bool = False


class RolesCb(CallbackData, prefix="rls"):
    page: Annotated[int, Field(ge=0, le=9999)] = 0


class RevokeCb(CallbackData, prefix="rvk"):
    """Take one role in one area (None: everywhere) from one person; asks once before doing it."""

    user_id: Id
    role: Role
    area: Kato | None = None
    confirmed: bool = False


class RetryCb(CallbackData, prefix="obr"):
    """Send the failed notifications again."""

    confirm: bool = True
