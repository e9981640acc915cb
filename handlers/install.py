"""Field staff: log an installation (/install), list and correct their own (/mylog)."""

from __future__ import annotations

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
from bot.callbacks import CallbackData
from bot.context import BotContext
from bot.flows import Flow, Handler, State
from bot.places import service
from bot.places.service import InstallationError, NewInstallation, check_speed
from db import drafts, places
from db.places import OBJECT_KINDS, TECHNOLOGIES
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
from handlers.villages import OBJECT_KIND_NAMES, TECHNOLOGY_NAMES

FLOW = "install"
(VILLAGE, OBJECT, NEW_KIND, NEW_NAME, TECHNOLOGY, SPEED, PHOTO, LOCATION, CONFIRM, FIX_SPEED) = (
    f"{FLOW}.{step}"
    for step in (
        "village",
        "object",
        "kind",
        "name",
        "technology",
        "speed",
        "photo",
        "location",
        "confirm",
        "fix",
    )
)


class InstallCb(CallbackData, prefix="in"):
    step: str  # v: village, o: object, k: new kind, t: technology, skip, save, cancel
    value: str = "-"


class FixCb(CallbackData, prefix="fx"):
    installation: int


def error_text(context: BotContext, code: str) -> str:
    t = context.t
    texts = {
        "speed_not_a_number": t._("Please type the measured speed as a number, e.g. 85 or 92.5."),
        "speed_out_of_range": t._("The speed must be between 0.1 and 10000 Mbit/s."),
        "unknown_village": t._("This village is not in the list."),
        "unknown_object": t._("This building is not in the village."),
        "unknown_technology": t._("Choose the technology with a button."),
        "unknown_installation": t._("This entry does not exist."),
        "not_the_author": t._("You can correct only your own entries."),
        "too_late": t._("Entries can be corrected within 24 hours only."),
    }
    return texts.get(code, t._("Sorry, something went wrong. Please try again in a minute."))


async def _draft(context: BotContext) -> dict[str, Any]:
    async with context.db.read() as conn:
        return await drafts.get_draft(conn, context.member.id, FLOW)


async def _save(context: BotContext, **changes: Any) -> dict[str, Any]:
    return await update_draft(context, FLOW, **changes)


def _cancel_row(context: BotContext) -> list[Any]:
    return [ui.cancel_button(context.t)]


@requires("staff")
async def start_install(update: Update, context: BotContext) -> State:
    """/install: which village?"""
    if update.callback_query is not None:
        await ui.answer(update, context)
    async with context.db.transaction() as tx:
        await drafts.save_draft(tx, context.member.id, FLOW, {}, context.clock.now())
    await reply(
        update,
        context,
        context.t._("🛠 New installation. Type the village name:"),
        keyboard(_cancel_row(context)),
    )
    return VILLAGE


async def village_typed(update: Update, context: BotContext) -> State:
    message = update.effective_message
    assert message is not None and message.text is not None
    t = context.t
    rows = village_choices(context, message.text, lambda code: InstallCb(step="v", value=code), role="staff")
    if not rows:
        await reply(
            update,
            context,
            t._("No village in your area matches «{query}». Type it again:", query=message.text[:60]),
            keyboard(_cancel_row(context)),
        )
        return VILLAGE
    await reply(update, context, t._("Which village?"), keyboard(*rows, _cancel_row(context)))
    return VILLAGE


async def village_chosen(update: Update, context: BotContext) -> State:
    query = update.callback_query
    assert query is not None
    data = InstallCb.parse(query.data)
    t = context.t
    async with context.db.read() as conn:
        village = await places.get_village(conn, data.value) if data else None
        objects = await places.objects_of(conn, village.code) if village else []
    if village is None or not context.member.can("staff", village.code):
        await ui.answer(update, context, t._("This village is outside your area."), show_alert=True)
        return VILLAGE
    await ui.answer(update, context)
    await _save(context, village=village.code)
    rows = [
        [
            button(
                f"{'✅' if o.connected else '⏳'} {o.name} ({t._(OBJECT_KIND_NAMES[o.kind])})"[:60],
                InstallCb(step="o", value=str(o.id)),
            )
        ]
        for o in objects[:20]
    ]
    rows.append([button(t._("➕ Another building"), InstallCb(step="o", value="new"))])
    await reply(
        update,
        context,
        t._("{village}: which building?", village=village.name(t.language)),
        keyboard(*rows, _cancel_row(context)),
        edit=True,
    )
    return OBJECT


