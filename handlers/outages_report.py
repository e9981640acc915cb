"""Residents: report an outage in a few taps, follow the ticket, add to it or withdraw it, let the
engineer call, answer an engineer's question, and say whether it works again."""

from __future__ import annotations

from telegram import KeyboardButton, Message, ReplyKeyboardMarkup, Update
from telegram.ext import CommandHandler, MessageHandler, filters

from bot import flows, ui
from bot.context import BotContext
from bot.core.callbacks import MenuCb
from bot.flows import Flow, Handler, State
from bot.outages import keyboards, service, texts
from bot.outages.callbacks import (
    AnswerCb,
    FixedCb,
    FollowCb,
    ReportCb,
    ReportKindCb,
    ReportSinceCb,
    ReportVillageCb,
    TicketCb,
)
from bot.outages.service import Detail, OutageError, VillageOffer

FLOW = "report"
VILLAGE, KIND, SINCE, DETAILS = (f"{FLOW}.{step}" for step in ("village", "kind", "since", "details"))
ADDING = "report_add.info"
PHONE = "report_phone.contact"
ANSWERING = "report_answer.text"
SEARCH_RESULTS = 5


async def _refuse(update: Update, context: BotContext, error: OutageError) -> None:
    await ui.refuse(update, context, texts.error_text(context.t, error, service.MAX_TEXT))


async def _stopped(update: Update, context: BotContext, error: OutageError) -> State:
    """A refusal that ends the flow: said in place of the question, with the way back to the menu."""
    t = context.t
    await ui.show(
        update, context, texts.error_text(t, error, service.MAX_TEXT), ui.keyboard([ui.back_to_menu(t)])
    )
    return flows.END


def _detail(message: Message) -> Detail | None:
    if message.text is not None:
        return Detail(text=message.text)
    if message.photo:
        # The words written under a photo belong to the report as much as the photo does.
        return Detail(text=message.caption or None, photo=message.photo[-1].file_id)
    if message.location is not None:
        return Detail(location=(message.location.latitude, message.location.longitude))
    return None


# --- the report ------------------------------------------------------------------------------------------
async def start_report(update: Update, context: BotContext) -> State:
    """/report and the menu: my village preselected, so the first tap is what is not working."""
    offer = await service.start_report(context.db, context.member, context.clock.now())
    if offer is None:
        return await ask_village(update, context)
    return await offer_kinds(update, context, offer)


async def start_from_menu(update: Update, context: BotContext, data: MenuCb) -> State:
    return await start_report(update, context)


async def ask_village(update: Update, context: BotContext) -> State:
    t = context.t
    await ui.show(
        update, context, t._("⚠️ In which village? Type its name:"), ui.keyboard([ui.cancel_button(t)])
    )
    return VILLAGE


async def another_village(update: Update, context: BotContext, data: ReportCb) -> State:
    return await ask_village(update, context)


async def offer_kinds(update: Update, context: BotContext, offer: VillageOffer) -> State:
    """What is not working — among what has internet there; or, where nothing has it yet, when it
    will and an offer to follow the village."""
    t = context.t
    village = offer.village
    if not offer.kinds:
        lines = [
            t._(
                "📡 {village} has no internet yet, so there is nothing to report.",
                village=village.name(t.language),
            ),
            t._(
                "Planned date: {window}",
                window=texts.window_text(t, village.planned_year, village.planned_quarter),
            ),
            t._("You follow the village: I will tell you when this changes.")
            if offer.following
            else t._("Follow the village and I will tell you when it gets internet."),
        ]
        await ui.show(
            update,
            context,
            "\n".join(lines),
            keyboards.make_not_connected_keyboard(t, village.code, offer.following),
        )
        return KIND
    await ui.show(
        update,
        context,
        t._("⚠️ {village}: what is not working?", village=village.name(t.language)),
        keyboards.make_kind_keyboard(t, offer.kinds),
    )
    return KIND


async def village_typed(update: Update, context: BotContext) -> State:
    """A village name typed any way: the closest matches; typing again searches again."""
    message = update.effective_message
    assert message is not None and message.text is not None
    t = context.t
    typed = message.text[: ui.MAX_FREE_TEXT]
    found = [match.place for match in context.services.villages.search(typed, limit=SEARCH_RESULTS)]
    if not found:
        await ui.show(
            update,
            context,
            t._("I could not find «{query}». Check the spelling and type the name again.", query=typed[:60]),
            ui.keyboard([ui.cancel_button(t)]),
        )
        return VILLAGE
    await ui.show(
        update, context, t._("Which one is yours?"), keyboards.make_village_choice_keyboard(t, found)
    )
    return VILLAGE


