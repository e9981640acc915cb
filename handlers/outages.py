"""Outages: residents report in a few taps; staff take, work and resolve; everyone is told."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import ui
from bot.callbacks import CallbackData
from bot.context import BotContext
from bot.flows import Flow, Handler, State
from bot.outages import service
from bot.outages.callbacks import FixedCb, StaffCb
from bot.outages.notifications import (
    KIND_NAMES,
    RESOLUTION_NAMES,
    SINCE_NAMES,
    STATE_NAMES,
    alert_text,
    staff_keyboard,
)
from bot.outages.service import NewReport, OutageError
from db import drafts, outages, places
from handlers.common import (
    MAX_FREE_TEXT,
    MenuCb,
    back_to_menu,
    button,
    keyboard,
    reply,
    requires,
    step_filter,
    update_draft,
    village_choices,
)

FLOW = "report"
VILLAGE, KIND, SINCE, DETAILS = (f"{FLOW}.{step}" for step in ("village", "kind", "since", "details"))
SLA_CHECK_SECONDS = 60


class ReportCb(CallbackData, prefix="rp"):
    step: str  # v: village, k: kind, s: since, send, other
    value: str = "-"


class ListCb(CallbackData, prefix="ol"):
    mine: bool = False
    show: int | None = None


def error_text(context: BotContext, error: OutageError) -> str:
    t = context.t
    if error.code == "too_many" and error.until is not None:
        return t._(
            "You have sent many reports in the last hour. You can send a new one after {time}.",
            time=t.time(error.until),
        )
    texts = {
        "unknown_village": t._("I could not find that village. Try the search again."),
        "unknown_incident": t._("This outage no longer exists."),
        "already_resolved": t._("This outage is already resolved."),
        "taken_by_other": t._("Another engineer has already taken this outage."),
        "not_your_report": t._("This is not your report."),
        "bad_choice": t._("This button is out of date. Open /menu again."),
    }
    return texts.get(error.code, t._("Sorry, something went wrong. Please try again in a minute."))


async def _draft(context: BotContext, **changes: Any) -> dict[str, Any]:
    return await update_draft(context, FLOW, **changes)


# --- residents ------------------------------------------------------------------------------------
async def start_report(update: Update, context: BotContext) -> State:
    """/report and the menu: my village preselected, so the first tap is what is not working."""
    if update.callback_query is not None:
        await ui.answer(update, context)
    async with context.db.read() as conn:
        mine = await places.my_village(conn, context.member.id)
        village = await places.get_village(conn, mine) if mine else None
    async with context.db.transaction() as tx:
        await drafts.save_draft(tx, context.member.id, FLOW, {}, context.clock.now())
    if village is None:
        await reply(
            update,
            context,
            context.t._("⚠️ In which village? Type its name:"),
            keyboard([back_to_menu(context.t)]),
            edit=update.callback_query is not None,
        )
        return VILLAGE
    await _draft(context, village=village.code)
    return await ask_kind(update, context, village)


async def ask_kind(update: Update, context: BotContext, village: places.Village) -> State:
    t = context.t
    rows = [
        [button(t._(KIND_NAMES[kind]).capitalize(), ReportCb(step="k", value=kind))] for kind in outages.KINDS
    ]
    rows.append([button(t._("🔎 Another village"), ReportCb(step="other")), back_to_menu(t)])
    await reply(
        update,
        context,
        t._("⚠️ {village}: what is not working?", village=village.name(t.language)),
        keyboard(*rows),
        edit=update.callback_query is not None,
    )
    return KIND


async def other_village(update: Update, context: BotContext) -> State:
    assert update.callback_query is not None
    await ui.answer(update, context)
    await reply(update, context, context.t._("⚠️ In which village? Type its name:"), edit=True)
    return VILLAGE


async def village_typed(update: Update, context: BotContext) -> State:
    message = update.effective_message
    assert message is not None and message.text is not None
    t = context.t
    rows = village_choices(context, message.text, lambda code: ReportCb(step="v", value=code))
    if not rows:
        await reply(
            update,
            context,
            t._(
                "I could not find «{query}». Check the spelling, or choose from the list.",
                query=message.text[:60],
            ),
        )
        return VILLAGE
    await reply(update, context, t._("Which one is yours?"), keyboard(*rows))
    return VILLAGE


async def village_chosen(update: Update, context: BotContext) -> State:
    query = update.callback_query
    assert query is not None
    data = ReportCb.parse(query.data)
    async with context.db.read() as conn:
        village = await places.get_village(conn, data.value) if data else None
    if village is None:
        await ui.answer(
            update, context, context.t._("This button is out of date. Open /menu again."), show_alert=True
        )
        return VILLAGE
    await ui.answer(update, context)
    await _draft(context, village=village.code)
    return await ask_kind(update, context, village)


async def kind_chosen(update: Update, context: BotContext) -> State:
    query = update.callback_query
    assert query is not None
    data = ReportCb.parse(query.data)
    t = context.t
    if data is None or data.value not in outages.KINDS:
        await ui.answer(
            update, context, t._("This button is out of date. Open /menu again."), show_alert=True
        )
        return KIND
    await ui.answer(update, context)
    await _draft(context, kind=data.value)
    rows = [
        [button(t._(SINCE_NAMES[since]).capitalize(), ReportCb(step="s", value=since))]
        for since in outages.SINCE
    ]
    await reply(update, context, t._("Since when?"), keyboard(*rows), edit=True)
    return SINCE


async def since_chosen(update: Update, context: BotContext) -> State:
    query = update.callback_query
    assert query is not None
    data = ReportCb.parse(query.data)
    t = context.t
    if data is None or data.value not in outages.SINCE:
        await ui.answer(
            update, context, t._("This button is out of date. Open /menu again."), show_alert=True
        )
        return SINCE
    await ui.answer(update, context)
    await _draft(context, since=data.value)
    await reply(
        update,
        context,
        t._("You can add a few words, a photo or your location. Or send it now."),
        keyboard([button(t._("📨 Send now"), ReportCb(step="send"))]),
        edit=True,
    )
    return DETAILS


async def detail_added(update: Update, context: BotContext) -> State:
    message = update.effective_message
    assert message is not None
    t = context.t
    if message.text is not None:
        if len(message.text) > MAX_FREE_TEXT:
            await reply(
                update,
                context,
                t._(
                    "That is too long ({length} characters). Please keep it under {limit}.",
                    length=len(message.text),
                    limit=MAX_FREE_TEXT,
                ),
            )
            return DETAILS
        await _draft(context, description=message.text.strip())
    elif message.photo:
        await _draft(context, photo=message.photo[-1].file_id)
    elif message.location is not None:
        await _draft(context, latitude=message.location.latitude, longitude=message.location.longitude)
    else:
        await reply(update, context, t._("Please send text, a photo or a location, or press «Send now»."))
        return DETAILS
    await reply(
        update,
        context,
        t._("Added. Send the report?"),
        keyboard([button(t._("📨 Send now"), ReportCb(step="send"))]),
    )
    return DETAILS


async def send_report(update: Update, context: BotContext) -> State:
    """Commit the report, then give the ticket: number, date and time."""
    query = update.callback_query
    assert query is not None
    t = context.t
    draft = await _draft(context)
    if "filed" in draft:
        await show_filed_ticket(update, context, int(draft["filed"]))
        return ConversationHandler.END
    if not {"village", "kind", "since"} <= set(draft):
        await ui.answer(
            update, context, t._("This button is out of date. Open /menu again."), show_alert=True
        )
        return ConversationHandler.END
    new = NewReport(
        user_id=context.member.id,
        village_code=draft["village"],
        kind=draft["kind"],
        since=draft["since"],
        description=draft.get("description"),
        photo_file_id=draft.get("photo"),
        latitude=draft.get("latitude"),
        longitude=draft.get("longitude"),
    )
    try:
        async with context.db.transaction() as tx:
            filed = await service.file_report(
                tx, new, source_key=f"callback:{query.id}", settings=context.settings, now=context.clock.now()
            )
            # Kept until the next /report: if the ticket below never reaches the resident (the bot
            # stops, Telegram fails the edit, the press is delivered again), «Send now» shows it.
            await drafts.save_draft(
                tx, context.member.id, FLOW, {"filed": filed.report.id}, context.clock.now()
            )
    except OutageError as error:
        await ui.answer(update, context)
        await reply(update, context, error_text(context, error), keyboard([back_to_menu(t)]), edit=True)
        return ConversationHandler.END
    await ui.answer(update, context)
    await reply(
        update,
        context,
        ticket_text(context, filed),
        keyboard([button(t._("📋 My reports"), MenuCb(item="myreports"))], [back_to_menu(t)]),
        edit=True,
    )
    return ConversationHandler.END


async def show_filed_ticket(update: Update, context: BotContext, report_id: int) -> None:
    """The ticket of a report already committed, shown again instead of "out of date"."""
    query = update.callback_query
    assert query is not None
    async with context.db.read() as conn:
        report = await outages.get_report(conn, report_id)
        incident = await outages.get_incident(conn, report.incident_id) if report else None
    try:
        await ui.answer(update, context)
    except BadRequest:
        pass  # a press delivered again may be too old to answer; the ticket still shows
    if report is None or incident is None:
        return
    t = context.t
    await reply(
        update,
        context,
        ticket_text(context, service.Filed(report, incident, new=True)),
        keyboard([button(t._("📋 My reports"), MenuCb(item="myreports"))], [back_to_menu(t)]),
        edit=True,
    )


def ticket_text(context: BotContext, filed: service.Filed) -> str:
    t = context.t
    report, incident = filed.report, filed.incident
    if not filed.new:
        return t._(
            "You have already reported this: ticket {number}. State: {state}.",
            number=report.number,
            state=t._(STATE_NAMES[incident.state]),
        )
    lines = [
        t._(
            "✅ Ticket {number} accepted on {date}.", number=report.number, date=t.datetime(report.created_at)
        ),
        t._(
            "What: {kind}, {since}.", kind=t._(KIND_NAMES[report.kind]), since=t._(SINCE_NAMES[report.since])
        ),
    ]
    others = incident.reports - 1
    if others > 0:
        lines.append(
            t.n_(
                "{n} neighbour has reported this too; engineers are informed.",
                "{n} neighbours have reported this too; engineers are informed.",
                others,
            )
        )
    else:
        lines.append(t._("Engineers are informed."))
    lines.append(t._("I will tell you when something changes."))
    return "\n".join(lines)


async def my_reports(update: Update, context: BotContext) -> None:
    """/myreports: my tickets and their states."""
    t = context.t
    if update.callback_query is not None:
        await ui.answer(update, context)
    async with context.db.read() as conn:
        mine = await outages.reports_by_user(conn, context.member.id)
        names = {}
        for report, _ in mine:
            village = await places.get_village(conn, report.village_code)
            names[report.id] = village.name(t.language) if village else report.village_code
    if not mine:
        await reply(
            update,
            context,
            t._("You have no outage reports. /report makes one."),
            keyboard([back_to_menu(t)]),
        )
        return
    lines = [t._("<b>My reports</b>")]
    for report, incident in mine:
        lines.append(
            t._(
                "{number}, {date}: {village}, {kind} — {state}",
                number=report.number,
                date=t.datetime(report.created_at),
                village=names[report.id],
                kind=t._(KIND_NAMES[report.kind]),
                state=t._(STATE_NAMES[incident.state]),
            )
        )
    await reply(update, context, "\n".join(lines), keyboard([back_to_menu(t)]))


async def working_answer(update: Update, context: BotContext) -> None:
    """A reporter's answer to "Is it working now?"; "no" reopens the incident."""
    query = update.callback_query
    assert query is not None
    t = context.t
    data = FixedCb.parse(query.data)
    if data is None:
        await ui.answer(
            update, context, t._("This button is out of date. Open /menu again."), show_alert=True
        )
        return
    try:
        async with context.db.transaction() as tx:
            incident = await service.answer_working(
                tx, data.incident, context.member.id, data.working, context.settings, context.clock.now()
            )
    except OutageError as error:
        await ui.answer(update, context, error_text(context, error), show_alert=True)
        return
    await ui.answer(update, context)
    if data.working:
        await reply(update, context, t._("Thank you! Glad it works."), edit=True)
    elif incident.state == "open":
        await reply(
            update,
            context,
            t._("Sorry to hear that. The outage is open again; engineers are informed."),
            edit=True,
        )
    else:
        await reply(update, context, t._("Thank you. Engineers are already working on it."), edit=True)


