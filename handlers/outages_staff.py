"""Field staff: work outage alerts (take, in progress, resolved with a reason) in the staff group and
privately, see every open outage in their area with what residents showed, ask a reporter; admins
choose the staff group's language."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Message, ReplyParameters, Update
from telegram.error import BadRequest
from telegram.ext import CommandHandler, MessageHandler, filters

from bot import flows, ui
from bot.config import LANGUAGES, Language
from bot.context import BotContext
from bot.core.callbacks import MenuCb
from bot.flows import Flow, Handler, State
from bot.i18n import N_, translator
from bot.outages import keyboards, notifications, service, texts
from bot.outages.callbacks import AskCb, GroupLanguageCb, ListCb, StaffCb
from bot.outages.service import OutageError

log = logging.getLogger(__name__)

CHOOSING, ASKING = "ask.choose", "ask.question"
DONE = {
    "take": N_("You took it."),
    "progress": N_("Marked: repair in progress."),
    "resolve": N_("Resolved. The residents are asked if it works."),
}


async def _refuse(update: Update, context: BotContext, error: OutageError) -> None:
    await ui.refuse(update, context, texts.error_text(context.t, error, service.MAX_TEXT))


async def _show_markup(update: Update, context: BotContext, markup: InlineKeyboardMarkup | None) -> None:
    """Change only the pressed message's buttons (its text stays as the alert wrote it)."""
    query = update.callback_query
    message = query.message if query is not None else None
    if not isinstance(message, Message):
        return
    same = (message.reply_markup.to_dict() if message.reply_markup else None) == (
        markup.to_dict() if markup else None
    )
    if same:
        return  # pressed twice: nothing to change, and no "message is not modified"
    try:
        await message.edit_reply_markup(markup)
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            raise
    context.settled = True


# --- alerts: take, in progress, resolved -------------------------------------------------------------
async def staff_button(update: Update, context: BotContext, data: StaffCb) -> None:
    """Take it / In progress / Resolved (with a reason): staff covering the village, checked each time.

    The answer is a word on the button; every message showing the incident (this one too) is then
    edited by the outbox, so all copies show one state.
    """
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    t = context.t
    now = context.clock.now()
    message_id = query.message.message_id if query.message is not None else 0
    try:
        if data.action in ("back", "resolve") and data.reason is None:
            card = await service.staff_card(
                context.db,
                context.member,
                data.incident,
                update.effective_chat.id,
                message_id,
                context.settings,
            )
            markup: InlineKeyboardMarkup | None
            if data.action == "resolve":
                markup = keyboards.make_reasons_keyboard(t, data.incident, card.languages)
            else:
                markup = keyboards.make_staff_keyboard(
                    t, data.incident, card.incident.state, languages=card.languages, view=card.view
                )
            await _show_markup(update, context, markup)
            return
        if data.action == "take":
            await service.take(context.db, context.member, data.incident, context.settings, now)
        elif data.action == "progress":
            await service.start_work(context.db, context.member, data.incident, context.settings, now)
        elif data.action == "resolve" and data.reason is not None:
            await service.resolve(
                context.db, context.member, data.incident, data.reason, context.settings, now
            )
        else:
            await ui.stale(update, context)
            return
    except OutageError as error:
        await _refuse(update, context, error)
        return
    await ui.notice(update, context, t._(DONE[data.action]))


# --- /outages -------------------------------------------------------------------------------------------
async def list_command(update: Update, context: BotContext) -> None:
    """/outages, /outages mine, /outages 5536 (one region or district)."""
    argument = context.args[0] if context.args else ""
    area = argument if argument.isdigit() and len(argument) <= 12 else None
    await show_list(update, context, ListCb(mine=argument == "mine", area=area))


async def list_from_menu(update: Update, context: BotContext, data: MenuCb) -> None:
    await show_list(update, context, ListCb())


