"""Digital-literacy classes: residents book (for themselves or a relative); trainers run the register."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import ui
from bot.classes import service
from bot.classes.callbacks import CancelCb, ChangeCb, LessonCb, NewLessonCb, OfferCb, TrainerCb, WalkInCb
from bot.classes.notifications import AGE_NAMES, TOPIC_NAMES
from bot.classes.service import ClassError, NewLesson
from bot.context import BotContext
from bot.flows import Flow, Handler, State
from bot.i18n import Translator
from db import classes, drafts, places, users
from db.classes import Booking, Lesson
from handlers.common import (
    back_to_menu,
    button,
    keyboard,
    reply,
    requires,
    step_filter,
    update_draft,
    village_choices,
)

RELATIVE_NAME, WALK_IN_NAME, NEW_TIME, NEW_VENUE, NEW_SEATS = (
    f"classes.{step}" for step in ("relative", "walk_in", "new_time", "new_venue", "new_seats")
)
NC_VILLAGE, NC_VENUE, NC_DATE, NC_TIME, NC_LENGTH, NC_TOPIC, NC_LANGUAGE, NC_CAPACITY, NC_CONFIRM = (
    f"classes.schedule_{step}"
    for step in ("village", "venue", "date", "time", "length", "topic", "language", "capacity", "confirm")
)
FLOW = "classes"
TIMES = ("10:00", "11:00", "14:00", "15:00", "18:00")
LENGTHS = ("60", "90", "120")
CAPACITIES = ("10", "15", "20", "30")
YEAR_ROLLOVER_DAYS = 60
TYPED_WHEN = re.compile(r"^\s*(\d{1,2})\.(\d{1,2})(?:\.(\d{4}))?\s+(\d{1,2}):(\d{2})\s*$")


def error_text(context: BotContext, error: ClassError) -> str:
    t = context.t
    texts = {
        "in_the_past": t._("That time has already passed. Choose a time in the future."),
        "bad_capacity": t._("The number of seats must be between 1 and 200."),
        "bad_venue": t._("The venue should be 2 to 100 characters."),
        "unknown_village": t._("I could not find that village. Try the search again."),
        "not_open": t._("This class is no longer open."),
        "already_started": t._("This class has already started."),
        "not_your_booking": t._("This booking is not yours or is already cancelled."),
        "offer_expired": t._("Sorry, the time to confirm this seat has passed."),
        "not_your_class": t._("This is another trainer's class."),
        "not_booked": t._("This person is not on the roster."),
        "bad_name": t._("Please type a name of 2 to 80 characters."),
        "bad_choice": t._("This button is out of date. Open /menu again."),
        "outside_area": t._("This village is outside your area."),
        "below_booked": t._("More people are already booked than that. Choose a bigger number."),
    }
    return texts.get(error.code, t._("Sorry, something went wrong. Please try again in a minute."))


def when_text(t: Translator, lesson: Lesson) -> str:
    return t.datetime(lesson.starts_at, "d MMMM, HH:mm")


def lesson_line(t: Translator, lesson: Lesson, village: str) -> str:
    seats = lesson.capacity - lesson.taken
    free = t.n_("{n} seat left", "{n} seats left", seats) if seats > 0 else t._("waiting list")
    return t._(
        "«{topic}» {when}, {village} — {free}",
        topic=t._(TOPIC_NAMES[lesson.topic]),
        when=when_text(t, lesson),
        village=village,
        free=free,
    )


# --- residents -------------------------------------------------------------------------------------
async def list_classes(update: Update, context: BotContext) -> None:
    """/classes: upcoming classes in my village first, then my district."""
    t = context.t
    if update.callback_query is not None:
        await ui.answer(update, context)
    now = context.clock.now()
    async with context.db.read() as conn:
        found = await service.classes_near(conn, await places.my_village(conn, context.member.id), now)
        names = {}
        for lesson in found[:10]:
            place = await places.get_village(conn, lesson.village_code)
            names[lesson.id] = place.name(t.language) if place else lesson.village_code
    if not found:
        await reply(
            update,
            context,
            t._("No classes are planned near you yet. Follow your village to hear news."),
            keyboard([back_to_menu(t)]),
            edit=update.callback_query is not None,
        )
        return
    rows = [
        [button(lesson_line(t, lesson, names[lesson.id])[:60], LessonCb(action="show", lesson=lesson.id))]
        for lesson in found[:10]
    ]
    await reply(
        update,
        context,
        t._("🎓 Free classes: choose one to see the details."),
        keyboard(*rows, [back_to_menu(t)]),
        edit=update.callback_query is not None,
    )


async def show_lesson(update: Update, context: BotContext, lesson_id: int, *, edit: bool) -> None:
    t = context.t
    async with context.db.read() as conn:
        lesson = await classes.get_lesson(conn, lesson_id)
        village = await places.get_village(conn, lesson.village_code) if lesson else None
        mine = await classes.my_bookings(conn, context.member.id, lesson_id) if lesson else []
    if lesson is None or village is None:
        await reply(update, context, t._("This class is no longer open."))
        return
    seats = lesson.capacity - lesson.taken
    lines = [
        t._("🎓 <b>{topic}</b>", topic=t._(TOPIC_NAMES[lesson.topic])),
        t._("When: {when}, {minutes} min", when=when_text(t, lesson), minutes=lesson.minutes),
        t._("Where: {venue}, {village}", venue=lesson.venue, village=village.name(t.language)),
        t._("Language: {name}", name={"kk": "Қазақша", "ru": "Русский"}[lesson.language]),
        t.n_("{n} seat left", "{n} seats left", seats)
        if seats > 0
        else t.n_(
            "No seats left; {n} person is waiting.", "No seats left; {n} people are waiting.", lesson.waiting
        ),
    ]
    rows = []
    for booking in mine:
        who = booking.attendee_name or t._("me")
        lines.append(booking_status(t, booking, who))
        rows.append([button(t._("✖️ Cancel: {who}", who=who)[:60], CancelCb(booking=booking.id))])
    if lesson.state == "scheduled":
        if not any(b.attendee_name is None for b in mine):
            label = t._("🙋 Book for me") if seats > 0 else t._("🙋 Waiting list for me")
            rows.append([button(label, LessonCb(action="me", lesson=lesson.id))])
        rows.append([button(t._("👵 Book for a relative"), LessonCb(action="relative", lesson=lesson.id))])
    if any(b.state == "booked" for b in mine):
        rows.append([button(t._("📅 Add to calendar"), LessonCb(action="ics", lesson=lesson.id))])
    rows.append([button(t._("⬅️ All classes"), LessonCb(action="list", lesson=0)), back_to_menu(t)])
    await reply(update, context, "\n".join(lines), keyboard(*rows), edit=edit)


def booking_status(t: Translator, booking: Booking, who: str) -> str:
    if booking.state == "booked":
        return t._("✅ Booked: {who}", who=who)
    if booking.state == "offered":
        return t._("🎟 A seat is offered to {who}: confirm it in the message above.", who=who)
    return t._("⏳ On the waiting list: {who}", who=who)


def age_keyboard(t: Translator, action: str, lesson_id: int) -> list[list[Any]]:
    return [
        [
            button(t._(AGE_NAMES[age]), LessonCb(action=action, lesson=lesson_id, age=age))
            for age in classes.AGE_GROUPS
        ]
    ]


async def lesson_button(update: Update, context: BotContext) -> State | None:
    """show / me (+age) / relative / ics / list."""
    query = update.callback_query
    assert query is not None
    t = context.t
    data = LessonCb.parse(query.data)
    if (
        data is None
        or data.action not in ("show", "me", "relative", "ics", "list")
        or (data.age is not None and data.age not in classes.AGE_GROUPS)
    ):
        await ui.answer(
            update, context, t._("This button is out of date. Open /menu again."), show_alert=True
        )
        return ConversationHandler.END
    if data.action == "list":
        await list_classes(update, context)
        return ConversationHandler.END
    if data.action == "show":
        await ui.answer(update, context)
        await show_lesson(update, context, data.lesson, edit=True)
        return ConversationHandler.END
    if data.action == "ics":
        await ui.answer(update, context)
        await send_calendar(update, context, data.lesson)
        return ConversationHandler.END
    if data.action == "relative" and data.age is None:
        await ui.answer(update, context)
        async with context.db.transaction() as tx:
            await drafts.save_draft(tx, context.member.id, FLOW, {"lesson": data.lesson}, context.clock.now())
        await reply(update, context, t._("Type your relative's name:"), edit=True)
        return RELATIVE_NAME
    if data.age is None:
        await ui.answer(update, context)
        await reply(
            update,
            context,
            t._("How old is the person coming?"),
            keyboard(*age_keyboard(t, data.action, data.lesson)),
            edit=True,
        )
        return ConversationHandler.END
    name = None
    if data.action == "relative":
        async with context.db.read() as conn:
            name = (await drafts.get_draft(conn, context.member.id, FLOW)).get("relative")
        if not name:
            await ui.answer(
                update, context, t._("This button is out of date. Open /menu again."), show_alert=True
            )
            return ConversationHandler.END
    try:
        async with context.db.transaction() as tx:
            booking = await service.book(
                tx,
                data.lesson,
                user_id=context.member.id,
                age_group=data.age,
                attendee_name=name,
                source_key=f"callback:{query.id}",
                now=context.clock.now(),
            )
    except ClassError as error:
        await ui.answer(update, context, error_text(context, error), show_alert=True)
        return ConversationHandler.END
    who = booking.attendee_name or t._("me")
    await ui.answer(
        update, context, t._("Booked.") if booking.state == "booked" else t._("Added to the waiting list.")
    )
    await reply(
        update,
        context,
        booking_status(t, booking, who)
        + "\n"
        + (
            t._("I will remind you a day before and two hours before.")
            if booking.state == "booked"
            else t._("When a seat frees up, I will offer it to you.")
        ),
        edit=True,
    )
    await show_lesson(update, context, data.lesson, edit=False)
    return ConversationHandler.END


async def relative_named(update: Update, context: BotContext) -> State:
    message = update.effective_message
    assert message is not None and message.text is not None
    t = context.t
    name = message.text.strip()
    if not 2 <= len(name) <= 80:
        await reply(update, context, t._("Please type a name of 2 to 80 characters."))
        return RELATIVE_NAME
    draft = await update_draft(context, FLOW, relative=name)
    await reply(
        update,
        context,
        t._("How old is {name}?", name=name),
        keyboard(*age_keyboard(t, "relative", int(draft.get("lesson", 0)))),
    )
    return ConversationHandler.END


async def cancel_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    t = context.t
    data = CancelCb.parse(query.data)
    if data is None:
        await ui.answer(
            update, context, t._("This button is out of date. Open /menu again."), show_alert=True
        )
        return
    try:
        async with context.db.transaction() as tx:
            booking = await service.cancel_booking(
                tx,
                data.booking,
                user_id=context.member.id,
                offer_minutes=context.settings.seat_offer_minutes,
                now=context.clock.now(),
            )
    except ClassError as error:
        await ui.answer(update, context, error_text(context, error), show_alert=True)
        return
    await ui.answer(
        update, context, t._("Cancelled. Thank you for telling us: the seat goes to someone waiting.")
    )
    await show_lesson(update, context, booking.class_id, edit=True)


async def offer_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    t = context.t
    data = OfferCb.parse(query.data)
    if data is None:
        await ui.answer(
            update, context, t._("This button is out of date. Open /menu again."), show_alert=True
        )
        return
    try:
        async with context.db.transaction() as tx:
            booking = await service.answer_offer(
                tx,
                data.booking,
                user_id=context.member.id,
                accept=data.accept,
                offer_minutes=context.settings.seat_offer_minutes,
                now=context.clock.now(),
            )
    except ClassError as error:
        await ui.answer(update, context, error_text(context, error), show_alert=True)
        return
    await ui.answer(update, context)
    if data.accept:
        await reply(update, context, t._("✅ The seat is yours. See you at the class!"), edit=True)
        await show_lesson(update, context, booking.class_id, edit=False)
    else:
        await reply(update, context, t._("All right, the seat goes to the next person."), edit=True)


async def send_calendar(update: Update, context: BotContext, lesson_id: int) -> None:
    t = context.t
    async with context.db.read() as conn:
        lesson = await classes.get_lesson(conn, lesson_id)
        village = await places.get_village(conn, lesson.village_code) if lesson else None
    if lesson is None or village is None or update.effective_chat is None:
        return
    data = service.calendar_file(
        lesson,
        village.name(t.language),
        t._("AuylNet class: {topic}", topic=t._(TOPIC_NAMES[lesson.topic])),
        context.clock.now(),
    )
    await context.bot.send_document(
        update.effective_chat.id,
        data,
        filename=f"auylnet-class-{lesson.id}.ics",
        caption=t._("Open the file to add the class to your calendar."),
    )


# --- trainers --------------------------------------------------------------------------------------
@requires("trainer")
async def trainer_screen(update: Update, context: BotContext) -> None:
    """The trainer's menu: new class, my classes, numbers."""
    t = context.t
    if update.callback_query is not None:
        await ui.answer(update, context)
    await reply(
        update,
        context,
        t._("🧑‍🏫 Classes you teach"),
        keyboard(
            [button(t._("➕ New class"), NewLessonCb(step="start", value="-"))],
            [button(t._("📋 My classes"), TrainerCb(action="mine", lesson=0))],
            [button(t._("📊 Numbers"), TrainerCb(action="numbers", lesson=0))],
            [back_to_menu(t)],
        ),
        edit=update.callback_query is not None,
    )