async def object_chosen(update: Update, context: BotContext) -> State:
    query = update.callback_query
    assert query is not None
    data = InstallCb.parse(query.data)
    t = context.t
    await ui.answer(update, context)
    if data is not None and data.value == "new":
        rows = [
            [button(t._(OBJECT_KIND_NAMES[kind]), InstallCb(step="k", value=kind))] for kind in OBJECT_KINDS
        ]
        await reply(
            update, context, t._("What kind of building?"), keyboard(*rows, _cancel_row(context)), edit=True
        )
        return NEW_KIND
    draft = await _draft(context)
    async with context.db.read() as conn:
        found = await places.get_object(conn, int(data.value)) if data and data.value.isdigit() else None
    if found is None or found.village_code != draft.get("village"):
        await reply(update, context, error_text(context, "unknown_object"))
        return OBJECT
    await _save(context, object_id=found.id)
    return await ask_technology(update, context)


async def kind_chosen(update: Update, context: BotContext) -> State:
    query = update.callback_query
    assert query is not None
    data = InstallCb.parse(query.data)
    await ui.answer(update, context)
    if data is None or data.value not in OBJECT_KINDS:
        return NEW_KIND
    await _save(context, new_kind=data.value, object_id=None)
    await reply(
        update,
        context,
        context.t._("Type the building's name, e.g. «№2 школа»:"),
        keyboard(_cancel_row(context)),
        edit=True,
    )
    return NEW_NAME


async def name_typed(update: Update, context: BotContext) -> State:
    message = update.effective_message
    assert message is not None and message.text is not None
    name = message.text.strip()
    if not 2 <= len(name) <= 100:
        await reply(update, context, context.t._("The name should be 2 to 100 characters. Type it again:"))
        return NEW_NAME
    await _save(context, new_name=name)
    return await ask_technology(update, context)


async def ask_technology(update: Update, context: BotContext) -> State:
    t = context.t
    rows = [[button(t._(TECHNOLOGY_NAMES[tech]), InstallCb(step="t", value=tech))] for tech in TECHNOLOGIES]
    await reply(
        update,
        context,
        t._("Which technology?"),
        keyboard(*rows, _cancel_row(context)),
        edit=update.callback_query is not None,
    )
    return TECHNOLOGY


async def technology_chosen(update: Update, context: BotContext) -> State:
    query = update.callback_query
    assert query is not None
    data = InstallCb.parse(query.data)
    await ui.answer(update, context)
    if data is None or data.value not in TECHNOLOGIES:
        return TECHNOLOGY
    await _save(context, technology=data.value)
    await reply(
        update,
        context,
        context.t._("Type the measured speed in Mbit/s:"),
        keyboard(_cancel_row(context)),
        edit=True,
    )
    return SPEED


async def speed_typed(update: Update, context: BotContext) -> State:
    message = update.effective_message
    assert message is not None and message.text is not None
    try:
        speed = check_speed(message.text[:50])
    except InstallationError as error:
        await reply(update, context, error_text(context, error.code))
        return SPEED
    await _save(context, speed=speed)
    t = context.t
    await reply(
        update,
        context,
        t._("Send a photo of the installation, or skip:"),
        keyboard([button(t._("Skip ➡️"), InstallCb(step="skip", value="photo"))], _cancel_row(context)),
    )
    return PHOTO


async def photo_sent(update: Update, context: BotContext) -> State:
    message = update.effective_message
    assert message is not None and message.photo
    await _save(context, photo=message.photo[-1].file_id)
    return await ask_location(update, context)


async def ask_location(update: Update, context: BotContext) -> State:
    t = context.t
    await reply(
        update,
        context,
        t._("Share the location (📎 → Location), or skip:"),
        keyboard([button(t._("Skip ➡️"), InstallCb(step="skip", value="location"))], _cancel_row(context)),
    )
    return LOCATION


