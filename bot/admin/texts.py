"""Words of administration: refusals by code, and how areas and people are named."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bot.admin.service import AdminError, Area
from bot.core.texts import ONLY_FOR_ROLE, ROLE_NAMES
from bot.i18n import N_, Translator
from db.users import RoleEntry

WHOLE_COUNTRY = N_("the whole country")

INVITE_USAGE = N_(
    "Usage: /invite, or /invite ROLE [AREA]. ROLE is one of: {roles}."
    " AREA is a KATO code, e.g. 55 for Pavlodar region or 5536 for Bayanaul district."
)
REVOKE_USAGE = N_("Usage: /revoke USER_ID ROLE, or open /roles and use the buttons.")
IMPORTS_HELP = N_(
    "📥 <b>Importing data</b>\n"
    "Send a CSV file (up to 5 MB) to this chat: the list of settlements (KATO classifier), a rollout plan"
    " or social objects. I will ask which of them it is and show each mistake with its line number;"
    " nothing changes until the whole file is right."
)


def area_name(t: Translator, area: Area | None) -> str:
    """«Баянаульский район, Павлодарская область»; the whole country in words."""
    if area is None or area.everywhere:
        return t._(WHOLE_COUNTRY)
    if not area.names:
        return area.scope
    name = t.pick(area.names)
    return f"{name}, {t.pick(area.parent_names)}" if area.parent_names else name


def areas_named(t: Translator, areas: Iterable[Area]) -> str:
    return "; ".join(area_name(t, area) for area in areas)


def area_from_params(t: Translator, params: Mapping[str, Any]) -> str:
    """An area stored in a notification's parameters (:meth:`Area.params`)."""
    return area_name(
        t,
        Area(
            str(params.get("scope", "")),
            "country" if not params.get("scope") else "region",
            params.get("names") or {},
            params.get("parent") or {},
        ),
    )


def entry_area(t: Translator, entry: RoleEntry) -> str:
    if entry.grant.scope == "":
        return t._(WHOLE_COUNTRY)
    names = {"kk": entry.area_kk, "ru": entry.area_ru}
    return t.pick({k: v for k, v in names.items() if v}) or entry.grant.scope


def person(t: Translator, entry: RoleEntry) -> str:
    """A person as admins know them: the Telegram name, and the @username when there is one.

    Someone given a role from the command line before writing to the bot has no name yet.
    """
    if entry.first_name == str(entry.grant.user_id) and entry.last_name is None:
        return t._("id {id} (has not written to the bot yet)", id=str(entry.grant.user_id))
    return f"{entry.full_name} (@{entry.username})" if entry.username else entry.full_name


def role_name(t: Translator, role: str) -> str:
    return t._(ROLE_NAMES[role])


def refusal(t: Translator, error: AdminError) -> str:
    """The reason an administration request was refused, in the admin's words."""
    yours = areas_named(t, error.areas)
    if error.code == "not_admin":
        return t._(ONLY_FOR_ROLE, role=role_name(t, "admin"))
    if error.code == "outside_area":
        return t._("This is outside your area. You are an administrator for: {area}.", area=yours)
    if error.code == "wider_than_yours":
        return t._(
            "Only an administrator of the whole country can give a role everywhere."
            " Choose an area inside yours: {area}.",
            area=yours,
        )
    if error.code == "unknown_area":
        return t._(
            "There is no area with the code {code}. Choose one with the buttons: /invite", code=error.scope
        )
    if error.code == "not_global":
        return t._("Only an administrator of the whole country can do this.")
    if error.code == "own_role":
        return t._("You cannot take away your own role. Ask another administrator.")
    if error.code == "already_revoked" and error.revocation is not None:
        when = t.datetime(error.revocation.at)
        if error.revocation.actor_name:
            return t._(
                "This role was already taken away: {when}, by {by}.",
                when=when,
                by=error.revocation.actor_name,
            )
        return t._("This role was already taken away: {when}.", when=when)
    return t._("This person does not have this role here.")