async def village_chosen(update: Update, context: BotContext, data: ReportVillageCb) -> State:
    try:
        offer = await service.choose_village(context.db, context.member, data.code, context.clock.now())
    except OutageError as error:
        await _refuse(update, context, error)
        return VILLAGE
    return await offer_kinds(update, context, offer)


async def follow_village(update: Update, context: BotContext, data: FollowCb) -> State:
    """Follow a village with no internet yet, instead of a report."""
    t = context.t
    try:
        village = await service.follow_village(context.db, context.member, data.code, context.clock.now())
    except OutageError as error:
        return await _stopped(update, context, error)
    await ui.show(
        update,
        context,
        t._(
            "🔔 You follow {village}: I will tell you when it gets internet.",
            village=village.name(t.language),
        ),
        ui.keyboard([ui.back_to_menu(t)]),
    )
    return flows.END


async def kind_chosen(update: Update, context: BotContext, data: ReportKindCb) -> State:
    t = context.t
    try:
        await service.choose_kind(context.db, context.member, data.kind, context.clock.now())
    except OutageError as error:
        return await _stopped(update, context, error)
    await ui.show(update, context, t._("Since when?"), keyboards.make_since_keyboard(t))
    return SINCE


async def since_chosen(update: Update, context: BotContext, data: ReportSinceCb) -> State:
    t = context.t
    try:
        await service.choose_since(context.db, context.member, data.since, context.clock.now())
    except OutageError as error:
        return await _stopped(update, context, error)
    await ui.show(
        update,
        context,
        t._("You can add a few words, photos or your location (📎). Or send it now."),
        keyboards.make_details_keyboard(t),
    )
    return DETAILS


async def detail_added(update: Update, context: BotContext) -> State:
    """Words, a photo or a location for the engineers: kept with the report, one answer each."""
    message = update.effective_message
    assert message is not None
    t = context.t
    detail = _detail(message)
    if detail is None:
        return DETAILS
    try:
        draft = await service.add_detail(context.db, context.member, detail, context.clock.now())
    except OutageError as error:
        await ui.show(
            update, context, texts.error_text(t, error, service.MAX_TEXT), keyboards.make_details_keyboard(t)
        )
        return DETAILS
    await ui.show(
        update,
        context,
        t._(
            "✅ Added. The report has {contents}. Send it, or add more.",
            contents=texts.draft_contents(t, draft),
        ),
        keyboards.make_details_keyboard(t),
    )
    return DETAILS


async def send_report(update: Update, context: BotContext, data: ReportCb) -> State:
    """Commit the report, then give the ticket: number, date and time. Pressed again (the answer did
    not get through, or the press came twice), it shows the same ticket."""
    query = update.callback_query
    assert query is not None
    t = context.t
    try:
        filed = await service.send_report(
            context.db, context.member, ui.source_key(update), context.settings, context.clock.now()
        )
    except OutageError as error:
        return await _stopped(update, context, error)
    await ui.show(
        update, context, texts.ticket_text(t, filed), keyboards.make_filed_keyboard(t, filed.report.id)
    )
    return flows.END


# --- my reports --------------------------------------------------------------------------------------------
async def my_reports(update: Update, context: BotContext) -> None:
    """/myreports: my tickets and their states; each opens its history."""
    t = context.t
    tickets = await service.my_tickets(context.db, context.member)
    if not tickets:
        await ui.show(
            update,
            context,
            t._("You have no outage reports. /report makes one."),
            ui.keyboard([ui.back_to_menu(t)]),
        )
        return
    lines = [t._("<b>My reports</b>")]
    for ticket in tickets:
        lines.append(
            t._(
                "{number}, {date}: {village}, {kind} — {state}",
                number=ticket.report.number,
                date=t.datetime(ticket.report.created_at),
                village=ticket.village_kk if t.language == "kk" else ticket.village_ru,
                kind=t._(texts.KIND_NAMES[ticket.report.kind]),
                state=texts.state_name(
                    t,
                    ticket.state,
                    withdrawn=ticket.report.withdrawn_at is not None or ticket.closed_by_withdrawal,
                ),
            )
        )
    await ui.show(update, context, ui.fit(lines), keyboards.make_tickets_keyboard(t, tickets))


async def my_reports_button(update: Update, context: BotContext, data: MenuCb) -> None:
    await my_reports(update, context)


