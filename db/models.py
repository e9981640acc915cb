"""Rows of the core tables as pydantic models."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Role = Literal["trainer", "staff", "admin"]
ROLES: tuple[Role, ...] = ("trainer", "staff", "admin")


class Account(BaseModel):
    """A person who has written to the bot."""

    model_config = ConfigDict(frozen=True)

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    telegram_language: str | None = None
    language: Literal["kk", "ru"] | None = None
    first_seen: datetime
    last_seen: datetime
    blocked: bool = False
    reply_keyboard: bool = False
    erased_at: datetime | None = None  # asked to be forgotten; nothing is stored until they consent again

    @property
    def erased(self) -> bool:
        return self.erased_at is not None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name


class RoleGrant(BaseModel):
    model_config = ConfigDict(frozen=True)

    user_id: int
    role: Role
    scope: str = ""
    granted_by: int | None = None
    granted_at: datetime


class Invite(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    role: Role
    scope: str
    created_by: int
    created_at: datetime
    expires_at: datetime
    used_by: int | None = None
    used_at: datetime | None = None
    revoked: bool = False


class AuditEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: datetime
    actor_id: int | None
    subject: str
    action: str
    detail: dict[str, Any]
