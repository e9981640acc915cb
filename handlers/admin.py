"""Administration: role invites, the list of roles, revoking them."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import ui
from bot.callbacks import CallbackData
from bot.context import BotContext
from bot.flows import Flow, Handler
from bot.roles import INVITE_VALID_FOR
from db import users
from db.models import ROLES, Role
from handlers.common import ROLE_NAMES, MenuCb, back_to_menu, button, keyboard, reply, requires
from handlers.start import INVITE_PREFIX


class InviteCb(CallbackData, prefix="inv"):
    role: Role


class RevokeCb(CallbackData, prefix="rvk"):
    user_id: int
    role: Role
    confirmed: bool = False


@requires("admin")
async def admin_screen(update: Update, context: BotContext) -> None:
    """The administration menu."""
    t = context.t
    if update.callback_query:
        await ui.answer(update, context)
    await reply(
        update,
        context,
        t._("👑 Administration"),
        keyboard(
            *[
                [button(t._("➕ Invite: {role}", role=t._(ROLE_NAMES[role])), InviteCb(role=role))]
                for role in ROLES
            ],
            [button(t._("👥 Roles"), MenuCb(item="roles"))],
            [back_to_menu(t)],
        ),
        edit=update.callback_query is not None,
    )


async def _send_invite(update: Update, context: BotContext, role: Role, scope: str) -> None:
    t = context.t
    now = context.clock.now()
    async with context.db.transaction() as tx:
        invite = await users.create_invite(
            tx,
            role=role,
            scope=scope,
            actor_id=context.member.id,
            now=now,
            valid_for=INVITE_VALID_FOR,
        )
    link = f"https://t.me/{context.bot.username}?start={INVITE_PREFIX}{invite.code}"
    await reply(
        update,
        context,
        t._(
            "Invite for the {role} role, single use, valid until {until}:\n{link}\n"
            "Send it only to the person who should get the role.",
            role=t._(ROLE_NAMES[role]),
            until=t.datetime(invite.expires_at),
            link=link,
        ),
    )


@requires("admin")
async def invite_command(update: Update, context: BotContext) -> None:
    """/invite ROLE [KATO-PREFIX]: a single-use, expiring invite link."""
    t = context.t
    args = context.args or []
    role = args[0].lower() if args else ""
    scope = args[1] if len(args) > 1 else ""
    if role not in ROLES or not (scope == "" or (scope.isdigit() and len(scope) <= 9)):
        await reply(
            update,
            context,
            t._(
                "Usage: /invite ROLE [AREA]. ROLE is one of: {roles}. AREA is an optional"
                " KATO code prefix, e.g. 55 for Pavlodar region.",
                roles=", ".join(ROLES),
            ),
        )
        return
    await _send_invite(update, context, role, scope)


@requires("admin")
async def invite_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    data = InviteCb.parse(query.data)
    if data is None:
        await ui.answer(update, context, context.t._("This button is out of date. Open /menu again."))
        return
    await ui.answer(update, context)
    await _send_invite(update, context, data.role, "")


@requires("admin")
async def roles_list(update: Update, context: BotContext) -> None:
    """/roles: everyone with a role, each with a revoke button."""
    t = context.t
    if update.callback_query:
        await ui.answer(update, context)
    async with context.db.read() as conn:
        grants = await users.all_roles(conn)
    lines = [t._("<b>Roles</b>")]
    rows = []
    for grant, account in grants:
        scope = grant.scope or t._("everywhere")
        lines.append(
            t._(
                "• {name} (id {id}): {role}, {scope}",
                name=account.full_name,
                id=str(account.id),
                role=t._(ROLE_NAMES[grant.role]),
                scope=scope,
            )
        )
        rows.append(
            [
                button(
                    t._("✖️ {name}: {role}", name=account.first_name, role=t._(ROLE_NAMES[grant.role])),
                    RevokeCb(user_id=account.id, role=grant.role),
                )
            ]
        )
    if not grants:
        lines.append(t._("Nobody has a role yet. Admins from the settings always have one."))
    await reply(update, context, "\n".join(lines), keyboard(*rows[:90], [back_to_menu(t)]))


@requires("admin")
async def revoke_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    t = context.t
    data = RevokeCb.parse(query.data)
    if data is None:
        await ui.answer(update, context, t._("This button is out of date. Open /menu again."))
        return
    role_name = t._(ROLE_NAMES[data.role])
    if not data.confirmed:
        await ui.answer(update, context)
        await reply(
            update,
            context,
            t._("Take the {role} role from user {id}?", role=role_name, id=str(data.user_id)),
            keyboard(
                [button(t._("Yes, revoke"), data.model_copy(update={"confirmed": True}))],
                [back_to_menu(t)],
            ),
        )
        return
    async with context.db.transaction() as tx:
        removed = await users.revoke_role(
            tx,
            user_id=data.user_id,
            role=data.role,
            actor_id=context.member.id,
            now=context.clock.now(),
        )
    await ui.answer(update, context)
    text = (
        t._("Done: user {id} no longer has the {role} role.", id=str(data.user_id), role=role_name)
        if removed
        else t._("User {id} did not have the {role} role.", id=str(data.user_id), role=role_name)
    )
    await reply(update, context, text, edit=True)


@requires("admin")
async def revoke_command(update: Update, context: BotContext) -> None:
    """/revoke USER_ID ROLE."""
    t = context.t
    args = context.args or []
    if len(args) != 2 or not args[0].isdigit() or args[1] not in ROLES:
        await reply(update, context, t._("Usage: /revoke USER_ID ROLE"))
        return
    data = RevokeCb(user_id=int(args[0]), role=args[1])
    await reply(
        update,
        context,
        t._("Take the {role} role from user {id}?", role=t._(ROLE_NAMES[data.role]), id=args[0]),
        keyboard([button(t._("Yes, revoke"), data.model_copy(update={"confirmed": True}))]),
    )


FLOWS: list[Flow] = []
HANDLERS: list[Handler] = [
    CommandHandler("admin", admin_screen),
    CallbackQueryHandler(admin_screen, pattern=lambda d: d == "menu:admin"),
    CommandHandler("invite", invite_command),
    CallbackQueryHandler(invite_button, pattern=InviteCb.filter()),
    CommandHandler("roles", roles_list),
    CallbackQueryHandler(roles_list, pattern=lambda d: d == "menu:roles"),
    CommandHandler("revoke", revoke_command),
    CallbackQueryHandler(revoke_button, pattern=RevokeCb.filter()),
]