async def _new(context: BotContext, **changes: Any) -> dict[str, Any]:
    return await update_draft(context, "newclass", **changes)


@requires("trainer")
async def new_lesson(update: Update, context: BotContext) -> State:
    """/newclass: village → venue → day → time → length → topic → language → seats → save."""
    if update.callback_query is not None:
        await ui.answer(update, context)
    async with context.db.transaction() as tx:
        await drafts.save_draft(tx, context.member.id, "newclass", {}, context.clock.now())
    await reply(update, context, context.t._("➕ New class. In which village? Type its name:"))
    return NC_VILLAGE


async def nc_village_typed(update: Update, context: BotContext) -> State:
    message = update.effective_message
    assert message is not None and message.text is not None
    t = context.t
    rows = village_choices(
        context, message.text, lambda code: NewLessonCb(step="village", value=code), role="trainer"
    )
    if not rows:
        await reply(
            update,
            context,
            t._("No village in your area matches «{query}». Type it again:", query=message.text[:60]),
        )
        return NC_VILLAGE
    await reply(update, context, t._("Which village?"), keyboard(*rows))
    return NC_VILLAGE


async def nc_village_chosen(update: Update, context: BotContext) -> State:
    query = update.callback_query
    assert query is not None
    data = NewLessonCb.parse(query.data)
    if data is None or not context.member.can("trainer", data.value):
        await ui.answer(update, context, context.t._("This village is outside your area."), show_alert=True)
        return NC_VILLAGE
    await ui.answer(update, context)
    await _new(context, village=data.value)
    await reply(
        update,
        context,
        context.t._("Where exactly? Type the venue, e.g. «School No. 1, room 12»:"),
        edit=True,
    )
    return NC_VENUE


