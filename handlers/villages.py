"""Residents: find my village, read its status card, follow it. Staff: set its stage and plan."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, MessageHandler, filters

from bot import ui
from bot.context import BotContext
from bot.core.callbacks import MenuCb
from bot.flows import END, Flow, Handler, State
from bot.places import keyboards, notifications, service, texts  # noqa: F401 - notifications registers renderers
from bot.places.callbacks import KEEP_WINDOW, BrowseCb, SearchCb, StageCb, VillageCb
from bot.places.service import PlacesError, VillageCard

NAME = "village.name"


async def show_card(
    update: Update, context: BotContext, card: VillageCard | None, notice: str | None = None
) -> None:
    t = context.t
    if card is None:
        await ui.stale(update, context)
        return
    await ui.show(update, context, texts.render_card(t, card, notice), keyboards.make_card_keyboard(t, card))


async def village_entry(update: Update, context: BotContext) -> State:
    """Menu «My village's internet» and /village: my village's card, or find it first."""
    card = await service.home_card(context.db, context.member, context.clock.now())
    if card is not None:
        await show_card(update, context, card)
        return END
    return await ask_name(update, context)


async def ask_name(update: Update, context: BotContext) -> State:
    t = context.t
    await ui.show(
        update,
        context,
        t._(
            "Type the name of your village, in Kazakh or Russian, or choose it from the list."
            " «📍 Near me» lists the villages around you."
        ),
        keyboards.make_search_prompt_keyboard(t),
    )
    return NAME


async def search_button(update: Update, context: BotContext, data: SearchCb) -> State:
    """«🔎 Search again» asks for a name; «📍 Near me» asks for the location with a button under the text field."""
    t = context.t
    if data.action == "near":
        await ui.ask_with_reply_keyboard(
            update,
            context,
            t._("Press «📍 Share my location» below, or type the name of the village."),
            keyboards.make_location_request(t),
        )
        return NAME
    return await ask_name(update, context)


async def name_typed(update: Update, context: BotContext) -> State:
    """A village name typed any way: the closest places in one message; typing again searches again."""
    message = update.effective_message
    assert message is not None and message.text is not None
    t = context.t
    if len(message.text) > ui.MAX_FREE_TEXT:
        await ui.show(update, context, t._("That is too long for a village name. Please type just the name."))
        return NAME
    found = service.find_villages(context.services.villages, message.text)
    if not found:
        await ui.show(
            update, context, texts.nothing_found(t, message.text), keyboards.make_search_prompt_keyboard(t)
        )
        return NAME
    await ui.show(
        update,
        context,
        texts.village_choice_text(t, found),
        keyboards.make_village_choice_keyboard(
            t, found, lambda code: VillageCb(action="show", code=code), SearchCb(action="again")
        ),
    )
    return NAME


async def location_shared(update: Update, context: BotContext) -> State:
    """A shared location: the nearest villages we know coordinates for, in one message."""
    message = update.effective_message
    assert message is not None and message.location is not None
    t = context.t
    nearest = service.nearest_villages(
        context.services.villages, message.location.latitude, message.location.longitude
    )
    if not nearest:
        await ui.show(
            update,
            context,
            t._("I do not know any villages near there yet. Please type the name."),
            keyboards.make_search_prompt_keyboard(t),
        )
        return NAME
    await ui.show(
        update,
        context,
        t._("Villages near you. Which one is yours?"),
        keyboards.make_nearest_keyboard(t, nearest),
    )
    return NAME


async def village_button(update: Update, context: BotContext, data: VillageCb) -> State:
    """Show a card, follow, stop following, make it mine: the card is edited in place."""
    db, member, now = context.db, context.member, context.clock.now()
    if data.action == "follow":
        card = await service.set_following(db, member, data.code, follow=True, now=now)
    elif data.action == "unfollow":
        card = await service.set_following(db, member, data.code, follow=False, now=now)
    elif data.action == "mine":
        card = await service.make_mine(db, member, data.code, now)
        if card is not None:  # said once, on top: the card alone would only lose its button
            t = context.t
            name = texts.picked(t, {"kk": card.village.name_kk, "ru": card.village.name_ru})
            await show_card(update, context, card, t._("🏡 {village} is your village now.", village=name))
            return END
    else:
        card = await service.open_card(db, member, data.code, now)
    await show_card(update, context, card)
    return END


async def browse(update: Update, context: BotContext, data: BrowseCb) -> State:
    """Region → district → rural okrug → settlement, eight a page, villages before small places."""
    t = context.t
    page = await service.browse(context.db, data.level, data.code, data.page, t.language)
    if page is None:
        await ui.stale(update, context)
        return NAME
    title = t._(texts.BROWSE_TITLES[page.level])
    if page.pages > 1:  # the page before the colon the title ends with: «Choose …: (page 1 of 2)» reads badly
        title = t._(
            "{title} (page {page} of {pages}):",
            title=title.removesuffix(":"),
            page=page.page + 1,
            pages=page.pages,
        )
    lines = [f"<b>{texts.escape(page.area.name(t.language))}</b>", title] if page.area else [title]
    await ui.show(update, context, "\n".join(lines), keyboards.make_browse_keyboard(t, page))
    return NAME


async def stage_button(update: Update, context: BotContext, data: StageCb) -> None:
    """Staff: new stage → planned year → quarter → reason; saved with history, followers told."""
    t = context.t
    now = context.clock.now()
    try:
        village = await service.stage_village(context.db, context.member, data.code)
    except PlacesError as error:
        await ui.refuse(update, context, texts.error_text(t, error.code))
        return
    name = texts.picked(t, {"kk": village.name_kk, "ru": village.name_ru})
    if data.stage is None:
        await ui.show(
            update,
            context,
            t._("{village}: choose the new stage.", village=name),
            keyboards.make_stage_keyboard(t, village.code),
        )
        return
    needs_window = data.stage in ("planned", "design", "construction")
    if data.year is not None and data.year != KEEP_WINDOW and not now.year - 1 <= data.year <= now.year + 10:
        await ui.stale(update, context)
        return
    if needs_window and data.year is None:
        current = texts.window_text(t, village.planned_year, village.planned_quarter)
        await ui.show(
            update,
            context,
            t._("When is it planned to be done?"),
            keyboards.make_year_keyboard(t, data, now.year, current),
        )
        return
    if needs_window and data.year != KEEP_WINDOW and data.quarter is None:
        await ui.show(
            update,
            context,
            t._("Which quarter of {year}?", year=str(data.year)),
            keyboards.make_quarter_keyboard(t, data),
        )
        return
    if data.reason is None:
        await ui.show(
            update,
            context,
            t._("Why does it change?"),
            keyboards.make_reason_keyboard(t, data, service.reasons_for(data.stage)),
        )
        return
    try:
        card, notified = await service.change_stage(
            context.db,
            context.member,
            village.code,
            stage=data.stage,
            year=data.year if needs_window and data.year != KEEP_WINDOW else None,
            quarter=data.quarter or None,
            reason=data.reason,
            now=now,
            keep_window=not needs_window or data.year == KEEP_WINDOW,
        )
    except PlacesError as error:
        await ui.refuse(update, context, texts.error_text(t, error.code))
        return
    notice = t.n_("Saved. {n} follower will be told.", "Saved. {n} followers will be told.", notified)
    await show_card(update, context, card, "✅ " + notice)


async def menu_village(update: Update, context: BotContext, data: MenuCb) -> State:
    return await village_entry(update, context)


SEARCH = Flow(
    "village",
    entry_points=[
        CommandHandler("village", village_entry),
        ui.on_button(MenuCb, menu_village, when=lambda data: data.item == "village"),
        ui.on_button(SearchCb, search_button),
        ui.on_button(BrowseCb, browse),
    ],
    states={
        NAME: [
            MessageHandler(filters.TEXT & ~filters.COMMAND, name_typed),
            MessageHandler(filters.LOCATION, location_shared),
            ui.on_button(VillageCb, village_button),
        ],
    },
)
FLOWS = [SEARCH]
HANDLERS: list[Handler] = [
    # A location shared outside any flow: the villages near it.
    MessageHandler(filters.LOCATION & filters.ChatType.PRIVATE, location_shared),
    ui.on_button(VillageCb, village_button),
    ui.on_button(StageCb, stage_button),
]
