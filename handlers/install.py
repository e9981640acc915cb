"""Field staff: log an installation (/install), list and correct their own (/mylog)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, MessageHandler, filters

from bot import ui
from bot.context import BotContext
from bot.core.callbacks import MenuCb
from bot.flows import END, Flow, Handler, State
from bot.places import keyboards, service, texts
from bot.places.callbacks import (
    FixCb,
    InstallAgainCb,
    InstallBuildingCb,
    InstallKindCb,
    InstallSaveCb,
    InstallSkipCb,
    InstallTechnologyCb,
    InstallVillageCb,
)
from bot.places.rollout import InstallationError, check_building_name, check_speed

FLOW = "install"
VILLAGE, OBJECT, NEW_KIND, NEW_NAME, TECHNOLOGY, SPEED, PHOTO, LOCATION, CONFIRM, FIX_SPEED = (
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


async def refuse(update: Update, context: BotContext, error: InstallationError) -> None:
    await ui.refuse(update, context, texts.error_text(context.t, error.code))


async def start_install(update: Update, context: BotContext) -> State:
    """/install: which village?"""
    t = context.t
    await service.begin_installation(context.db, context.member, context.clock.now())
    await ui.show(
        update, context, t._("🛠 New installation. Type the village name:"), keyboards.make_cancel_keyboard(t)
    )
    return VILLAGE


async def menu_install(update: Update, context: BotContext, data: MenuCb) -> State:
    return await start_install(update, context)


async def type_again(update: Update, context: BotContext, data: InstallAgainCb) -> State:
    t = context.t
    await ui.show(
        update, context, t._("🛠 New installation. Type the village name:"), keyboards.make_cancel_keyboard(t)
    )
    return VILLAGE


async def village_typed(update: Update, context: BotContext) -> State:
    """The villages in my area closest to what I typed; typing again searches again."""
    message = update.effective_message
    assert message is not None and message.text is not None
    t = context.t
    found = service.find_villages(
        context.services.villages, message.text, member=context.member, role="staff"
    )
    if not found:
        await ui.show(
            update,
            context,
            texts.nothing_found(t, message.text, in_area=True),
            keyboards.make_cancel_keyboard(t),
        )
        return VILLAGE
    await ui.show(
        update,
        context,
        texts.village_choice_text(t, found, t._("Which village?")),
        keyboards.make_village_choice_keyboard(
            t, found, lambda code: InstallVillageCb(code=code), InstallAgainCb()
        ),
    )
    return VILLAGE


async def village_chosen(update: Update, context: BotContext, data: InstallVillageCb) -> State:
    t = context.t
    try:
        village, buildings = await service.choose_install_village(
            context.db, context.member, data.code, context.clock.now()
        )
    except InstallationError as error:
        await refuse(update, context, error)
        return VILLAGE
    await ui.show(
        update,
        context,
        t._(
            "{village}: which building?",
            village=texts.picked(t, {"kk": village.name_kk, "ru": village.name_ru}),
        ),
        keyboards.make_building_keyboard(t, buildings),
    )
    return OBJECT


async def building_chosen(update: Update, context: BotContext, data: InstallBuildingCb) -> State:
    t = context.t
    if data.building is None:
        await ui.show(update, context, t._("What kind of building?"), keyboards.make_kind_keyboard(t))
        return NEW_KIND
    try:
        await service.choose_building(context.db, context.member, data.building, context.clock.now())
    except InstallationError as error:
        await refuse(update, context, error)
        return OBJECT
    return await ask_technology(update, context)


async def kind_chosen(update: Update, context: BotContext, data: InstallKindCb) -> State:
    t = context.t
    await service.note_installation(
        context.db, context.member, context.clock.now(), new_kind=data.kind, object_id=None
    )
    await ui.show(
        update, context, t._("Type the building's name, e.g. «№2 школа»:"), keyboards.make_cancel_keyboard(t)
    )
    return NEW_NAME


async def name_typed(update: Update, context: BotContext) -> State:
    message = update.effective_message
    assert message is not None and message.text is not None
    try:
        name = check_building_name(message.text)
    except InstallationError as error:
        await refuse(update, context, error)
        return NEW_NAME
    await service.note_installation(context.db, context.member, context.clock.now(), new_name=name)
    return await ask_technology(update, context)


async def ask_technology(update: Update, context: BotContext) -> State:
    t = context.t
    await ui.show(update, context, t._("Which technology?"), keyboards.make_technology_keyboard(t))
    return TECHNOLOGY


async def technology_chosen(update: Update, context: BotContext, data: InstallTechnologyCb) -> State:
    t = context.t
    await service.note_installation(
        context.db, context.member, context.clock.now(), technology=data.technology
    )
    await ui.show(
        update, context, t._("Type the measured speed in Mbit/s:"), keyboards.make_cancel_keyboard(t)
    )
    return SPEED


async def speed_typed(update: Update, context: BotContext) -> State:
    message = update.effective_message
    assert message is not None and message.text is not None
    try:
        speed = check_speed(message.text[:50])
    except InstallationError as error:
        await refuse(update, context, error)
        return SPEED
    await service.note_installation(context.db, context.member, context.clock.now(), speed=speed)
    return await ask_photo(update, context)


async def ask_photo(update: Update, context: BotContext) -> State:
    t = context.t
    await ui.show(
        update,
        context,
        t._("Send a photo of the installation, or skip:"),
        keyboards.make_skip_keyboard(t, "photo"),
    )
    return PHOTO


async def ask_location(update: Update, context: BotContext) -> State:
    t = context.t
    await ui.show(
        update,
        context,
        t._("Share the location (📎 → Location), or skip:"),
        keyboards.make_skip_keyboard(t, "location"),
    )
    return LOCATION


async def photo_sent(update: Update, context: BotContext) -> State:
    """A photo lands in the installation, at the photo step or the location step."""
    message = update.effective_message
    assert message is not None and message.photo
    draft = await service.note_installation(
        context.db, context.member, context.clock.now(), photo=message.photo[-1].file_id
    )
    if draft.get("latitude") is not None:
        return await ask_confirm(update, context)
    return await ask_location(update, context)


async def location_sent(update: Update, context: BotContext) -> State:
    """A location lands in the installation, at the location step or the photo step."""
    message = update.effective_message
    assert message is not None and message.location is not None
    draft = await service.note_installation(
        context.db,
        context.member,
        context.clock.now(),
        latitude=message.location.latitude,
        longitude=message.location.longitude,
    )
    if not draft.get("photo") and not draft.get("photo_skipped"):
        return await ask_photo(update, context)
    return await ask_confirm(update, context)


async def skip(update: Update, context: BotContext, data: InstallSkipCb) -> State:
    if data.step == "photo":
        draft = await service.note_installation(
            context.db, context.member, context.clock.now(), photo_skipped=True
        )
        if draft.get("latitude") is not None:
            return await ask_confirm(update, context)
        return await ask_location(update, context)
    return await ask_confirm(update, context)


async def ask_confirm(update: Update, context: BotContext) -> State:
    t = context.t
    try:
        summary = await service.installation_summary(context.db, context.member, t.language)
    except InstallationError as error:
        await refuse(update, context, error)
        return END
    yes, no = t._("yes"), t._("no")
    building = (
        f"{texts.OBJECT_KIND_ICONS.get(summary.kind, '🏢')} {ui.shorten(summary.building, texts.NAME_LIMIT)}"
    )
    lines = [
        t._("<b>Check and save</b>"),
        t._(
            "Village: {village}",
            village=texts.picked(t, {"kk": summary.village.name_kk, "ru": summary.village.name_ru}),
        ),
        t._("Building: {name}", name=building),
        t._("Technology: {technology}", technology=texts.technology_name(t, summary.technology)),
        t._("Speed: {speed} Mbit/s", speed=summary.speed),
        t._("Photo: {answer}", answer=yes if summary.photo else no),
        t._("Location: {answer}", answer=yes if summary.located else no),
    ]
    await ui.show(update, context, "\n".join(lines), keyboards.make_save_keyboard(t))
    return CONFIRM


async def save(update: Update, context: BotContext, data: InstallSaveCb) -> State:
    """Commit the installation; a redelivered press finds the same entry and adds nothing."""
    t = context.t
    assert update.callback_query is not None
    try:
        installation = await service.save_installation(
            context.db,
            context.member,
            source_key=ui.source_key(update),
            now=context.clock.now(),
        )
    except InstallationError as error:
        await refuse(update, context, error)
        return CONFIRM if error.code != "outside_area" else END
    await ui.show(
        update,
        context,
        t._(
            "✅ Installation No. {number} saved. Followers of the village are told.",
            number=str(installation.id),
        ),
        ui.keyboard([ui.back_to_menu(t)]),
    )
    return END


async def my_log(update: Update, context: BotContext) -> None:
    """/mylog: my last installations; ones under 24 hours old can be corrected."""
    t = context.t
    if not context.member.holds("staff"):
        await ui.refuse(update, context, texts.error_text(t, "not_staff"))
        return
    lines = await service.my_installations(context.db, context.member, context.clock.now())
    if not lines:
        await ui.show(update, context, t._("You have not logged any installations yet. Use /install."))
        return
    text = [t._("<b>My installations</b>")]
    for line in lines:
        item = line.line.installation
        kept = [t._("📷 photo")] if item.photo_file_id else []
        kept += [t._("📍 location")] if item.latitude is not None else []
        entry = t._(
            "No. {number}, {date}: {village}, {name} — {technology}, {speed} Mbit/s",
            number=str(item.id),
            date=t.datetime(item.created_at),
            village=texts.picked(t, line.line.village),
            name=texts.building_name(t, line.line.building),
            technology=texts.technology_name(t, item.technology),
            speed=item.speed_mbps,
        )
        text.append(" · ".join([entry, *kept]))
    await ui.show(update, context, ui.fit(text), keyboards.make_log_keyboard(t, lines))


async def fix_chosen(update: Update, context: BotContext, data: FixCb) -> State:
    t = context.t
    try:
        await service.start_correction(context.db, context.member, data.installation, context.clock.now())
    except InstallationError as error:
        await refuse(update, context, error)
        return END
    await ui.show(
        update, context, t._("Type the corrected speed in Mbit/s:"), keyboards.make_cancel_keyboard(t)
    )
    return FIX_SPEED


async def fix_typed(update: Update, context: BotContext) -> State:
    message = update.effective_message
    assert message is not None and message.text is not None
    try:
        speed = check_speed(message.text[:50])
        fixed = await service.correct_installation(
            context.db, context.member, speed_mbps=speed, now=context.clock.now()
        )
    except InstallationError as error:
        await refuse(update, context, error)
        return FIX_SPEED if error.code.startswith("speed") else END
    await ui.show(
        update,
        context,
        context.t._(
            "Corrected: No. {number} is now {speed} Mbit/s.", number=str(fixed.id), speed=fixed.speed_mbps
        ),
    )
    return END


TEXT = filters.TEXT & ~filters.COMMAND
INSTALL = Flow(
    FLOW,
    role="staff",
    entry_points=[
        CommandHandler("install", start_install),
        ui.on_button(MenuCb, menu_install, when=lambda data: data.item == "install"),
        ui.on_button(FixCb, fix_chosen),
    ],
    states={
        VILLAGE: [
            MessageHandler(TEXT, village_typed),
            ui.on_button(InstallVillageCb, village_chosen),
            ui.on_button(InstallAgainCb, type_again),
        ],
        OBJECT: [ui.on_button(InstallBuildingCb, building_chosen)],
        NEW_KIND: [ui.on_button(InstallKindCb, kind_chosen)],
        NEW_NAME: [MessageHandler(TEXT, name_typed)],
        TECHNOLOGY: [ui.on_button(InstallTechnologyCb, technology_chosen)],
        SPEED: [MessageHandler(TEXT, speed_typed)],
        PHOTO: [
            MessageHandler(filters.PHOTO, photo_sent),
            MessageHandler(filters.LOCATION, location_sent),
            ui.on_button(InstallSkipCb, skip),
        ],
        LOCATION: [
            MessageHandler(filters.LOCATION, location_sent),
            MessageHandler(filters.PHOTO, photo_sent),
            ui.on_button(InstallSkipCb, skip),
        ],
        CONFIRM: [ui.on_button(InstallSaveCb, save)],
        FIX_SPEED: [MessageHandler(TEXT, fix_typed)],
    },
)
FLOWS = [INSTALL]
HANDLERS: list[Handler] = [CommandHandler("mylog", my_log)]