async def nc_venue_typed(update: Update, context: BotContext) -> State:
    message = update.effective_message
    assert message is not None and message.text is not None
    t = context.t
    venue = message.text.strip()
    if not 2 <= len(venue) <= 100:
        await reply(update, context, t._("The venue should be 2 to 100 characters."))
        return NC_VENUE
    await _new(context, venue=venue)
    rows = day_rows(context, lambda day: NewLessonCb(step="day", value=day))
    await reply(update, context, t._("Which day? Or type the date and time as DD.MM HH:MM"), keyboard(*rows))
    return NC_DATE


async def nc_day_chosen(update: Update, context: BotContext) -> State:
    query = update.callback_query
    assert query is not None
    data = NewLessonCb.parse(query.data)
    await ui.answer(update, context)
    if data is None:
        return NC_DATE
    await _new(context, day=data.value)
    rows = [[button(time, NewLessonCb(step="time", value=time.replace(":", ""))) for time in TIMES]]
    await reply(update, context, context.t._("What time?"), keyboard(*rows), edit=True)
    return NC_TIME


async def nc_when_typed(update: Update, context: BotContext) -> State:
    message = update.effective_message
    assert message is not None and message.text is not None
    t = context.t
    starts = parse_when(message.text, context)
    if starts is None:
        await reply(update, context, t._("Please type the date and time like 25.12 14:00."))
        return NC_DATE
    if starts <= context.clock.now():
        await reply(update, context, t._("That time has already passed. Choose a time in the future."))
        return NC_DATE
    await _new(context, starts=starts.isoformat())
    return await ask_length(update, context)