async def ticket_button(update: Update, context: BotContext, data: TicketCb) -> None:
    """A ticket: open it; withdraw it (asked once); hide the phone number shared for it."""
    t = context.t
    now = context.clock.now()
    try:
        if data.action == "withdraw":
            view = await service.ticket(context.db, context.member, data.report)
            if not view.open:
                raise OutageError("withdrawn" if view.report.withdrawn_at else "already_resolved")
            await ui.show(
                update,
                context,
                t._(
                    "Withdraw ticket {number}? The engineers will no longer count it.",
                    number=view.report.number,
                ),
                keyboards.make_withdraw_keyboard(t, data.report),
            )
            return
        if data.action == "withdraw_confirmed":
            view = await service.withdraw(context.db, context.member, data.report, context.settings, now)
        elif data.action == "hide_phone":
            view = await service.hide_phone(context.db, context.member, data.report, context.settings, now)
        else:
            view = await service.ticket(context.db, context.member, data.report)
    except OutageError as error:
        await _refuse(update, context, error)
        return
    await ui.show(update, context, texts.ticket_view_text(t, view), keyboards.make_ticket_keyboard(t, view))


async def start_adding(update: Update, context: BotContext, data: TicketCb) -> State:
    """«➕ Add information»: words, photos or a location, each reaching the engineers' messages."""
    t = context.t
    try:
        view = await service.start_adding(context.db, context.member, data.report, context.clock.now())
    except OutageError as error:
        await _refuse(update, context, error)
        return flows.END
    await ui.show(
        update,
        context,
        t._(
            "Ticket {number}: send a few words, photos or your location (📎) for the engineers.",
            number=view.report.number,
        ),
        keyboards.make_adding_keyboard(t, view.report.id),
    )
    return ADDING


async def information_added(update: Update, context: BotContext) -> State:
    message = update.effective_message
    assert message is not None and update.effective_chat is not None
    t = context.t
    detail = _detail(message)
    if detail is None:
        return ADDING
    try:
        view = await service.add_information(
            context.db,
            context.member,
            detail,
            ui.source_key(update),
            context.settings,
            context.clock.now(),
        )
    except OutageError as error:
        await ui.show(
            update, context, texts.error_text(t, error, service.MAX_TEXT), ui.keyboard([ui.back_to_menu(t)])
        )
        return ADDING if error.code in ("too_long", "too_many_photos") else flows.END
    await ui.show(
        update,
        context,
        t._(
            "✅ Added to ticket {number}: the engineers see it. Send more, or press «Done».",
            number=view.report.number,
        ),
        keyboards.make_adding_keyboard(t, view.report.id),
    )
    return ADDING


async def done_adding(update: Update, context: BotContext, data: TicketCb) -> State:
    await ticket_button(update, context, data)
    return flows.END


async def ask_phone(update: Update, context: BotContext, data: TicketCb) -> State:
    """«📱 Let the engineer call me»: Telegram's own button shares the number; nothing is shared
    unless the resident presses it."""
    t = context.t
    try:
        report = await service.start_phone(context.db, context.member, data.report, context.clock.now())
    except OutageError as error:
        await _refuse(update, context, error)
        return flows.END
    await ui.ask_with_reply_keyboard(
        update,
        context,
        t._(
            "Ticket {number}: press «📱 Share my number» below, and only the engineers working on it"
            " will see your number. Or press «No, thanks».",
            number=report.number,
        ),
        ReplyKeyboardMarkup(
            [
                [KeyboardButton(t._("📱 Share my number"), request_contact=True)],
                [KeyboardButton(t._("No, thanks"))],
            ],
            resize_keyboard=True,
            one_time_keyboard=True,
        ),
    )
    return PHONE


async def phone_shared(update: Update, context: BotContext) -> State:
    message = update.effective_message
    assert message is not None and message.contact is not None
    t = context.t
    try:
        view = await service.share_phone(
            context.db,
            context.member,
            message.contact.phone_number,
            message.contact.user_id,
            context.settings,
            context.clock.now(),
        )
    except OutageError as error:
        await _refuse(update, context, error)
        return PHONE if error.code == "not_own_contact" else flows.END
    await ui.show(
        update,
        context,
        t._("✅ The engineers working on ticket {number} may call you.", number=view.report.number),
        keyboards.make_ticket_keyboard(t, view),
    )
    return flows.END


async def phone_declined(update: Update, context: BotContext) -> State:
    """Anything typed instead of sharing («No, thanks»): the number stays private."""
    t = context.t
    await service.decline_phone(context.db, context.member)
    await ui.show(
        update,
        context,
        t._("All right: your number stays private."),
        keyboards.make_after_ticket_keyboard(t),
    )
    return flows.END


