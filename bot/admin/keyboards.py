"""Keyboards of administration: the panel, the invite's role and area, the roles list, revoking."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.admin.callbacks import AdminCb, InviteCb, RetryCb, RevokeCb, RolesCb
from bot.admin.service import AreaChoices, Delivery, RolesPage
from bot.admin.texts import role_name
from bot.core.callbacks import MenuCb
from bot.i18n import Translator
from bot.ui import back_to_menu, button, keyboard, shorten
from db.models import ROLES, Role


def make_admin_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return keyboard(
        [button(t._("➕ Invite someone"), AdminCb(screen="invite"))],
        [button(t._("👥 Roles"), AdminCb(screen="roles"))],
        [button(t._("📥 Import a file"), AdminCb(screen="imports"))],
        [button(t._("📬 Notification delivery"), AdminCb(screen="outbox"))],
        [button(t._("📊 Progress"), MenuCb(item="stats")), button(t._("📤 Export"), MenuCb(item="export"))],
        [button(t._("📢 Announcement"), MenuCb(item="announce"))],
        [back_to_menu(t)],
    )


def _back_to_panel(t: Translator) -> InlineKeyboardButton:
    return button(t._("⬅️ Administration"), AdminCb(screen="panel"))


def make_panel_back_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return keyboard([_back_to_panel(t)], [back_to_menu(t)])


def make_invite_role_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return keyboard(
        *[[button(role_name(t, role).capitalize(), InviteCb(role=role))] for role in ROLES],
        [_back_to_panel(t)],
        [back_to_menu(t)],
    )


def make_invite_area_keyboard(t: Translator, choices: AreaChoices) -> InlineKeyboardMarkup:
    """The whole area (or the country), then its parts two a row; a region opens into its districts."""
    role: Role = choices.role
    rows: list[list[InlineKeyboardButton]] = []
    if choices.everywhere:
        rows.append([button(t._("🌍 The whole country"), InviteCb(role=role, make=True))])
    if choices.current is not None:
        whole = t._("✅ The whole region") if choices.current.level == "region" else t._("✅ This area")
        rows.append([button(whole, InviteCb(role=role, area=choices.current.scope, make=True))])
    parts = [
        button(
            shorten(t.pick(area.names) or area.scope),
            InviteCb(role=role, area=area.scope, make=area.level != "region"),
        )
        for area in sorted(choices.parts, key=lambda area: t.pick(area.names).casefold())
    ]
    rows += [parts[i : i + 2] for i in range(0, len(parts), 2)]
    back = AdminCb(screen="invite") if choices.top else InviteCb(role=role)
    rows.append([button(t._("⬅️ Back"), back)])
    rows.append([back_to_menu(t)])
    return keyboard(*rows)


def make_roles_keyboard(t: Translator, page: RolesPage, own_id: int) -> InlineKeyboardMarkup:
    """One «✖️» per role (not for one's own), numbered as in the text; pages when there are many."""
    rows: list[list[InlineKeyboardButton]] = []
    for number, entry in enumerate(page.entries, start=page.first_number):
        if entry.grant.user_id == own_id:
            continue
        label = t._(
            "✖️ {number}. {name}: {role}",
            number=number,
            name=entry.first_name,
            role=role_name(t, entry.grant.role),
        )
        rows.append(
            [
                button(
                    shorten(label),
                    RevokeCb(
                        user_id=entry.grant.user_id, role=entry.grant.role, area=entry.grant.scope or None
                    ),
                )
            ]
        )
    paging = []
    if page.page > 0:
        paging.append(button(t._("◀️ Previous"), RolesCb(page=page.page - 1)))
    if page.page + 1 < page.pages:
        paging.append(button(t._("Next ▶️"), RolesCb(page=page.page + 1)))
    return keyboard(*rows, paging, [_back_to_panel(t)], [back_to_menu(t)])


def make_revoke_keyboard(t: Translator, data: RevokeCb) -> InlineKeyboardMarkup:
    """Revoking asks once: yes, or back to the roles."""
    return keyboard(
        [button(t._("✖️ Yes, take it away"), data.model_copy(update={"confirmed": True}))],
        [button(t._("⬅️ Back to roles"), RolesCb())],
    )


def make_revoke_choices_keyboard(t: Translator, choices: list[tuple[str, RevokeCb]]) -> InlineKeyboardMarkup:
    """One button per area a person has the role in; each leads to the question."""
    return keyboard(
        *[[button(shorten(t._("✖️ {area}", area=area)), data)] for area, data in choices],
        [button(t._("⬅️ Back to roles"), RolesCb())],
    )


def make_roles_back_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return keyboard([button(t._("⬅️ Back to roles"), RolesCb())], [back_to_menu(t)])


def make_outbox_keyboard(t: Translator, delivery: Delivery) -> InlineKeyboardMarkup:
    rows = (
        [[button(t._("🔁 Send again"), RetryCb())]] if delivery.may_retry and delivery.health.failed else []
    )
    return keyboard(*rows, [_back_to_panel(t)], [back_to_menu(t)])