async def nc_time_chosen(update: Update, context: BotContext) -> State:
    query = update.callback_query
    assert query is not None
    data = NewLessonCb.parse(query.data)
    await ui.answer(update, context)
    draft = await _new(context)
    if data is None or "day" not in draft or not data.value.isdigit():
        return NC_TIME
    day = date.fromisoformat(draft["day"])
    starts = datetime(
        day.year, day.month, day.day, int(data.value[:2]), int(data.value[2:]), tzinfo=context.t.zone
    )
    await _new(context, starts=starts.isoformat())
    return await ask_length(update, context)


async def ask_length(update: Update, context: BotContext) -> State:
    t = context.t
    rows = [
        [
            button(t._("{n} min", n=int(length)), NewLessonCb(step="length", value=length))
            for length in LENGTHS
        ]
    ]
    await reply(update, context, t._("How long?"), keyboard(*rows), edit=update.callback_query is not None)
    return NC_LENGTH


async def nc_length_chosen(update: Update, context: BotContext) -> State:
    query = update.callback_query
    assert query is not None
    data = NewLessonCb.parse(query.data)
    await ui.answer(update, context)
    if data is None or data.value not in LENGTHS:
        return NC_LENGTH
    await _new(context, minutes=int(data.value))
    t = context.t
    rows = [
        [button(t._(TOPIC_NAMES[topic]), NewLessonCb(step="topic", value=topic))] for topic in classes.TOPICS
    ]
    await reply(update, context, t._("Topic?"), keyboard(*rows), edit=True)
    return NC_TOPIC


async def nc_topic_chosen(update: Update, context: BotContext) -> State:
    query = update.callback_query
    assert query is not None
    data = NewLessonCb.parse(query.data)
    await ui.answer(update, context)
    if data is None or data.value not in classes.TOPICS:
        return NC_TOPIC
    await _new(context, topic=data.value)
    rows = [
        [
            button("Қазақша", NewLessonCb(step="language", value="kk")),
            button("Русский", NewLessonCb(step="language", value="ru")),
        ]
    ]
    await reply(update, context, context.t._("In which language?"), keyboard(*rows), edit=True)
    return NC_LANGUAGE


async def nc_language_chosen(update: Update, context: BotContext) -> State:
    query = update.callback_query
    assert query is not None
    data = NewLessonCb.parse(query.data)
    await ui.answer(update, context)
    if data is None or data.value not in ("kk", "ru"):
        return NC_LANGUAGE
    await _new(context, language=data.value)
    rows = [[button(n, NewLessonCb(step="seats", value=n)) for n in CAPACITIES]]
    await reply(update, context, context.t._("How many seats? Or type a number:"), keyboard(*rows), edit=True)
    return NC_CAPACITY


async def nc_seats(update: Update, context: BotContext) -> State:
    t = context.t
    if update.callback_query is not None:
        data = NewLessonCb.parse(update.callback_query.data)
        await ui.answer(update, context)
        value = data.value if data else ""
    else:
        assert update.effective_message is not None
        value = (update.effective_message.text or "").strip()
    if not value.isdigit() or not 1 <= int(value) <= 200:
        await reply(update, context, t._("The number of seats must be between 1 and 200."))
        return NC_CAPACITY
    draft = await _new(context, capacity=int(value))
    starts = datetime.fromisoformat(draft["starts"])
    topic_name = TOPIC_NAMES[draft["topic"]]
    async with context.db.read() as conn:
        village = await places.get_village(conn, draft["village"])
    lines = [
        t._("<b>Check and save</b>"),
        t._(
            "Where: {venue}, {village}",
            venue=draft["venue"],
            village=village.name(t.language) if village else "",
        ),
        t._(
            "When: {when}, {minutes} min", when=t.datetime(starts, "d MMMM, HH:mm"), minutes=draft["minutes"]
        ),
        t._("Topic: {topic}", topic=t._(topic_name)),
        t._("Language: {name}", name={"kk": "Қазақша", "ru": "Русский"}[draft["language"]]),
        t.n_("{n} seat", "{n} seats", int(draft["capacity"])),
    ]
    await reply(
        update,
        context,
        "\n".join(lines),
        keyboard([button(t._("✅ Save"), NewLessonCb(step="save", value="-"))]),
        edit=update.callback_query is not None,
    )
    return NC_CONFIRM


