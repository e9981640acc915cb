"""Classes for residents: the list near them, a class's card, booking for themselves or a relative,
cancelling (asked once), answering a seat offer, the calendar file."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, MessageHandler, filters

from bot import flows, ui
from bot.classes import keyboards, service, texts
from bot.classes import notifications as _notifications  # noqa: F401 - registers the renderers
from bot.classes.calendar import calendar_file
from bot.classes.callbacks import BookCb, CancelCb, ClassCb, OfferCb
from bot.classes.service import ClassError, FairUse
from bot.context import BotContext
from bot.core.callbacks import MenuCb
from bot.flows import Flow, Handler, State

RELATIVE_NAME, RELATIVE_AGE = "booking.name", "booking.age"


def _fair_use(context: BotContext) -> FairUse:
    return FairUse.from_settings(context.settings)


async def _refuse(update: Update, context: BotContext, error: ClassError) -> None:
    await ui.refuse(update, context, texts.error_text(context.t, error))


async def list_classes(update: Update, context: BotContext) -> None:
    """/classes or «🎓 Classes»: classes in my village, my rural okrug and the district centre."""
    t = context.t
    found = await service.list_classes(context.db, context.member, context.clock.now())
    shown = found[: texts.MAX_LISTED]
    if not shown:
        nothing = await service.no_classes_near(context.db, context.member)
        await ui.show(
            update, context, texts.no_classes_text(t, nothing), keyboards.make_no_classes_keyboard(t, nothing)
        )
        return
    await ui.show(update, context, texts.list_text(t, shown), keyboards.make_list_keyboard(t, shown))


async def menu_classes(update: Update, context: BotContext, data: MenuCb) -> None:
    await list_classes(update, context)


async def show_card(update: Update, context: BotContext, lesson_id: int, head: str | None = None) -> None:
    t = context.t
    try:
        card = await service.open_card(context.db, context.member, lesson_id)
    except ClassError as error:
        await _refuse(update, context, error)
        return
    await ui.show(update, context, texts.card_text(t, card, head), keyboards.make_card_keyboard(t, card))


async def class_button(update: Update, context: BotContext, data: ClassCb) -> None:
    """The list, a class's card, or its calendar file."""
    if data.action == "list":
        await list_classes(update, context)
    elif data.action == "show":
        await show_card(update, context, data.lesson)
    else:
        await send_calendar(update, context, data.lesson)


async def send_calendar(update: Update, context: BotContext, lesson_id: int) -> None:
    """«📅 Add to calendar»: an .ics file with the class, a description and a reminder."""
    t = context.t
    chat = update.effective_chat
    try:
        lesson = await service.calendar_lesson(context.db, lesson_id)
    except ClassError as error:
        await _refuse(update, context, error)
        return
    if chat is None:
        return
    topic = texts.topic(t, lesson)
    village = lesson.village(t.language)
    description = "\n".join(
        [
            t._("Free digital-literacy class: «{topic}».", topic=topic),
            t._("Where: {venue}, {village}", venue=lesson.venue, village=village),
            t._("Language: {name}", name=texts.language(t, lesson.language)),
            t._("To cancel your booking, open /classes in AuylNet."),
        ]
    )
    data = calendar_file(
        lesson,
        village,
        t._("AuylNet class: {topic}", topic=topic),
        context.clock.now(),
        description=ui.plain(description),
        alarm=t._("In two hours: «{topic}», {venue}", topic=topic, venue=lesson.venue),
    )
    await context.bot.send_document(
        chat.id,
        data,
        filename=f"auylnet-class-{lesson.id}.ics",
        caption=t._("Open the file to add the class to your calendar."),
    )


async def book_me(update: Update, context: BotContext, data: BookCb) -> None:
    """«🙋 Book for me»: the age group first, then the seat (or the waiting list)."""
    t = context.t
    if data.age is None:
        markup = keyboards.make_age_keyboard(t, data.lesson, "me")
        await ui.show(update, context, t._("How old are you?"), markup)
        return
    query = update.callback_query
    assert query is not None
    try:
        booked = await service.book_myself(
            context.db, context.member, data.lesson, data.age, ui.source_key(update), context.clock.now()
        )
    except ClassError as error:
        await _refuse(update, context, error)
        return
    await _show_booked(update, context, booked)


async def _show_booked(update: Update, context: BotContext, booked: service.Booked) -> None:
    t = context.t
    await ui.notice(update, context, texts.booked_notice(t, booked.booking))
    if booked.booking.state == "booked":
        head = t._("I will remind you a day before and two hours before.")
    else:
        head = t._("When a seat frees up, I will offer it to you.")
    card = booked.card
    await ui.show(update, context, texts.card_text(t, card, head), keyboards.make_card_keyboard(t, card))