async def skip(update: Update, context: BotContext) -> State:
    query = update.callback_query
    assert query is not None
    data = InstallCb.parse(query.data)
    await ui.answer(update, context)
    if data is not None and data.value == "photo":
        return await ask_location(update, context)
    return await ask_confirm(update, context)


async def location_sent(update: Update, context: BotContext) -> State:
    message = update.effective_message
    assert message is not None and message.location is not None
    await _save(context, latitude=message.location.latitude, longitude=message.location.longitude)
    return await ask_confirm(update, context)


async def ask_confirm(update: Update, context: BotContext) -> State:
    t = context.t
    draft = await _draft(context)
    async with context.db.read() as conn:
        village = await places.get_village(conn, draft.get("village", ""))
        found = await places.get_object(conn, draft["object_id"]) if draft.get("object_id") else None
    if village is None:
        await reply(update, context, error_text(context, "unknown_village"))
        return ConversationHandler.END
    building = found.name if found else draft.get("new_name", "")
    technology_name = TECHNOLOGY_NAMES[draft["technology"]]
    technology = t._(technology_name)
    speed = float(draft["speed"])
    lines = [
        t._("<b>Check and save</b>"),
        t._("Village: {village}", village=village.name(t.language)),
        t._("Building: {name}", name=building),
        t._("Technology: {technology}", technology=technology),
        t._("Speed: {speed} Mbit/s", speed=speed),
        t._("Photo: {answer}", answer=t._("yes") if draft.get("photo") else t._("no")),
        t._("Location: {answer}", answer=t._("yes") if draft.get("latitude") else t._("no")),
    ]
    await reply(
        update,
        context,
        "\n".join(lines),
        keyboard([button(t._("✅ Save"), InstallCb(step="save"))], _cancel_row(context)),
    )
    return CONFIRM


@requires("staff")
async def save(update: Update, context: BotContext) -> State:
    """Commit the installation; a redelivered press finds the same entry and adds nothing."""
    query = update.callback_query
    assert query is not None
    t = context.t
    draft = await _draft(context)
    if not draft.get("village") or not context.member.can("staff", draft["village"]):
        await ui.answer(update, context, t._("This village is outside your area."), show_alert=True)
        return ConversationHandler.END
    new = NewInstallation(
        village_code=draft["village"],
        object_id=draft.get("object_id"),
        new_object_kind=draft.get("new_kind"),
        new_object_name=draft.get("new_name"),
        technology=draft.get("technology", ""),
        speed_mbps=float(draft.get("speed", 0)),
        photo_file_id=draft.get("photo"),
        latitude=draft.get("latitude"),
        longitude=draft.get("longitude"),
    )
    try:
        async with context.db.transaction() as tx:
            installation, _created = await service.log_installation(
                tx,
                new,
                staff_id=context.member.id,
                source_key=f"callback:{query.id}",
                now=context.clock.now(),
            )
            await drafts.clear_draft(tx, context.member.id, FLOW)
    except InstallationError as error:
        await ui.answer(update, context, error_text(context, error.code), show_alert=True)
        return CONFIRM
    await ui.answer(update, context, t._("Saved."))
    await reply(
        update,
        context,
        t._(
            "✅ Installation No. {number} saved. Followers of the village are told.",
            number=str(installation.id),
        ),
        keyboard([back_to_menu(t)]),
        edit=True,
    )
    return ConversationHandler.END