@requires("trainer")
async def nc_save(update: Update, context: BotContext) -> State:
    query = update.callback_query
    assert query is not None
    t = context.t
    draft = await _new(context)
    try:
        new = NewLesson(
            village_code=draft["village"],
            venue=draft["venue"],
            starts_at=datetime.fromisoformat(draft["starts"]),
            minutes=int(draft["minutes"]),
            topic=draft["topic"],
            language=draft["language"],
            capacity=int(draft["capacity"]),
        )
        async with context.db.transaction() as tx:
            lesson = await service.create_lesson(
                tx,
                new,
                trainer_id=context.member.id,
                now=context.clock.now(),
                scopes=context.member.scopes("trainer"),
            )
            await drafts.clear_draft(tx, context.member.id, "newclass")
    except (ClassError, KeyError) as error:
        await ui.answer(
            update,
            context,
            error_text(context, error if isinstance(error, ClassError) else ClassError("bad_choice")),
            show_alert=True,
        )
        return ConversationHandler.END
    await ui.answer(update, context, t._("Saved."))
    await reply(
        update,
        context,
        t._("✅ Class No. {number} is scheduled. Residents can book it in /classes.", number=str(lesson.id)),
        keyboard([back_to_menu(t)]),
        edit=True,
    )
    return ConversationHandler.END


@requires("trainer")
async def my_classes(update: Update, context: BotContext) -> None:
    """/myclasses: my upcoming classes; each opens its register."""
    t = context.t
    if update.callback_query is not None:
        await ui.answer(update, context)
    async with context.db.read() as conn:
        mine = await classes.by_trainer(conn, context.member.id)
        names = {}
        for lesson in mine:
            village = await places.get_village(conn, lesson.village_code)
            names[lesson.id] = village.name(t.language) if village else ""
    if not mine:
        await reply(
            update,
            context,
            t._("You have no scheduled classes. /newclass schedules one."),
            keyboard([back_to_menu(t)]),
        )
        return
    rows = [
        [button(lesson_line(t, lesson, names[lesson.id])[:60], TrainerCb(action="roster", lesson=lesson.id))]
        for lesson in mine[:15]
    ]
    await reply(update, context, t._("📋 My classes"), keyboard(*rows, [back_to_menu(t)]))


async def attendee_name(conn: Any, booking: Booking) -> str:
    if booking.attendee_name:
        return booking.attendee_name
    account = await users.get_account(conn, booking.user_id) if booking.user_id else None
    return account.full_name if account else "—"


async def show_roster(update: Update, context: BotContext, lesson_id: int, *, edit: bool) -> None:
    t = context.t
    async with context.db.read() as conn:
        lesson = await classes.get_lesson(conn, lesson_id)
        roster = await classes.bookings_of(conn, lesson_id, ("booked",)) if lesson else []
        names = {b.id: await attendee_name(conn, b) for b in roster}
    if lesson is None:
        return
    marks = {"present": "✅", "absent": "❌", None: "⬜"}
    lines = [
        t._("📋 <b>{topic}</b>, {when}", topic=t._(TOPIC_NAMES[lesson.topic]), when=when_text(t, lesson)),
        t.n_(
            "{n} person booked; tap a name to mark present or absent.",
            "{n} people booked; tap a name to mark present or absent.",
            len(roster),
        ),
    ]
    rows = [
        [
            button(
                f"{marks[b.attendance]} {names[b.id]} ({t._(AGE_NAMES[b.age_group])})"[:60],
                TrainerCb(action="mark", lesson=lesson_id, booking=b.id),
            )
        ]
        for b in roster[:60]
    ]
    rows.append(
        [
            button(t._("➕ Walk-in"), TrainerCb(action="walkin", lesson=lesson_id)),
            button(t._("🏁 Close the class"), TrainerCb(action="close", lesson=lesson_id)),
        ]
    )
    rows.append(
        [
            button(t._("🕐 New time"), TrainerCb(action="time", lesson=lesson_id)),
            button(t._("📍 New place"), TrainerCb(action="venue", lesson=lesson_id)),
            button(t._("🪑 Seats"), TrainerCb(action="seats", lesson=lesson_id)),
        ]
    )
    rows.append(
        [button(t._("✖️ Cancel the class"), TrainerCb(action="cancel", lesson=lesson_id)), back_to_menu(t)]
    )
    await reply(update, context, "\n".join(lines), keyboard(*rows), edit=edit)


