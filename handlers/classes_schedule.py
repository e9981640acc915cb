"""Classes for trainers, scheduling: a new class (/newclass), a new time, venue or number of seats,
and cancelling a class (asked once). The flows need the trainer role at every step."""

from __future__ import annotations

from datetime import datetime

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler, MessageHandler, filters

from bot import flows, ui
from bot.callbacks import CallbackData
from bot.classes import keyboards, service, texts, when
from bot.classes.callbacks import (
    ChangeCb,
    ChangeStartCb,
    LengthCb,
    NewClassCb,
    SeatsCb,
    TongueCb,
    TopicCb,
    TrainerCb,
    VillageCb,
    WhenCb,
)
from bot.classes.service import ClassError
from bot.context import BotContext
from bot.flows import Flow, Handler, State

VILLAGE, VENUE, DAY, TIME, LENGTH, TOPIC, LANGUAGE, SEATS, CONFIRM = (
    f"newclass.{step}"
    for step in ("village", "venue", "day", "time", "length", "topic", "language", "seats", "confirm")
)
NEW_TIME, NEW_VENUE, NEW_SEATS = (f"classchange.{step}" for step in ("time", "venue", "seats"))
MAX_VILLAGES = 5


async def _refuse(update: Update, context: BotContext, error: ClassError) -> None:
    await ui.refuse(update, context, texts.error_text(context.t, error))


def _typed(update: Update) -> str:
    message = update.effective_message
    assert message is not None and message.text is not None
    return message.text


def _cancel_only(context: BotContext) -> InlineKeyboardMarkup:
    return ui.keyboard([ui.cancel_button(context.t)])


def _typed_when(update: Update, context: BotContext) -> datetime | None:
    zone = context.t.zone
    return when.parse_when(_typed(update), when.local_day(context.clock.now(), zone), zone)


# --- a new class ------------------------------------------------------------------------------------------
async def new_class(update: Update, context: BotContext) -> State:
    """/newclass: village → venue → day → time → length → topic → language → seats → save."""
    t = context.t
    await service.start_new_class(context.db, context.member, context.clock.now())
    await ui.show(
        update, context, t._("➕ New class. In which village? Type its name:"), _cancel_only(context)
    )
    return VILLAGE


async def new_class_button(update: Update, context: BotContext, data: NewClassCb) -> State:
    return await new_class(update, context)


async def village_typed(update: Update, context: BotContext) -> State:
    """A village name typed (again): the matches in the trainer's area, with search again and menu."""
    t = context.t
    typed = _typed(update)[: ui.MAX_FREE_TEXT]
    found = [
        match.place
        for match in context.services.villages.search(typed, limit=3 * MAX_VILLAGES)
        if context.member.can("trainer", match.place.code)
    ][:MAX_VILLAGES]
    if not found:
        text = t._("No village in your area matches «{query}». Type the name again:", query=typed[:60])
        await ui.show(update, context, text, _cancel_only(context))
        return VILLAGE
    await ui.show(update, context, t._("Which village?"), keyboards.make_village_keyboard(t, found))
    return VILLAGE


async def village_chosen(update: Update, context: BotContext, data: VillageCb) -> State | None:
    t = context.t
    if data.village is None:
        await ui.show(update, context, t._("Type the village name again:"), _cancel_only(context))
        return VILLAGE
    try:
        await service.choose_village(context.db, context.member, data.village, context.clock.now())
    except ClassError as error:
        await _refuse(update, context, error)
        return None
    text = t._("Where exactly? Type the venue, e.g. «School No. 1, room 12»:")
    await ui.show(update, context, text, _cancel_only(context))
    return VENUE


async def venue_typed(update: Update, context: BotContext) -> State | None:
    t = context.t
    try:
        await service.set_venue(context.db, context.member, _typed(update), context.clock.now())
    except ClassError as error:
        await _refuse(update, context, error)
        return None
    today = when.local_day(context.clock.now(), t.zone)
    markup = keyboards.make_day_keyboard(t, when.next_days(today))
    await ui.show(update, context, t._("Which day? Or type the date and time, e.g. 25.12 14:00"), markup)
    return DAY


async def day_chosen(update: Update, context: BotContext, data: WhenCb) -> State:
    t = context.t
    await ui.show(update, context, t._("What time?"), keyboards.make_time_keyboard(t, data.day))
    return TIME


async def time_chosen(update: Update, context: BotContext, data: WhenCb) -> State | None:
    assert data.time is not None
    starts = when.chosen_start(data.day, data.time, context.t.zone)
    if starts is None:
        await ui.stale(update, context)
        return None
    return await _start_chosen(update, context, starts)


async def when_typed(update: Update, context: BotContext) -> State | None:
    starts = _typed_when(update, context)
    if starts is None:
        await ui.refuse(update, context, context.t._("Please type the date and time like 25.12 14:00."))
        return None
    return await _start_chosen(update, context, starts)


