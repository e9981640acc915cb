"""Admins send the classifier, a rollout plan or social objects to the bot as CSV files."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot import ui
from bot.callbacks import CallbackData
from bot.context import BotContext
from bot.flows import Flow, Handler
from bot.places import importer
from db import drafts
from handlers.common import back_to_menu, button, keyboard, reply, requires
from handlers.system import unsupported_message

FLOW = "import"
MAX_BYTES = 5 * 1024 * 1024
SHOWN_ERRORS = 15


class ImportCb(CallbackData, prefix="imp"):
    kind: str  # kato, plan, objects, cancel


async def document_received(update: Update, context: BotContext) -> None:
    """A CSV from an admin: ask what it is before touching anything. Others get the usual answer."""
    if not context.member.is_admin:
        await unsupported_message(update, context)
        return
    message = update.effective_message
    assert message is not None and message.document is not None
    t = context.t
    document = message.document
    if not (document.file_name or "").lower().endswith((".csv", ".txt")):
        await reply(update, context, t._("Please send a CSV file (.csv)."))
        return
    if (document.file_size or 0) > MAX_BYTES:
        await reply(update, context, t._("The file is too large: at most 5 MB."))
        return
    async with context.db.transaction() as tx:
        await drafts.save_draft(
            tx,
            context.member.id,
            FLOW,
            {"file_id": document.file_id, "name": document.file_name},
            context.clock.now(),
        )
    await reply(
        update,
        context,
        t._("What is in «{name}»?", name=document.file_name or "file"),
        keyboard(
            [button(t._("🗺 Settlements (KATO classifier)"), ImportCb(kind="kato"))],
            [button(t._("📅 Rollout plan"), ImportCb(kind="plan"))],
            [button(t._("🏫 Social objects"), ImportCb(kind="objects"))],
            [button(t._("✖️ Cancel"), ImportCb(kind="cancel"))],
        ),
    )


@requires("admin")
async def kind_chosen(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    t = context.t
    data = ImportCb.parse(query.data)
    async with context.db.read() as conn:
        draft = await drafts.get_draft(conn, context.member.id, FLOW)
    if data is None or data.kind not in ("kato", "plan", "objects", "cancel") or not draft.get("file_id"):
        await ui.answer(
            update, context, t._("This button is out of date. Open /menu again."), show_alert=True
        )
        return
    await ui.answer(update, context)
    async with context.db.transaction() as tx:
        await drafts.clear_draft(tx, context.member.id, FLOW)
    if data.kind == "cancel":
        await reply(update, context, t._("Cancelled."), edit=True)
        return
    await reply(update, context, t._("Importing, please wait…"), edit=True)
    file = await context.bot.get_file(draft["file_id"])
    content = bytes(await file.download_as_bytearray())
    run = {"kato": importer.import_kato, "plan": importer.import_plan, "objects": importer.import_objects}[
        data.kind
    ]
    result = await run(context.db, content, context.clock)
    if not result.ok:
        shown = "\n".join(f"• {error}" for error in result.errors[:SHOWN_ERRORS])
        more = len(result.errors) - SHOWN_ERRORS
        text = (
            t.n_(
                "The file has {n} error; nothing was changed:",
                "The file has {n} errors; nothing was changed:",
                len(result.errors),
            )
            + "\n"
            + _escape(shown)
        )
        if more > 0:
            text += "\n" + t.n_("…and {n} more.", "…and {n} more.", more)
        await reply(update, context, text, keyboard([back_to_menu(t)]))
        return
    await context.services.reload_villages()
    await reply(
        update,
        context,
        t._(
            "Imported {rows} rows: {added} added, {changed} changed, {unchanged} unchanged.",
            rows=result.rows,
            added=result.added,
            changed=result.changed,
            unchanged=result.unchanged,
        ),
        keyboard([back_to_menu(t)]),
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


FLOWS: list[Flow] = []
HANDLERS: list[Handler] = [
    MessageHandler(filters.Document.ALL & filters.ChatType.PRIVATE, document_received),
    CallbackQueryHandler(kind_chosen, pattern=ImportCb.filter()),
]