async def start_answer(update: Update, context: BotContext, data: AnswerCb) -> State:
    """«✍️ Answer» under an engineer's question."""
    t = context.t
    try:
        question, report = await service.start_answer(
            context.db, context.member, data.question, context.clock.now()
        )
    except OutageError as error:
        await _refuse(update, context, error)
        return flows.END
    await ui.show(
        update,
        context,
        t._(
            "❓ The engineer's question about ticket {number}:\n«{question}»\n\nWrite your answer:",
            number=report.number,
            question=question.question,
        ),
        ui.keyboard([ui.cancel_button(t)]),
    )
    return ANSWERING


async def answer_typed(update: Update, context: BotContext) -> State:
    message = update.effective_message
    assert message is not None and message.text is not None and update.effective_chat is not None
    t = context.t
    try:
        report = await service.answer_question(
            context.db,
            context.member,
            message.text,
            ui.source_key(update),
            context.settings,
            context.clock.now(),
        )
    except OutageError as error:
        await ui.show(update, context, texts.error_text(t, error, service.MAX_TEXT))
        return ANSWERING if error.code == "too_long" else flows.END
    await ui.show(
        update,
        context,
        t._("✅ Thank you! The engineer gets your answer about ticket {number}.", number=report.number),
        keyboards.make_after_ticket_keyboard(t),
    )
    return flows.END


async def working_answer(update: Update, context: BotContext, data: FixedCb) -> None:
    """A reporter's answer to "Is it working now?"; "no" reopens the incident."""
    t = context.t
    try:
        incident = await service.answer_working(
            context.db, context.member, data.incident, data.working, context.settings, context.clock.now()
        )
    except OutageError as error:
        await _refuse(update, context, error)
        return
    if data.working:
        text = t._("Thank you! Glad it works.")
    elif incident.state == "open":
        text = t._("Sorry to hear that. The outage is open again; engineers are informed.")
    else:
        text = t._("Thank you. Engineers are already working on it.")
    await ui.show(update, context, text, keyboards.make_after_ticket_keyboard(t))


_DETAILS = (filters.TEXT & ~filters.COMMAND) | filters.PHOTO | filters.LOCATION

REPORT = Flow(
    FLOW,
    entry_points=[
        CommandHandler("report", start_report),
        ui.on_button(MenuCb, start_from_menu, when=lambda data: data.item == "report"),
        ui.on_button(ReportCb, another_village, when=lambda data: data.action == "other"),
        # «Send now» and «Follow» also work from an old card, after the flow ended: pressed again
        # (the answer did not get through, or the press came twice), «Send now» shows the same
        # ticket. As entry points, a failure here is not retried by a handler outside the flow.
        ui.on_button(ReportCb, send_report, when=lambda data: data.action == "send"),
        ui.on_button(FollowCb, follow_village),
    ],
    states={
        VILLAGE: [
            MessageHandler(filters.TEXT & ~filters.COMMAND, village_typed),
            ui.on_button(ReportVillageCb, village_chosen),
        ],
        KIND: [ui.on_button(ReportKindCb, kind_chosen)],
        SINCE: [ui.on_button(ReportSinceCb, since_chosen)],
        DETAILS: [MessageHandler(_DETAILS, detail_added)],
    },
)
ADD = Flow(
    "report_add",
    entry_points=[ui.on_button(TicketCb, start_adding, when=lambda data: data.action == "add")],
    states={
        ADDING: [
            MessageHandler(_DETAILS, information_added),
            ui.on_button(TicketCb, done_adding, when=lambda data: data.action == "show"),
        ]
    },
)
SHARE_PHONE = Flow(
    "report_phone",
    entry_points=[ui.on_button(TicketCb, ask_phone, when=lambda data: data.action == "phone")],
    states={
        PHONE: [
            MessageHandler(filters.CONTACT, phone_shared),
            MessageHandler(filters.TEXT & ~filters.COMMAND, phone_declined),
        ]
    },
)
ANSWER = Flow(
    "report_answer",
    entry_points=[ui.on_button(AnswerCb, start_answer)],
    states={ANSWERING: [MessageHandler(filters.TEXT & ~filters.COMMAND, answer_typed)]},
)

FLOWS = [REPORT, ADD, SHARE_PHONE, ANSWER]
HANDLERS: list[Handler] = [
    CommandHandler("myreports", my_reports),
    ui.on_button(MenuCb, my_reports_button, when=lambda data: data.item == "myreports"),
    ui.on_button(TicketCb, ticket_button),
    ui.on_button(FixedCb, working_answer),
]