# --- staff ------------------------------------------------------------------------------------------
async def staff_button(update: Update, context: BotContext) -> None:
    """Take it / In progress / Resolved (with a reason): only staff covering the village may."""
    query = update.callback_query
    assert query is not None
    t = context.t
    data = StaffCb.parse(query.data)
    if (
        data is None
        or data.action not in ("take", "progress", "resolve")
        or (data.reason is not None and data.reason not in outages.RESOLUTIONS)
    ):
        await ui.answer(
            update, context, t._("This button is out of date. Open /menu again."), show_alert=True
        )
        return
    async with context.db.read() as conn:
        incident = await outages.get_incident(conn, data.incident)
    if incident is None:
        await ui.answer(update, context, t._("This outage no longer exists."), show_alert=True)
        return
    if not context.member.can("staff", incident.village_code):
        await ui.answer(
            update,
            context,
            t._("Sorry, this is only for the {role} role.", role=t._("field staff")),
            show_alert=True,
        )
        return
    if data.action == "resolve" and data.reason is None:
        await ui.answer(update, context)
        rows = [
            [
                button(
                    t._(RESOLUTION_NAMES[reason]).capitalize(),
                    StaffCb(incident=incident.id, action="resolve", reason=reason),
                )
            ]
            for reason in outages.RESOLUTIONS
        ]
        if query.message is not None:
            await context.bot.edit_message_reply_markup(
                query.message.chat.id, query.message.message_id, reply_markup=keyboard(*rows)
            )
        return
    now = context.clock.now()
    try:
        async with context.db.transaction() as tx:
            if data.action == "take":
                await service.take(tx, incident.id, context.member.id, context.settings, now)
            elif data.action == "progress":
                await service.start_work(tx, incident.id, context.member.id, context.settings, now)
            else:
                await service.resolve(
                    tx, incident.id, context.member.id, data.reason or "other", context.settings, now
                )
    except OutageError as error:
        await ui.answer(update, context, error_text(context, error), show_alert=True)
        return
    await ui.answer(
        update,
        context,
        {
            "take": t._("You took it."),
            "progress": t._("Marked: repair in progress."),
            "resolve": t._("Resolved. The residents are asked if it works."),
        }[data.action],
    )