async def _start_chosen(update: Update, context: BotContext, starts: datetime) -> State | None:
    t = context.t
    try:
        await service.set_start(context.db, context.member, starts, context.clock.now())
    except ClassError as error:
        await _refuse(update, context, error)
        return None
    await ui.show(update, context, t._("How long?"), keyboards.make_length_keyboard(t))
    return LENGTH


async def length_chosen(update: Update, context: BotContext, data: LengthCb) -> State:
    t = context.t
    await service.set_choice(context.db, context.member, context.clock.now(), minutes=data.minutes)
    await ui.show(update, context, t._("Topic?"), keyboards.make_topic_keyboard(t))
    return TOPIC


async def topic_chosen(update: Update, context: BotContext, data: TopicCb) -> State:
    t = context.t
    await service.set_choice(context.db, context.member, context.clock.now(), topic=data.topic)
    await ui.show(update, context, t._("In which language?"), keyboards.make_language_keyboard(t))
    return LANGUAGE


async def language_chosen(update: Update, context: BotContext, data: TongueCb) -> State:
    t = context.t
    await service.set_choice(context.db, context.member, context.clock.now(), language=data.language)
    await ui.show(update, context, t._("How many seats? Or type a number:"), keyboards.make_seats_keyboard(t))
    return SEATS


async def seats_chosen(update: Update, context: BotContext, data: SeatsCb) -> State | None:
    return await _seats(update, context, data.seats)


async def seats_typed(update: Update, context: BotContext) -> State | None:
    typed = _typed(update).strip()
    return await _seats(update, context, int(typed) if typed.isdigit() and len(typed) < 5 else 0)


async def _seats(update: Update, context: BotContext, seats: int) -> State | None:
    t = context.t
    try:
        draft = await service.set_capacity(context.db, context.member, seats, context.clock.now())
    except ClassError as error:
        await _refuse(update, context, error)
        return None if error.code == "bad_capacity" else flows.END
    await ui.show(update, context, texts.new_class_summary(t, draft), keyboards.make_save_keyboard(t))
    return CONFIRM


async def save(update: Update, context: BotContext, data: NewClassCb) -> State:
    t = context.t
    try:
        scheduled = await service.save_new_class(context.db, context.member, context.clock.now())
    except ClassError as error:
        await _refuse(update, context, error)
        return flows.END
    await ui.show(update, context, texts.scheduled_text(t, scheduled), keyboards.make_done_keyboard(t))
    return flows.END


# --- changing a class -------------------------------------------------------------------------------------
async def change_start(update: Update, context: BotContext, data: ChangeStartCb) -> State:
    """«🕐 New time», «📍 New place» or «🪑 Seats» on the register."""
    t = context.t
    try:
        lesson = await service.start_change(context.db, context.member, data.lesson, context.clock.now())
    except ClassError as error:
        await _refuse(update, context, error)
        return flows.END
    if data.what == "time":
        today = when.local_day(context.clock.now(), t.zone)
        markup = keyboards.make_day_keyboard(t, when.next_days(today), lesson.id)
        await ui.show(
            update, context, t._("Which day? Or type the new date and time like 25.12 14:00"), markup
        )
        return NEW_TIME
    if data.what == "seats":
        markup = keyboards.make_seats_keyboard(t, lesson.id)
        await ui.show(update, context, t._("How many seats? Or type a number:"), markup)
        return NEW_SEATS
    await ui.show(update, context, t._("Type the new venue:"), _cancel_only(context))
    return NEW_VENUE


async def change_button(update: Update, context: BotContext, data: ChangeCb) -> State | None:
    """A day (then a time), or a number of seats, for a class being changed."""
    t = context.t
    if data.seats is not None:
        return await _change(update, context, data.lesson, capacity=data.seats)
    if data.day is not None and data.time is None:
        markup = keyboards.make_time_keyboard(t, data.day, data.lesson)
        await ui.show(update, context, t._("What time?"), markup)
        return NEW_TIME
    starts = when.chosen_start(data.day, data.time, t.zone) if data.day and data.time else None
    if starts is None:
        await ui.stale(update, context)
        return flows.END
    return await _change(update, context, data.lesson, starts_at=starts)


async def new_time_typed(update: Update, context: BotContext) -> State | None:
    starts = _typed_when(update, context)
    if starts is None:
        await ui.refuse(update, context, context.t._("Please type the date and time like 25.12 14:00."))
        return None
    return await _change(update, context, None, starts_at=starts)


async def new_venue_typed(update: Update, context: BotContext) -> State | None:
    return await _change(update, context, None, venue=_typed(update))


async def new_seats_typed(update: Update, context: BotContext) -> State | None:
    typed = _typed(update).strip()
    return await _change(
        update, context, None, capacity=int(typed) if typed.isdigit() and len(typed) < 5 else 0
    )