async def relative_start(update: Update, context: BotContext, data: BookCb) -> State:
    """«👵 Book for a relative»: their name first."""
    t = context.t
    try:
        await service.start_relative_booking(
            context.db, context.member, data.lesson, _fair_use(context), context.clock.now()
        )
    except ClassError as error:
        await _refuse(update, context, error)
        return flows.END
    await ui.show(update, context, t._("Type your relative's name:"), ui.keyboard([ui.cancel_button(t)]))
    return RELATIVE_NAME


async def relative_named(update: Update, context: BotContext) -> State | None:
    message = update.effective_message
    assert message is not None and message.text is not None
    t = context.t
    try:
        lesson, name = await service.name_relative(
            context.db, context.member, message.text, _fair_use(context), context.clock.now()
        )
    except ClassError as error:
        await _refuse(update, context, error)
        return None if error.code in ("bad_name", "already_booked") else flows.END
    markup = keyboards.make_age_keyboard(t, lesson.id, "relative")
    await ui.show(update, context, t._("How old is {name}?", name=name), markup)
    return RELATIVE_AGE


async def relative_aged(update: Update, context: BotContext, data: BookCb) -> State:
    """The relative's age group: booked under the name typed before."""
    query = update.callback_query
    assert query is not None and data.age is not None
    try:
        booked = await service.book_relative(
            context.db,
            context.member,
            data.lesson,
            data.age,
            ui.source_key(update),
            _fair_use(context),
            context.clock.now(),
        )
    except ClassError as error:
        await _refuse(update, context, error)
        return flows.END
    await _show_booked(update, context, booked)
    return flows.END


async def stale_relative_age(update: Update, context: BotContext, data: BookCb) -> None:
    """A relative's age button from a booking that is no longer being made."""
    await relative_aged(update, context, data)


async def cancel_button(update: Update, context: BotContext, data: CancelCb) -> None:
    """«✖️ Cancel…»: asked once, then cancelled; a button drawn for another state of the booking
    (a waiting-list card after the seat was accepted) is refused with the booking as it is now."""
    t = context.t
    now = context.clock.now()
    try:
        if not data.confirmed:
            asked = await service.ask_to_cancel(context.db, context.member, data.booking, data.state, now)
            text = texts.cancel_question(t, asked.booking, asked.lesson)
            await ui.show(update, context, text, keyboards.make_cancel_question_keyboard(t, asked.booking))
            return
        done = await service.cancel_my_booking(
            context.db, context.member, data.booking, data.state, context.settings.seat_offer_minutes, now
        )
    except ClassError as error:
        await _refuse(update, context, error)
        if error.code == "booking_changed":  # the reason on the button, the booking as it is now in place
            card = await service.card_of_booking(context.db, context.member, data.booking)
            await ui.show(update, context, texts.card_text(t, card), keyboards.make_card_keyboard(t, card))
        return
    if done.cancelled.seat_passed_on:
        said = t._("Cancelled. Thank you for telling us: the seat goes to someone waiting.")
    else:
        said = t._("Your booking is cancelled.")
    await ui.notice(update, context, said)
    await ui.show(
        update, context, texts.card_text(t, done.card, said), keyboards.make_card_keyboard(t, done.card)
    )


async def offer_button(update: Update, context: BotContext, data: OfferCb) -> None:
    """«✅ Yes, I will come» / «✖️ No, thanks» on a seat offered from the waiting list."""
    t = context.t
    try:
        answered = await service.answer_my_offer(
            context.db,
            context.member,
            data.booking,
            data.accept,
            context.settings.seat_offer_minutes,
            context.clock.now(),
        )
    except ClassError as error:
        await _refuse(update, context, error)
        return
    if not data.accept:
        await ui.show(update, context, t._("All right, the seat goes to the next person."))
        return
    head = t._("✅ The seat is yours. See you at the class!")
    card = answered.card
    await ui.show(update, context, texts.card_text(t, card, head), keyboards.make_card_keyboard(t, card))


text = filters.TEXT & ~filters.COMMAND
FLOWS = [
    Flow(
        "booking",
        entry_points=[
            ui.on_button(BookCb, relative_start, when=lambda d: d.who == "relative" and d.age is None),
        ],
        states={
            RELATIVE_NAME: [MessageHandler(text, relative_named)],
            RELATIVE_AGE: [
                ui.on_button(BookCb, relative_aged, when=lambda d: d.who == "relative" and d.age is not None)
            ],
        },
    )
]
HANDLERS: list[Handler] = [
    CommandHandler("classes", list_classes),
    ui.on_button(MenuCb, menu_classes, when=lambda d: d.item == "classes"),
    ui.on_button(ClassCb, class_button),
    ui.on_button(BookCb, book_me, when=lambda d: d.who == "me"),
    ui.on_button(BookCb, stale_relative_age),
    ui.on_button(CancelCb, cancel_button),
    ui.on_button(OfferCb, offer_button),
]