@requires("staff")
async def list_outages(update: Update, context: BotContext) -> None:
    """/outages: open outages in my area, oldest first, overdue ones marked."""
    t = context.t
    query = update.callback_query
    argument = context.args[0] if context.args else ""
    data = ListCb.parse(query.data) if query is not None else ListCb(mine=argument == "mine")
    area = argument if argument.isdigit() else ""  # /outages 55: one region (or district) only
    if query is not None:
        await ui.answer(update, context)
    if data is None:
        return
    now = context.clock.now()
    async with context.db.read() as conn:
        found = await outages.unresolved(conn, context.member.scopes("staff"))
        names = {}
        for incident in found:
            village = await places.get_village(conn, incident.village_code)
            names[incident.id] = village.name(t.language) if village else incident.village_code
    if data.mine:
        found = [i for i in found if i.taken_by == context.member.id]
    if area:
        found = [i for i in found if i.village_code.startswith(area)]
    if data.show is not None:
        chosen = next((i for i in found if i.id == data.show), None)
        if chosen is not None:
            await _show_incident(update, context, chosen)
            return
    lines = [t._("<b>Open outages</b> (mine)") if data.mine else t._("<b>Open outages</b>")]
    rows = []
    for incident in found[:20]:
        late = " ⏰" if service.is_overdue(incident, context.settings, now) else ""
        lines.append(
            t.n_(
                "#{id} {village}: {kind}, {n} report, {state}{late}",
                "#{id} {village}: {kind}, {n} reports, {state}{late}",
                incident.reports,
                id=str(incident.id),
                village=names[incident.id],
                kind=t._(KIND_NAMES[incident.kind]),
                state=t._(STATE_NAMES[incident.state]),
                late=late,
            )
        )
        rows.append(
            [button(f"#{incident.id} {names[incident.id]}"[:60], ListCb(mine=data.mine, show=incident.id))]
        )
    if not found:
        lines.append(t._("No open outages. 🎉"))
    rows.append([button(t._("All"), ListCb(mine=False)), button(t._("Mine"), ListCb(mine=True))])
    await reply(
        update, context, "\n".join(lines), keyboard(*rows[:12], [back_to_menu(t)]), edit=query is not None
    )


