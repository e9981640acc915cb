"""What admins and people with roles are told: an invite was used, a role was taken away."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.admin.service import INVITE_USED, ROLE_REVOKED
from bot.admin.texts import area_from_params, role_name
from bot.i18n import Translator
from bot.notify import Rendered, renderer


@renderer(INVITE_USED)
def invite_used(t: Translator, params: Mapping[str, Any]) -> Rendered:
    name = str(params.get("name") or "-")
    if params.get("username"):
        name = f"{name} (@{params['username']})"
    return Rendered(
        t._(
            "✅ {name} used your invite and now has the {role} role. Area: {area}.",
            name=name,
            role=role_name(t, str(params["role"])),
            area=area_from_params(t, params.get("area") or {}),
        )
    )


@renderer(ROLE_REVOKED)
def role_revoked(t: Translator, params: Mapping[str, Any]) -> Rendered:
    return Rendered(
        t._(
            "An administrator took away your {role} role. Area: {area}.",
            role=role_name(t, str(params["role"])),
            area=area_from_params(t, params.get("area") or {}),
        )
    )