@requires("trainer")
async def trainer_button(update: Update, context: BotContext) -> State | None:
    """Register actions; every one checks the role and that the class is the trainer's own."""
    query = update.callback_query
    assert query is not None
    t = context.t
    data = TrainerCb.parse(query.data)
    if data is None or data.action not in (
        "mine",
        "numbers",
        "roster",
        "mark",
        "walkin",
        "close",
        "cancel",
        "time",
        "venue",
        "seats",
    ):
        await ui.answer(
            update, context, t._("This button is out of date. Open /menu again."), show_alert=True
        )
        return ConversationHandler.END
    if data.action == "mine":
        await my_classes(update, context)
        return ConversationHandler.END
    if data.action == "numbers":
        await ui.answer(update, context)
        await class_numbers(update, context)
        return ConversationHandler.END
    async with context.db.read() as conn:
        lesson = await classes.get_lesson(conn, data.lesson)
    if lesson is None or (lesson.trainer_id != context.member.id and not context.member.is_admin):
        await ui.answer(update, context, t._("This is another trainer's class."), show_alert=True)
        return ConversationHandler.END
    now = context.clock.now()
    try:
        if data.action == "roster":
            await ui.answer(update, context)
            await show_roster(update, context, lesson.id, edit=False)
        elif data.action == "mark" and data.booking is not None:
            async with context.db.transaction() as tx:
                # A toggle applied twice would undo itself: a redelivered tap changes nothing.
                if await users.claim_update(tx, update.update_id, now):
                    await service.toggle_attendance(
                        tx, data.booking, trainer_id=context.member.id, is_admin=context.member.is_admin
                    )
            await ui.answer(update, context)
            await show_roster(update, context, lesson.id, edit=True)
        elif data.action in ("time", "venue", "seats"):
            await ui.answer(update, context)
            async with context.db.transaction() as tx:
                await drafts.save_draft(tx, context.member.id, FLOW, {"move": lesson.id}, now)
            if data.action == "time":
                await reply(
                    update,
                    context,
                    t._("Which day? Or type the new date and time like 25.12 14:00"),
                    keyboard(*day_rows(context, lambda day: ChangeCb(lesson=lesson.id, day=day))),
                )
                return NEW_TIME
            if data.action == "seats":
                await reply(
                    update,
                    context,
                    t._("How many seats? Or type a number:"),
                    keyboard([button(n, ChangeCb(lesson=lesson.id, seats=int(n))) for n in CAPACITIES]),
                )
                return NEW_SEATS
            await reply(update, context, t._("Type the new venue:"))
            return NEW_VENUE
        elif data.action == "walkin":
            await ui.answer(update, context)
            async with context.db.transaction() as tx:
                await drafts.save_draft(tx, context.member.id, FLOW, {"walkin": lesson.id}, now)
            await reply(update, context, t._("Type the name of the person who came:"))
            return WALK_IN_NAME
        elif not data.confirmed:
            await ui.answer(update, context)
            question = (
                t._("Close the register? Everyone not marked present counts as absent.")
                if data.action == "close"
                else t._("Cancel the class? Everyone booked will be told.")
            )
            await reply(
                update,
                context,
                question,
                keyboard([button(t._("Yes"), data.model_copy(update={"confirmed": True})), back_to_menu(t)]),
            )
        elif data.action == "close":
            async with context.db.transaction() as tx:
                summary = await service.close_lesson(
                    tx, lesson.id, trainer_id=context.member.id, is_admin=context.member.is_admin
                )
            await ui.answer(update, context)
            await reply(
                update,
                context,
                "\n".join(
                    [
                        t._("🏁 The class is closed."),
                        t._("Present: {n}", n=summary.present),
                        t._("Did not come: {n}", n=summary.no_shows),
                        t._("Aged 60 and older: {n}", n=summary.seniors),
                        t._("Walk-ins: {n}", n=summary.walk_ins),
                    ]
                ),
                keyboard([back_to_menu(t)]),
                edit=True,
            )
        else:
            async with context.db.transaction() as tx:
                told = await service.cancel_lesson(
                    tx, lesson.id, trainer_id=context.member.id, is_admin=context.member.is_admin, now=now
                )
            await ui.answer(update, context)
            await reply(
                update,
                context,
                t.n_(
                    "The class is cancelled; {n} person is told.",
                    "The class is cancelled; {n} people are told.",
                    told,
                ),
                edit=True,
            )
    except ClassError as error:
        await ui.answer(update, context, error_text(context, error), show_alert=True)
    return ConversationHandler.END


async def new_time_typed(update: Update, context: BotContext) -> State:
    message = update.effective_message
    assert message is not None and message.text is not None
    t = context.t
    starts = parse_when(message.text, context)
    if starts is None:
        await reply(update, context, t._("Please type the date and time like 25.12 14:00."))
        return NEW_TIME
    return await _move(update, context, starts_at=starts)


async def new_venue_typed(update: Update, context: BotContext) -> State:
    message = update.effective_message
    assert message is not None and message.text is not None
    return await _move(update, context, venue=message.text)


async def new_seats_typed(update: Update, context: BotContext) -> State:
    message = update.effective_message
    assert message is not None and message.text is not None
    value = message.text.strip()
    if not value.isdigit() or not 1 <= int(value) <= 200:
        await reply(update, context, context.t._("The number of seats must be between 1 and 200."))
        return NEW_SEATS
    return await _move(update, context, capacity=int(value))