async def _show_incident(update: Update, context: BotContext, incident: outages.Incident) -> None:
    t = context.t
    async with context.db.read() as conn:
        village = await places.get_village(conn, incident.village_code)
        district = await places.get_area(conn, village.district_code) if village else None
    if village is None:
        return
    params = service.alert_params(incident, village, district)
    await reply(update, context, alert_text(t, params), staff_keyboard(t, incident.id, incident.state))


REPORT = Flow(
    FLOW,
    entry_points=[
        CommandHandler("report", start_report),
        CallbackQueryHandler(start_report, pattern=lambda d: d == "menu:report"),
    ],
    states={
        VILLAGE: [
            MessageHandler(filters.TEXT & ~filters.COMMAND, village_typed),
            CallbackQueryHandler(village_chosen, pattern=step_filter("rp", "v")),
        ],
        KIND: [
            CallbackQueryHandler(kind_chosen, pattern=step_filter("rp", "k")),
            CallbackQueryHandler(other_village, pattern=step_filter("rp", "other")),
        ],
        SINCE: [CallbackQueryHandler(since_chosen, pattern=step_filter("rp", "s"))],
        DETAILS: [
            CallbackQueryHandler(send_report, pattern=step_filter("rp", "send")),
            MessageHandler(
                (filters.TEXT & ~filters.COMMAND) | filters.PHOTO | filters.LOCATION, detail_added
            ),
        ],
    },
)
FLOWS = [REPORT]
HANDLERS: list[Handler] = [
    # «Send now» after the flow ended (a press delivered again): show the ticket, not "out of date".
    CallbackQueryHandler(send_report, pattern=step_filter("rp", "send")),
    CommandHandler("myreports", my_reports),
    CallbackQueryHandler(my_reports, pattern=lambda d: d == "menu:myreports"),
    CallbackQueryHandler(working_answer, pattern=FixedCb.filter()),
    CallbackQueryHandler(staff_button, pattern=StaffCb.filter()),
    CommandHandler("outages", list_outages),
    CallbackQueryHandler(list_outages, pattern=lambda d: d == "menu:outages"),
    CallbackQueryHandler(list_outages, pattern=ListCb.filter()),
]
