"""Admins send the classifier, a rollout plan or social objects to the bot as CSV files."""

from __future__ import annotations

import time

from telegram import Message, Update
from telegram.ext import MessageHandler, filters

from bot import ui
from bot.context import BotContext
from bot.flows import Flow, Handler
from bot.places import keyboards, service, texts
from bot.places.callbacks import ImportCb
from bot.places.importer import ImportResult
from bot.places.service import PlacesError
from handlers.system import unsupported_message

MAX_BYTES = 5 * 1024 * 1024
SHOWN_ERRORS = 15
PROGRESS_AFTER = 2.0  # seconds of checking before the admin is told how far it got


async def document_received(update: Update, context: BotContext) -> None:
    """A CSV from an admin: ask what it is before touching anything. Others get the usual answer."""
    if not context.member.is_admin:
        await unsupported_message(update, context)
        return
    message = update.effective_message
    assert message is not None and message.document is not None
    t = context.t
    document = message.document
    name = ui.shorten(document.file_name or "file.csv", 60)
    if not name.lower().endswith((".csv", ".txt")):
        await ui.show(update, context, t._("Please send a CSV file (.csv)."))
        return
    if (document.file_size or 0) > MAX_BYTES:
        await ui.show(update, context, t._("The file is too large: at most 5 MB."))
        return
    await service.remember_import_file(
        context.db, context.member, document.file_id, name, context.clock.now()
    )
    await ui.show(update, context, t._("What is in «{name}»?", name=name), keyboards.make_import_keyboard(t))


async def kind_chosen(update: Update, context: BotContext, data: ImportCb) -> None:
    """Import the file as what the admin said it is; the bot keeps answering others meanwhile."""
    t = context.t
    if not context.member.is_admin:
        await ui.refuse(update, context, texts.error_text(t, "not_admin"))
        return
    waiting = await service.take_import_file(context.db, context.member)
    if waiting is None:
        await ui.stale(update, context)
        return
    file_id, name = waiting
    if data.kind == "cancel":
        await ui.show(update, context, t._("Cancelled."))
        return
    shown = await ui.show(
        update, context, t._("⏳ Importing «{name}». Others can keep using the bot meanwhile.", name=name)
    )
    asked = time.monotonic()
    file = await context.bot.get_file(file_id)
    content = bytes(await file.download_as_bytearray())

    async def checked(rows: int) -> None:
        # Telegram allows about one message a second per chat: a quick check needs no second word.
        if isinstance(shown, Message) and time.monotonic() - asked > PROGRESS_AFTER:
            await shown.edit_text(t.n_("⏳ {n} row checked, saving…", "⏳ {n} rows checked, saving…", rows))

    try:
        result = await service.import_file(
            context.db, context.member, data.kind, content, context.clock.now(), progress=checked
        )
    except PlacesError as error:
        await ui.refuse(update, context, texts.error_text(t, error.code))
        return
    if result.ok and data.kind in ("kato", "plan"):
        await context.services.reload_villages()
    text = _outcome(context, result)
    if isinstance(shown, Message):
        await shown.edit_text(text, reply_markup=ui.keyboard([ui.back_to_menu(t)]))
    else:
        await ui.show(update, context, text, ui.keyboard([ui.back_to_menu(t)]), new=True)


def _outcome(context: BotContext, result: ImportResult) -> str:
    t = context.t
    if result.ok:
        return t._(
            "Imported {rows} rows: {added} added, {changed} changed, {unchanged} unchanged.",
            rows=result.rows,
            added=result.added,
            changed=result.changed,
            unchanged=result.unchanged,
        )
    problems = result.problems
    lines = [
        t.n_(
            "The file has {n} error; nothing was changed:",
            "The file has {n} errors; nothing was changed:",
            len(problems),
        )
    ]
    lines += ["• " + texts.describe_problem(t, problem) for problem in problems[:SHOWN_ERRORS]]
    more = len(problems) - SHOWN_ERRORS
    if more > 0:
        lines.append(t.n_("…and {n} more.", "…and {n} more.", more))
    return ui.fit(lines)


FLOWS: list[Flow] = []
HANDLERS: list[Handler] = [
    MessageHandler(filters.Document.ALL & filters.ChatType.PRIVATE, document_received),
    ui.on_button(ImportCb, kind_chosen),
]
