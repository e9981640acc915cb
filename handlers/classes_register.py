"""Classes for trainers, the register: my classes, a class's roster, marks, walk-ins, closing the
register (asked once) and the statistics from closed registers."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, MessageHandler, filters

from bot import flows, ui
from bot.classes import keyboards, service, texts
from bot.classes.callbacks import TrainerCb, WalkInCb
from bot.classes.service import ClassError, Roster
from bot.context import BotContext
from bot.core.callbacks import MenuCb
from bot.flows import Flow, Handler, State

WALK_IN_NAME, WALK_IN_AGE = "walkin.name", "walkin.age"


async def _refuse(update: Update, context: BotContext, error: ClassError) -> None:
    await ui.refuse(update, context, texts.error_text(context.t, error))


def _trainer(context: BotContext) -> bool:
    return context.has_member and context.member.holds("trainer")


async def _show_roster(update: Update, context: BotContext, roster: Roster, head: str | None = None) -> None:
    t = context.t
    changeable = roster.lesson.state == "scheduled" and not roster.open
    markup = keyboards.make_roster_keyboard(
        t, roster.lesson, roster.entries, register_open=roster.open, changeable=changeable
    )
    await ui.show(update, context, texts.roster_text(t, roster, head), markup)


@ui.requires("trainer")
async def trainer_screen(update: Update, context: BotContext) -> None:
    """«🧑‍🏫 My classes (trainer)»: new class, my classes, statistics."""
    t = context.t
    await ui.show(update, context, t._("🧑‍🏫 Classes you teach"), keyboards.make_trainer_keyboard(t))


async def menu_trainer(update: Update, context: BotContext, data: MenuCb) -> None:
    await trainer_screen(update, context)


@ui.requires("trainer")
async def my_classes(update: Update, context: BotContext) -> None:
    """/myclasses: classes whose register is to come or open; each opens its register."""
    t = context.t
    mine = await service.my_classes(context.db, context.member)
    await ui.show(
        update, context, texts.my_classes_text(t, mine), keyboards.make_my_classes_keyboard(t, mine.lessons)
    )


@ui.requires("trainer")
async def statistics(update: Update, context: BotContext) -> None:
    """/classstats: people trained per region, district and village; share 60+; attendance."""
    t = context.t
    found = await service.statistics(context.db, context.member)
    text = texts.numbers_text(t, found, whole_area=context.member.is_admin)
    await ui.show(update, context, text, ui.keyboard([ui.back_to_menu(t)]))


async def register_button(update: Update, context: BotContext, data: TrainerCb) -> None:
    """The trainer's screens and the register; every action checks the role and the class's owner."""
    if not _trainer(context):
        await _refuse(update, context, ClassError("not_trainer"))
        return
    if data.action == "home":
        await trainer_screen(update, context)
    elif data.action == "mine":
        await my_classes(update, context)
    elif data.action == "numbers":
        await statistics(update, context)
    else:
        await _register_action(update, context, data)


async def _register_action(update: Update, context: BotContext, data: TrainerCb) -> None:
    t = context.t
    now = context.clock.now()
    try:
        if data.action == "roster":
            await _show_roster(
                update, context, await service.roster(context.db, context.member, data.lesson, now)
            )
        elif data.action == "mark" and data.booking is not None:
            roster = await service.mark(
                context.db, context.member, data.lesson, data.booking, update.update_id, now
            )
            await _show_roster(update, context, roster)
        elif data.action == "close" and not data.confirmed:
            await service.ask_to_close(context.db, context.member, data.lesson, now)
            text = t._("Close the register? Everyone not marked present counts as absent.")
            await ui.show(update, context, text, keyboards.make_close_question_keyboard(t, data.lesson))
        elif data.action == "close":
            summary = await service.close_register(context.db, context.member, data.lesson, now)
            await ui.show(update, context, texts.closed_text(t, summary), keyboards.make_done_keyboard(t))
        else:
            await ui.stale(update, context)
    except ClassError as error:
        await _refuse(update, context, error)


# --- walk-ins ---------------------------------------------------------------------------------------------
async def walk_in_start(update: Update, context: BotContext, data: WalkInCb) -> State:
    """«➕ Walk-in»: someone came without booking; their name, then their age group."""
    t = context.t
    try:
        await service.start_walk_in(context.db, context.member, data.lesson, context.clock.now())
    except ClassError as error:
        await _refuse(update, context, error)
        return flows.END
    markup = ui.keyboard([ui.cancel_button(t)])
    await ui.show(update, context, t._("Type the name of the person who came:"), markup)
    return WALK_IN_NAME


async def walk_in_named(update: Update, context: BotContext) -> State | None:
    message = update.effective_message
    assert message is not None and message.text is not None
    t = context.t
    try:
        lesson_id, name = await service.name_walk_in(
            context.db, context.member, message.text, context.clock.now()
        )
    except ClassError as error:
        await _refuse(update, context, error)
        return None if error.code == "bad_name" else flows.END
    markup = keyboards.make_walk_in_age_keyboard(t, lesson_id)
    await ui.show(update, context, t._("How old is {name}?", name=name), markup)
    return WALK_IN_AGE


async def walk_in_aged(update: Update, context: BotContext, data: WalkInCb) -> State:
    assert data.age is not None
    try:
        roster = await service.walk_in_aged(
            context.db, context.member, data.lesson, data.age, context.clock.now()
        )
    except ClassError as error:
        await _refuse(update, context, error)
        return flows.END
    await ui.notice(update, context, context.t._("Added."))
    await _show_roster(update, context, roster)
    return flows.END


async def walk_in_outside(update: Update, context: BotContext, data: WalkInCb) -> None:
    """An age button of a walk-in that is no longer being added (an old message)."""
    if not _trainer(context):
        await _refuse(update, context, ClassError("not_trainer"))
        return
    await ui.stale(update, context)


text = filters.TEXT & ~filters.COMMAND
FLOWS = [
    Flow(
        "walkin",
        role="trainer",
        entry_points=[ui.on_button(WalkInCb, walk_in_start, when=lambda d: d.age is None)],
        states={
            WALK_IN_NAME: [MessageHandler(text, walk_in_named)],
            WALK_IN_AGE: [ui.on_button(WalkInCb, walk_in_aged, when=lambda d: d.age is not None)],
        },
    )
]
HANDLERS: list[Handler] = [
    CommandHandler("myclasses", my_classes),
    CommandHandler("classstats", statistics),
    ui.on_button(MenuCb, menu_trainer, when=lambda d: d.item == "trainer"),
    ui.on_button(TrainerCb, register_button, when=lambda d: d.action != "cancel"),
    ui.on_button(TrainerCb, register_button),  # data that does not parse: out of date
    ui.on_button(WalkInCb, walk_in_outside),
]