async def _move(update: Update, context: BotContext, lesson_id: int | None = None, **change: Any) -> State:
    """Apply a change to a class (typed, or from a button); the roster follows."""
    t = context.t
    if lesson_id is None:
        async with context.db.read() as conn:
            lesson_id = int((await drafts.get_draft(conn, context.member.id, FLOW)).get("move", 0))
    try:
        async with context.db.transaction() as tx:
            told = await service.change_lesson(
                tx,
                lesson_id,
                trainer_id=context.member.id,
                is_admin=context.member.is_admin,
                now=context.clock.now(),
                offer_minutes=context.settings.seat_offer_minutes,
                **change,
            )
    except ClassError as error:
        if update.callback_query is not None:
            await ui.answer(update, context, error_text(context, error), show_alert=True)
            return ConversationHandler.END
        await reply(update, context, error_text(context, error))
        if error.code == "in_the_past":
            return NEW_TIME
        if error.code in ("bad_capacity", "below_booked"):
            return NEW_SEATS
        if error.code == "bad_venue":
            return NEW_VENUE
        return ConversationHandler.END
    if update.callback_query is not None:
        await ui.answer(update, context)
    await reply(
        update,
        context,
        t.n_("Saved; {n} person is told.", "Saved; {n} people are told.", told) if told else t._("Saved."),
    )
    await show_roster(update, context, lesson_id, edit=False)
    return ConversationHandler.END


@requires("trainer")
async def change_button(update: Update, context: BotContext) -> State:
    """A day, then a time, or a number of seats for a class being changed."""
    query = update.callback_query
    assert query is not None
    data = ChangeCb.parse(query.data)
    if data is not None and data.seats is not None:
        return await _move(update, context, data.lesson, capacity=data.seats)
    starts = _chosen_start(data.day, data.time, context) if data is not None and data.time else None
    if data is not None and starts is not None:
        return await _move(update, context, data.lesson, starts_at=starts)
    if data is not None and data.day and not data.time and _chosen_start(data.day, "0000", context):
        await ui.answer(update, context)
        await reply(
            update,
            context,
            context.t._("What time?"),
            keyboard(
                [
                    button(time, ChangeCb(lesson=data.lesson, day=data.day, time=time.replace(":", "")))
                    for time in TIMES
                ]
            ),
            edit=True,
        )
        return NEW_TIME
    await ui.answer(
        update, context, context.t._("This button is out of date. Open /menu again."), show_alert=True
    )
    return ConversationHandler.END


def _chosen_start(day: str | None, time: str | None, context: BotContext) -> datetime | None:
    """A day button's ISO date and a time button's HHMM, in Asia/Almaty; None when malformed."""
    if not day or not time or not (time.isdigit() and len(time) == 4):
        return None
    try:
        chosen = date.fromisoformat(day)
        return datetime(
            chosen.year, chosen.month, chosen.day, int(time[:2]), int(time[2:]), tzinfo=context.t.zone
        )
    except ValueError:
        return None


def day_rows(context: BotContext, choose: Any) -> list[list[Any]]:
    """The next seven days as buttons, in Asia/Almaty."""
    t = context.t
    today = context.clock.now().astimezone(t.zone).date()
    return [
        [
            button(
                t.date(today + timedelta(days=n), "EEE d MMMM"),
                choose((today + timedelta(days=n)).isoformat()),
            )
        ]
        for n in range(1, 8)
    ]


def parse_when(text: str, context: BotContext) -> datetime | None:
    """«25.12 14:00» (or with the year) in Asia/Almaty.

    Without a year, a date well behind us means next year (05.01 typed in December); a date just
    behind us stays in this year, so it is refused as past instead of silently moving a year on.
    """
    match = TYPED_WHEN.match(text)
    if match is None:
        return None
    today = context.clock.now().astimezone(context.t.zone).date()
    day, month, year, hour, minute = match.groups()
    try:
        chosen = date(int(year or today.year), int(month), int(day))
        if year is None and chosen < today - timedelta(days=YEAR_ROLLOVER_DAYS):
            chosen = date(today.year + 1, int(month), int(day))
        return datetime(chosen.year, chosen.month, chosen.day, int(hour), int(minute), tzinfo=context.t.zone)
    except ValueError:
        return None


async def walk_in_named(update: Update, context: BotContext) -> State:
    message = update.effective_message
    assert message is not None and message.text is not None
    t = context.t
    name = message.text.strip()
    if not 2 <= len(name) <= 80:
        await reply(update, context, t._("Please type a name of 2 to 80 characters."))
        return WALK_IN_NAME
    draft = await update_draft(context, FLOW, walkin_name=name)
    rows = [
        [
            button(t._(AGE_NAMES[age]), WalkInCb(lesson=int(draft.get("walkin", 0)), age=age))
            for age in classes.AGE_GROUPS
        ]
    ]
    await reply(update, context, t._("How old is {name}?", name=name), keyboard(*rows))
    return ConversationHandler.END


