"""Administration: the panel, invites for a role and an area, the roles of the area, revoking them."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot import ui
from bot.admin import (
    notifications,  # noqa: F401 - registers the renderers of admin notifications
    service,
)
from bot.admin.callbacks import AdminCb, InviteCb, RevokeCb, RolesCb
from bot.admin.keyboards import (
    make_admin_keyboard,
    make_invite_area_keyboard,
    make_invite_role_keyboard,
    make_panel_back_keyboard,
    make_revoke_choices_keyboard,
    make_revoke_keyboard,
    make_roles_back_keyboard,
    make_roles_keyboard,
)
from bot.admin.service import INVITE_PREFIX, AdminError
from bot.admin.texts import (
    IMPORTS_HELP,
    INVITE_USAGE,
    REVOKE_USAGE,
    area_name,
    areas_named,
    entry_area,
    person,
    refusal,
    role_name,
)
from bot.context import BotContext
from bot.core.callbacks import MenuCb
from bot.flows import Flow, Handler
from bot.i18n import Translator
from db.models import ROLES, Role
from handlers.outbox import outbox_status


async def admin_panel(update: Update, context: BotContext) -> None:
    """/admin and «👑 Administration»: what an admin can do, and for which area."""
    t = context.t
    try:
        panel = await service.panel(context.db, context.member)
    except AdminError as error:
        await ui.refuse(update, context, refusal(t, error))
        return
    text = "\n".join(
        [t._("👑 <b>Administration</b>"), t._("Your area: {area}.", area=areas_named(t, panel.areas))]
    )
    await ui.show(update, context, text, make_admin_keyboard(t))


async def menu_button(update: Update, context: BotContext, data: MenuCb) -> None:
    """«👑 Administration» on the main menu (and «roles», kept for old menus)."""
    if data.item == "roles":
        await show_roles(update, context, 0)
    else:
        await admin_panel(update, context)


async def panel_button(update: Update, context: BotContext, data: AdminCb) -> None:
    if data.screen == "panel":
        await admin_panel(update, context)
    elif data.screen == "invite":
        await ask_role(update, context)
    elif data.screen == "roles":
        await show_roles(update, context, 0)
    elif data.screen == "imports":
        await show_imports(update, context)
    else:
        await outbox_status(update, context)


async def show_imports(update: Update, context: BotContext) -> None:
    """How to import a file: the import itself starts when a CSV file arrives."""
    t = context.t
    try:
        service.require_admin(context.member)
    except AdminError as error:
        await ui.refuse(update, context, refusal(t, error))
        return
    await ui.show(update, context, t._(IMPORTS_HELP), make_panel_back_keyboard(t))


# --- invites ----------------------------------------------------------------------------------------
async def ask_role(update: Update, context: BotContext) -> None:
    t = context.t
    try:
        service.require_admin(context.member)
    except AdminError as error:
        await ui.refuse(update, context, refusal(t, error))
        return
    await ui.show(
        update, context, t._("➕ Invite: which role should the person get?"), make_invite_role_keyboard(t)
    )


async def invite_command(update: Update, context: BotContext) -> None:
    """/invite: role and area as buttons; /invite ROLE [AREA] makes the link at once."""
    t = context.t
    args = context.args or []
    if not args:
        await ask_role(update, context)
        return
    role = args[0].lower()
    if role not in ROLES or len(args) > 2:
        await ui.show(update, context, t._(INVITE_USAGE, roles=", ".join(ROLES)))
        return
    if len(args) == 1:
        await ask_area(update, context, InviteCb(role=role))
        return
    await make_invite(update, context, role, args[1], ui.source_key(update))


async def invite_button(update: Update, context: BotContext, data: InviteCb) -> None:
    if data.make:
        await make_invite(update, context, data.role, data.area or "", ui.source_key(update))
    else:
        await ask_area(update, context, data)


async def ask_area(update: Update, context: BotContext, data: InviteCb) -> None:
    t = context.t
    try:
        choices = await service.invite_choices(context.db, context.member, data.role, data.area)
    except AdminError as error:
        await ui.refuse(update, context, refusal(t, error))
        return
    lines = [t._("➕ Invite for the {role} role: which area?", role=role_name(t, data.role))]
    if choices.current is not None:
        lines.append(area_name(t, choices.current))
    await ui.show(update, context, "\n".join(lines), make_invite_area_keyboard(t, choices))


async def make_invite(
    update: Update, context: BotContext, role: Role, scope: str, source: str | None
) -> None:
    t = context.t
    try:
        made = await service.create_invite(
            context.db, context.member, role, scope, source_key=source, now=context.clock.now()
        )
    except AdminError as error:
        await ui.refuse(update, context, refusal(t, error))
        return
    link = f"https://t.me/{context.bot.username}?start={INVITE_PREFIX}{made.invite.code}"
    text = t._(
        "Invite for the {role} role. Area: {area}.\n"
        "Single use, valid until: {until}.\n{link}\n"
        "Send it only to the person who should get the role. You will be told when it is used.",
        role=role_name(t, role),
        area=area_name(t, made.area),
        until=t.datetime(made.invite.expires_at),
        link=link,
    )
    await ui.show(update, context, text, make_panel_back_keyboard(t))


# --- roles ------------------------------------------------------------------------------------------
async def roles_command(update: Update, context: BotContext) -> None:
    """/roles: the roles in the admin's area, with names, each with a revoke button."""
    await show_roles(update, context, 0)


