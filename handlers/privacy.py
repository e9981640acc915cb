"""/privacy and Settings → My data: what AuylNet keeps, and deleting it."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import ui
from bot.callbacks import CallbackData
from bot.context import BotContext
from bot.flows import Flow, Handler
from bot.privacy import erase_person, what_we_keep
from handlers.common import ROLE_NAMES, back_to_menu, button, keyboard, reply


class EraseCb(CallbackData, prefix="erase"):
    confirmed: bool = False


def privacy_notice(context: BotContext) -> str:
    t = context.t
    return "\n".join(
        [
            t._("<b>Your data in AuylNet</b>"),
            t._(
                "We keep your Telegram name and id, your language, your village and the villages you follow,"
                " and what you send us: outage reports, class bookings."
            ),
            t._(
                "Why: to answer you and to tell you about your village. Engineers see outage reports;"
                " trainers see class bookings. Nobody else gets your data."
            ),
            t._("The data is stored in Kazakhstan. You can see and delete it here at any time."),
        ]
    )


async def privacy(update: Update, context: BotContext) -> None:
    """/privacy and the My data button: the notice, what is kept now, and a delete button."""
    t = context.t
    if update.callback_query is not None:
        await ui.answer(update, context)
    async with context.db.read() as conn:
        kept = await what_we_keep(conn, context.member.id)
    lines = [privacy_notice(context), "", t._("<b>What we keep about you now</b>")]
    if kept is not None:
        lines.append(t._("Name: {name}", name=kept.name))
        lines.append(
            t._("Language: {name}", name={"kk": "Қазақша", "ru": "Русский"}.get(kept.language or "", "—"))
        )
        lines.append(t._("My village: {village}", village=kept.village or "—"))
        lines.append(t.n_("You follow {n} village.", "You follow {n} villages.", kept.following))
        if kept.roles:
            lines.append(t._("Roles: {roles}", roles=", ".join(t._(ROLE_NAMES[role]) for role in kept.roles)))
    await reply(
        update,
        context,
        "\n".join(lines),
        keyboard([button(t._("🗑 Delete my data"), EraseCb())], [back_to_menu(t)]),
        edit=update.callback_query is not None,
    )


async def erase(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    t = context.t
    data = EraseCb.parse(query.data)
    if data is None:
        await ui.answer(
            update, context, t._("This button is out of date. Open /menu again."), show_alert=True
        )
        return
    await ui.answer(update, context)
    if not data.confirmed:
        await reply(
            update,
            context,
            t._(
                "Delete your name, language, village, follows and drafts?"
                " Reports and bookings you made lose your name."
            ),
            keyboard([button(t._("🗑 Yes, delete"), EraseCb(confirmed=True))], [back_to_menu(t)]),
            edit=True,
        )
        return
    async with context.db.transaction() as tx:
        await erase_person(tx, context.member.id, context.clock.now())
    await reply(
        update,
        context,
        t._("Done: your data is deleted. Send /start if you want to use AuylNet again."),
        edit=True,
    )


FLOWS: list[Flow] = []
HANDLERS: list[Handler] = [
    CommandHandler("privacy", privacy),
    CallbackQueryHandler(privacy, pattern=lambda d: d == "menu:privacy"),
    CallbackQueryHandler(erase, pattern=EraseCb.filter()),
]