async def _change(
    update: Update,
    context: BotContext,
    lesson_id: int | None,
    *,
    starts_at: datetime | None = None,
    venue: str | None = None,
    capacity: int | None = None,
) -> State | None:
    """Apply a change; the register comes back saying how many people were told."""
    t = context.t
    try:
        roster = await service.change_class(
            context.db,
            context.member,
            lesson_id,
            context.clock.now(),
            offer_minutes=context.settings.seat_offer_minutes,
            starts_at=starts_at,
            venue=venue,
            capacity=capacity,
        )
    except ClassError as error:
        await _refuse(update, context, error)
        typed_again = update.callback_query is None and error.code in (
            "in_the_past",
            "bad_venue",
            "bad_capacity",
            "below_booked",
        )
        return None if typed_again else flows.END
    told = roster.told or 0
    head = (
        t.n_("Saved; {n} person is told.", "Saved; {n} people are told.", told) if told else t._("✅ Saved.")
    )
    markup = keyboards.make_roster_keyboard(
        t, roster.lesson, roster.entries, register_open=roster.open, changeable=not roster.open
    )
    await ui.show(update, context, texts.roster_text(t, roster, head), markup)
    return flows.END


# --- cancelling a class -----------------------------------------------------------------------------------
async def cancel_class(update: Update, context: BotContext, data: TrainerCb) -> None:
    """«✖️ Cancel the class»: asked once; then everyone booked, offered or waiting is told."""
    t = context.t
    now = context.clock.now()
    try:
        if not data.confirmed:
            await service.ask_to_cancel_class(context.db, context.member, data.lesson, now)
            text = t._("Cancel the class? Everyone booked will be told.")
            await ui.show(update, context, text, keyboards.make_cancel_class_keyboard(t, data.lesson))
            return
        told = await service.cancel_class(context.db, context.member, data.lesson, now)
    except ClassError as error:
        await _refuse(update, context, error)
        return
    text = t.n_(
        "The class is cancelled; {n} person is told.", "The class is cancelled; {n} people are told.", told
    )
    await ui.show(update, context, text, keyboards.make_done_keyboard(t))


async def outside_the_flow(update: Update, context: BotContext, data: CallbackData) -> None:
    """A step button of a flow the person is not in: someone without the role is told so; a trainer
    pressing an old message is told it is out of date."""
    if not context.member.holds("trainer"):
        await _refuse(update, context, ClassError("not_trainer"))
        return
    await ui.stale(update, context)


text = filters.TEXT & ~filters.COMMAND
FLOWS = [
    Flow(
        "newclass",
        role="trainer",
        entry_points=[
            CommandHandler("newclass", new_class),
            ui.on_button(NewClassCb, new_class_button, when=lambda d: d.step == "start"),
        ],
        states={
            VILLAGE: [MessageHandler(text, village_typed), ui.on_button(VillageCb, village_chosen)],
            VENUE: [MessageHandler(text, venue_typed)],
            DAY: [
                ui.on_button(WhenCb, day_chosen, when=lambda d: d.time is None),
                MessageHandler(text, when_typed),
            ],
            TIME: [
                ui.on_button(WhenCb, time_chosen, when=lambda d: d.time is not None),
                ui.on_button(WhenCb, day_chosen, when=lambda d: d.time is None),
                MessageHandler(text, when_typed),
            ],
            LENGTH: [ui.on_button(LengthCb, length_chosen)],
            TOPIC: [ui.on_button(TopicCb, topic_chosen)],
            LANGUAGE: [ui.on_button(TongueCb, language_chosen)],
            SEATS: [ui.on_button(SeatsCb, seats_chosen), MessageHandler(text, seats_typed)],
            CONFIRM: [ui.on_button(NewClassCb, save, when=lambda d: d.step == "save")],
        },
    ),
    Flow(
        "classchange",
        role="trainer",
        # With a condition, data that does not parse is left to the out-of-date answer below.
        entry_points=[
            ui.on_button(ChangeStartCb, change_start, when=lambda d: True),
            ui.on_button(ChangeCb, change_button, when=lambda d: True),
        ],
        states={
            NEW_TIME: [MessageHandler(text, new_time_typed)],
            NEW_VENUE: [MessageHandler(text, new_venue_typed)],
            NEW_SEATS: [MessageHandler(text, new_seats_typed)],
        },
    ),
]
HANDLERS: list[Handler] = [
    ui.on_button(TrainerCb, cancel_class, when=lambda d: d.action == "cancel"),
    *(
        ui.on_button(kind, outside_the_flow)
        for kind in (
            VillageCb,
            WhenCb,
            LengthCb,
            TopicCb,
            TongueCb,
            SeatsCb,
            NewClassCb,
            ChangeStartCb,
            ChangeCb,
        )
    ),
]