@requires("staff")
async def my_log(update: Update, context: BotContext) -> State:
    """/mylog: my last installations; ones under 24 hours old can be corrected."""
    t = context.t
    now = context.clock.now()
    async with context.db.read() as conn:
        mine = await places.installations_by(conn, context.member.id)
        names = {}
        for item in mine:
            village = await places.get_village(conn, item.village_code)
            found = await places.get_object(conn, item.object_id)
            names[item.id] = (
                village.name(t.language) if village else item.village_code,
                found.name if found else "",
            )
    if not mine:
        await reply(update, context, t._("You have not logged any installations yet. Use /install."))
        return ConversationHandler.END
    lines = [t._("<b>My installations</b>")]
    rows = []
    for item in mine:
        village_name, building = names[item.id]
        lines.append(
            t._(
                "No. {number}, {date}: {village}, {name} — {technology}, {speed} Mbit/s",
                number=str(item.id),
                date=t.datetime(item.created_at),
                village=village_name,
                name=building,
                technology=t._(TECHNOLOGY_NAMES.get(item.technology, item.technology)),
                speed=item.speed_mbps,
            )
        )
        if now - item.created_at < service.CORRECTION_WINDOW:
            rows.append(
                [button(t._("✏️ Correct No. {number}", number=str(item.id)), FixCb(installation=item.id))]
            )
    await reply(update, context, "\n".join(lines), keyboard(*rows[:10], [back_to_menu(t)]))
    return ConversationHandler.END


@requires("staff")
async def fix_chosen(update: Update, context: BotContext) -> State:
    query = update.callback_query
    assert query is not None
    data = FixCb.parse(query.data)
    if data is None:
        await ui.answer(
            update, context, context.t._("This button is out of date. Open /menu again."), show_alert=True
        )
        return ConversationHandler.END
    await ui.answer(update, context)
    await _save(context, fix=data.installation)
    await reply(
        update, context, context.t._("Type the corrected speed in Mbit/s:"), keyboard(_cancel_row(context))
    )
    return FIX_SPEED


async def fix_typed(update: Update, context: BotContext) -> State:
    message = update.effective_message
    assert message is not None and message.text is not None
    draft = await _draft(context)
    try:
        speed = check_speed(message.text[:50])
        async with context.db.transaction() as tx:
            fixed = await service.correct_installation(
                tx,
                int(draft.get("fix", 0)),
                staff_id=context.member.id,
                speed_mbps=speed,
                now=context.clock.now(),
            )
            await drafts.clear_draft(tx, context.member.id, FLOW)
    except InstallationError as error:
        await reply(update, context, error_text(context, error.code))
        return FIX_SPEED if error.code.startswith("speed") else ConversationHandler.END
    await reply(
        update,
        context,
        context.t._(
            "Corrected: No. {number} is now {speed} Mbit/s.", number=str(fixed.id), speed=fixed.speed_mbps
        ),
    )
    return ConversationHandler.END


INSTALL = Flow(
    FLOW,
    role="staff",
    entry_points=[
        CommandHandler("install", start_install),
        CallbackQueryHandler(start_install, pattern=lambda d: d == "menu:install"),
        CallbackQueryHandler(fix_chosen, pattern=FixCb.filter()),
    ],
    states={
        VILLAGE: [
            MessageHandler(filters.TEXT & ~filters.COMMAND, village_typed),
            CallbackQueryHandler(village_chosen, pattern=step_filter("in", "v")),
        ],
        OBJECT: [CallbackQueryHandler(object_chosen, pattern=step_filter("in", "o"))],
        NEW_KIND: [CallbackQueryHandler(kind_chosen, pattern=step_filter("in", "k"))],
        NEW_NAME: [MessageHandler(filters.TEXT & ~filters.COMMAND, name_typed)],
        TECHNOLOGY: [CallbackQueryHandler(technology_chosen, pattern=step_filter("in", "t"))],
        SPEED: [MessageHandler(filters.TEXT & ~filters.COMMAND, speed_typed)],
        PHOTO: [
            MessageHandler(filters.PHOTO, photo_sent),
            CallbackQueryHandler(skip, pattern=step_filter("in", "skip")),
        ],
        LOCATION: [
            MessageHandler(filters.LOCATION, location_sent),
            CallbackQueryHandler(skip, pattern=step_filter("in", "skip")),
        ],
        CONFIRM: [CallbackQueryHandler(save, pattern=step_filter("in", "save"))],
        FIX_SPEED: [MessageHandler(filters.TEXT & ~filters.COMMAND, fix_typed)],
    },
)
FLOWS = [INSTALL]
HANDLERS: list[Handler] = [CommandHandler("mylog", my_log)]