async def list_button(update: Update, context: BotContext, data: ListCb) -> None:
    if data.show is not None:
        await show_incident(update, context, data.show)
    else:
        await show_list(update, context, data)


async def show_list(update: Update, context: BotContext, data: ListCb) -> None:
    """Open outages in my area, oldest first, ⏰ on overdue ones; each opens its detail."""
    t = context.t
    try:
        lines = await service.open_incidents(
            context.db,
            context.member,
            context.settings,
            context.clock.now(),
            mine=data.mine,
            area=data.area or "",
        )
    except OutageError as error:
        await _refuse(update, context, error)
        return
    pages = max(1, -(-len(lines) // keyboards.LIST_PAGE))
    page = min(data.page, pages - 1)
    text = [t._("<b>Open outages</b> (mine)") if data.mine else t._("<b>Open outages</b>")]
    for line in lines[page * keyboards.LIST_PAGE : (page + 1) * keyboards.LIST_PAGE]:
        text.append(
            t.n_(
                "#{id} {village}: {kind}, {n} report, {state}{late}",
                "#{id} {village}: {kind}, {n} reports, {state}{late}",
                line.incident.reports,
                id=str(line.incident.id),
                village=t.pick(line.village),
                kind=t._(texts.KIND_NAMES[line.incident.kind]),
                state=t._(texts.STATE_NAMES[line.incident.state]),
                late=" ⏰" if line.overdue else "",
            )
        )
    if not lines:
        text.append(t._("No open outages. 🎉"))
    elif pages > 1:
        text.append(t._("Page {page} of {pages}", page=page + 1, pages=pages))
    await ui.show(
        update,
        context,
        ui.fit(text),
        keyboards.make_list_keyboard(t, lines, mine=data.mine, page=page, area=data.area),
        new=data.fresh,
    )


async def show_incident(update: Update, context: BotContext, incident_id: int) -> None:
    """One outage in full, as a message of its own under the list: what every report says, then each
    photo and map pin as a reply to it. That message keeps showing the outage's current state."""
    assert update.effective_chat is not None
    t = context.t
    chat_id = update.effective_chat.id
    try:
        detail = await service.incident_detail(context.db, context.member, incident_id, context.settings)
    except OutageError as error:
        await _refuse(update, context, error)
        return
    shown = notifications.render_incident(t, detail.params)
    message = await ui.show(update, context, shown.text, shown.keyboard, new=True)
    if message is None:
        return
    await service.keep_view_current(
        context.db, context.member, detail, chat_id, message.message_id, context.settings, context.clock.now()
    )
    under = ReplyParameters(message.message_id, allow_sending_without_reply=True)
    for photo, number in detail.photos:
        await context.bot.send_photo(
            chat_id,
            photo,
            caption=t._("📷 Photo from report {number}", number=number),
            reply_parameters=under,
        )
    for latitude, longitude, _number in detail.locations:
        await context.bot.send_location(
            chat_id, latitude=latitude, longitude=longitude, reply_parameters=under
        )


# --- asking the reporter --------------------------------------------------------------------------------
async def start_ask(update: Update, context: BotContext, data: StaffCb) -> State:
    """«📞 Ask the reporter»: which report (when several), then the question, in a new message so the
    alert above stays as it is."""
    t = context.t
    try:
        askable = await service.start_ask(context.db, context.member, data.incident, context.clock.now())
    except OutageError as error:
        await _refuse(update, context, error)
        return flows.END
    if len(askable) == 1:
        return await _ask_for_question(update, context, askable[0].report.number, new=True)
    await ui.show(
        update,
        context,
        t._("Whose report do you ask about?"),
        keyboards.make_ask_keyboard(t, askable),
        new=True,
    )
    return CHOOSING


async def report_chosen(update: Update, context: BotContext, data: AskCb) -> State:
    try:
        report = await service.choose_report_to_ask(
            context.db, context.member, data.report, context.clock.now()
        )
    except OutageError as error:
        await _refuse(update, context, error)
        return CHOOSING
    return await _ask_for_question(update, context, report.number, new=False)


async def _ask_for_question(update: Update, context: BotContext, number: str, *, new: bool) -> State:
    t = context.t
    await ui.show(
        update,
        context,
        t._(
            "Write your question to the resident who sent {number}. The answer will come to you here.",
            number=number,
        ),
        ui.keyboard([ui.cancel_button(t)]),
        new=new,
    )
    return ASKING


async def question_typed(update: Update, context: BotContext) -> State:
    message = update.effective_message
    assert message is not None and message.text is not None and update.effective_chat is not None
    t = context.t
    try:
        report = await service.ask_reporter(
            context.db,
            context.member,
            message.text,
            ui.source_key(update),
            context.settings,
            context.clock.now(),
        )
    except OutageError as error:
        await ui.show(update, context, texts.error_text(t, error, service.MAX_TEXT))
        return ASKING if error.code == "too_long" else flows.END
    await ui.show(
        update,
        context,
        t._("✅ Sent to the resident ({number}). Their answer will come here.", number=report.number),
        ui.keyboard([ui.button(t._("📋 Open outages"), ListCb(fresh=True))], [ui.back_to_menu(t)]),
    )
    return flows.END


# --- the staff group's language ---------------------------------------------------------------------------
def _in_languages(languages: tuple[Language, ...] | None, message: str, **params: object) -> str:
    readers = (
        [translator(language) for language in languages]
        if languages
        else [translator("kk"), translator("ru")]
    )
    return "\n".join(reader._(message, **params) for reader in readers)


async def group_language_command(update: Update, context: BotContext) -> None:
    """/grouplanguage kk|ru|both in the staff group (an admin for everywhere); without a word, buttons."""
    argument = (context.args[0] if context.args else "").lower()
    if argument in ("kk", "ru", "both"):
        await _set_group_language(update, context, argument)
        return
    chat = update.effective_chat
    languages = await service.group_languages(context.db, chat.id, context.settings) if chat else None
    await ui.show(
        update,
        context,
        _in_languages(languages, N_("In which language should I write to this group?")),
        keyboards.make_group_language_keyboard(context.t),
    )


async def group_language_button(update: Update, context: BotContext, data: GroupLanguageCb) -> None:
    await _set_group_language(update, context, data.language)


async def _set_group_language(update: Update, context: BotContext, choice: str) -> None:
    chat = update.effective_chat
    assert chat is not None
    language: Language | None = "kk" if choice == "kk" else "ru" if choice == "ru" else None
    try:
        await service.set_group_language(
            context.db,
            context.member,
            chat.id,
            language,
            context.settings,
            context.clock.now(),
        )
    except OutageError as error:
        await _refuse(update, context, error)
        return
    languages: tuple[Language, ...] = (language,) if language else LANGUAGES
    names = {"kk": "Қазақша", "ru": "Русский"}
    await ui.show(
        update,
        context,
        _in_languages(
            languages,
            N_("From now on I write to this group in: {choice}."),
            choice=" + ".join(names[lang] for lang in languages),
        ),
    )


ASK = Flow(
    "ask",
    role="staff",
    entry_points=[ui.on_button(StaffCb, start_ask, when=lambda data: data.action == "ask")],
    states={
        CHOOSING: [ui.on_button(AskCb, report_chosen)],
        ASKING: [MessageHandler(filters.TEXT & ~filters.COMMAND, question_typed)],
    },
)

FLOWS = [ASK]
HANDLERS: list[Handler] = [
    ui.on_button(StaffCb, staff_button),
    CommandHandler("outages", list_command),
    ui.on_button(MenuCb, list_from_menu, when=lambda data: data.item == "outages"),
    ui.on_button(ListCb, list_button),
    CommandHandler("grouplanguage", group_language_command),
    ui.on_button(GroupLanguageCb, group_language_button),
]