async def roles_page(update: Update, context: BotContext, data: RolesCb) -> None:
    await show_roles(update, context, data.page)


async def show_roles(update: Update, context: BotContext, page_number: int) -> None:
    t = context.t
    try:
        page = await service.list_roles(context.db, context.member, page_number)
    except AdminError as error:
        await ui.refuse(update, context, refusal(t, error))
        return
    lines = [t._("👥 <b>Roles</b> — {area}", area=areas_named(t, page.areas))]
    for number, entry in enumerate(page.entries, start=page.first_number):
        lines.append(
            t._(
                "{number}. {name} — {role}, {area}",
                number=number,
                name=person(t, entry),
                role=role_name(t, entry.grant.role),
                area=entry_area(t, entry),
            )
        )
    if not page.total:
        lines.append(t._("Nobody has a role in your area yet. Invite someone: /invite"))
    if page.pages > 1:
        lines.append(t._("Page {page} of {pages}.", page=page.page + 1, pages=page.pages))
    if context.member.is_global_admin:
        lines.append(t._("Administrators named in the settings have every role everywhere."))
    await ui.show(update, context, ui.fit(lines), make_roles_keyboard(t, page, context.member.id))


async def revoke_button(update: Update, context: BotContext, data: RevokeCb) -> None:
    """«✖️» on a role: ask once, naming the person and the area; «Yes» takes it away."""
    t = context.t
    scope = data.area or ""
    try:
        if data.confirmed:
            done = await service.revoke(
                context.db, context.member, data.user_id, data.role, scope, context.clock.now()
            )
        else:
            target = await service.revoke_target(context.db, context.member, data.user_id, data.role, scope)
    except AdminError as error:
        await ui.refuse(update, context, refusal(t, error))
        return
    if data.confirmed:
        text = t._(
            "Done: {name} no longer has the {role} role. Area: {area}. They have been told.",
            name=person(t, done.entry),
            role=role_name(t, data.role),
            area=area_name(t, done.area),
        )
        await ui.show(update, context, text, make_roles_back_keyboard(t))
        return
    await ui.show(update, context, revoke_question(t, target), make_revoke_keyboard(t, data))


def revoke_question(t: Translator, target: service.RevokeTarget) -> str:
    return t._(
        "Take the {role} role away from {name}? Area: {area}.",
        role=role_name(t, target.entry.grant.role),
        name=person(t, target.entry),
        area=area_name(t, target.area),
    )


async def revoke_command(update: Update, context: BotContext) -> None:
    """/revoke USER_ID ROLE: the same question as the «✖️» button (which area, when there are several)."""
    t = context.t
    args = context.args or []
    if len(args) != 2 or not args[0].isdigit() or len(args[0]) > 15 or args[1].lower() not in ROLES:
        await ui.show(update, context, t._(REVOKE_USAGE))
        return
    role: Role = args[1].lower()  # type: ignore[assignment]
    try:
        targets = await service.revoke_targets(context.db, context.member, int(args[0]), role)
    except AdminError as error:
        await ui.refuse(update, context, refusal(t, error))
        return
    choices = [
        (
            area_name(t, target.area),
            RevokeCb(user_id=target.entry.grant.user_id, role=role, area=target.area.scope or None),
        )
        for target in targets
    ]
    if len(targets) == 1:
        await ui.show(update, context, revoke_question(t, targets[0]), make_revoke_keyboard(t, choices[0][1]))
        return
    text = t._(
        "{name} has the {role} role in several areas. Which one should be taken away?",
        name=person(t, targets[0].entry),
        role=role_name(t, role),
    )
    await ui.show(update, context, text, make_revoke_choices_keyboard(t, choices))


FLOWS: list[Flow] = []
HANDLERS: list[Handler] = [
    CommandHandler("admin", admin_panel),
    ui.on_button(MenuCb, menu_button, when=lambda data: data.item in ("admin", "roles")),
    ui.on_button(AdminCb, panel_button),
    CommandHandler("invite", invite_command),
    ui.on_button(InviteCb, invite_button),
    CommandHandler("roles", roles_command),
    ui.on_button(RolesCb, roles_page),
    CommandHandler("revoke", revoke_command),
    ui.on_button(RevokeCb, revoke_button),
]