@requires("trainer")
async def walk_in_age(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    t = context.t
    data = WalkInCb.parse(query.data)
    async with context.db.read() as conn:
        draft = await drafts.get_draft(conn, context.member.id, FLOW)
    if data is None or draft.get("walkin") != data.lesson or not draft.get("walkin_name"):
        await ui.answer(
            update, context, t._("This button is out of date. Open /menu again."), show_alert=True
        )
        return
    try:
        async with context.db.transaction() as tx:
            await service.add_walk_in(
                tx,
                data.lesson,
                name=draft["walkin_name"],
                age_group=data.age,
                trainer_id=context.member.id,
                is_admin=context.member.is_admin,
                now=context.clock.now(),
            )
            await drafts.clear_draft(tx, context.member.id, FLOW)
    except ClassError as error:
        await ui.answer(update, context, error_text(context, error), show_alert=True)
        return
    await ui.answer(update, context, t._("Added."))
    await show_roster(update, context, data.lesson, edit=True)


@requires("trainer")
async def class_numbers(update: Update, context: BotContext) -> None:
    """/classstats: people trained per region, district and village; share 60+; attendance."""
    t = context.t
    async with context.db.read() as conn:
        found = await service.numbers(conn, None if context.member.is_admin else context.member.id)
        areas = {a.code: a.name(t.language) for a in await places.all_areas(conn)}
        villages = {}
        for item in found.get("village", [])[:10]:
            village = await places.get_village(conn, item.code)
            villages[item.code] = village.name(t.language) if village else item.code
    title = t._("📊 <b>All classes</b>") if context.member.is_admin else t._("📊 <b>My classes</b>")
    lines = [title]
    if not found.get("region"):
        lines.append(t._("No closed classes yet."))
    for level, heading, names in (
        ("region", t._("By region"), areas),
        ("district", t._("By district"), areas),
        ("village", t._("By village"), villages),
    ):
        if found.get(level):
            lines += ["", f"<b>{heading}</b>"]
            for item in found[level][:10]:
                lines.append(
                    t._(
                        "{name}: {trained} trained, {seniors} of them aged 60+ ({share}%), attendance {rate}%",
                        name=names.get(item.code, item.code),
                        trained=item.trained,
                        seniors=item.seniors,
                        share=round(item.senior_share * 100),
                        rate=round(item.attendance_rate * 100),
                    )
                )
    await reply(update, context, "\n".join(lines), keyboard([back_to_menu(t)]))


text = filters.TEXT & ~filters.COMMAND
# One flow for the whole feature: starting anything here ends whatever class flow was half done,
# so a name typed for a walk-in can never land in a half-scheduled class as its venue.
CLASSES = Flow(
    FLOW,
    entry_points=[
        CommandHandler("newclass", new_lesson),
        CallbackQueryHandler(new_lesson, pattern=step_filter("cn", "start")),
        CallbackQueryHandler(lesson_button, pattern=LessonCb.filter()),
        CallbackQueryHandler(change_button, pattern=ChangeCb.filter()),
        CallbackQueryHandler(trainer_button, pattern=TrainerCb.filter()),
    ],
    states={
        NC_VILLAGE: [
            MessageHandler(text, nc_village_typed),
            CallbackQueryHandler(nc_village_chosen, pattern=step_filter("cn", "village")),
        ],
        NC_VENUE: [MessageHandler(text, nc_venue_typed)],
        NC_DATE: [
            CallbackQueryHandler(nc_day_chosen, pattern=step_filter("cn", "day")),
            MessageHandler(text, nc_when_typed),
        ],
        NC_TIME: [CallbackQueryHandler(nc_time_chosen, pattern=step_filter("cn", "time"))],
        NC_LENGTH: [CallbackQueryHandler(nc_length_chosen, pattern=step_filter("cn", "length"))],
        NC_TOPIC: [CallbackQueryHandler(nc_topic_chosen, pattern=step_filter("cn", "topic"))],
        NC_LANGUAGE: [CallbackQueryHandler(nc_language_chosen, pattern=step_filter("cn", "language"))],
        NC_CAPACITY: [
            CallbackQueryHandler(nc_seats, pattern=step_filter("cn", "seats")),
            MessageHandler(text, nc_seats),
        ],
        NC_CONFIRM: [CallbackQueryHandler(nc_save, pattern=step_filter("cn", "save"))],
        RELATIVE_NAME: [MessageHandler(text, relative_named)],
        WALK_IN_NAME: [MessageHandler(text, walk_in_named)],
        NEW_TIME: [MessageHandler(text, new_time_typed)],
        NEW_VENUE: [MessageHandler(text, new_venue_typed)],
        NEW_SEATS: [MessageHandler(text, new_seats_typed)],
    },
)
FLOWS = [CLASSES]
HANDLERS: list[Handler] = [
    CommandHandler("classes", list_classes),
    CallbackQueryHandler(list_classes, pattern=lambda d: d == "menu:classes"),
    CommandHandler("myclasses", my_classes),
    CallbackQueryHandler(trainer_screen, pattern=lambda d: d == "menu:trainer"),
    CommandHandler("classstats", class_numbers),
    CallbackQueryHandler(cancel_button, pattern=CancelCb.filter()),
    CallbackQueryHandler(offer_button, pattern=OfferCb.filter()),
    CallbackQueryHandler(walk_in_age, pattern=WalkInCb.filter()),
]
