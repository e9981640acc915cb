"""Residents: find my village, read its status card, follow it. Staff: set its stage and plan."""

from __future__ import annotations

import logging

from telegram import (
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
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
from bot.i18n import N_, Translator
from bot.places import notifications, service  # noqa: F401 - notifications registers its renderers
from bot.places.service import REASONS, STAFF_REASONS, RolloutChange, VillageCard
from db import places
from db.places import STAGES
from handlers.common import MAX_FREE_TEXT, back_to_menu, button, keyboard, reply, requires, village_choices

log = logging.getLogger(__name__)


TYPING_NAME = "village.name"
PAGE_SIZE = 8

STAGE_NAMES: dict[str, str] = {
    "none": N_("⚪ Not in the programme yet"),
    "planned": N_("🗓 Planned"),
    "design": N_("📐 Design and survey"),
    "construction": N_("🏗 Construction under way"),
    "connected": N_("✅ Connected"),
}
TECHNOLOGY_NAMES: dict[str, str] = {
    "fibre": N_("fibre optic"),
    "satellite": N_("satellite"),
    "radio": N_("radio link"),
    "mobile": N_("mobile network"),
}
OBJECT_KIND_NAMES: dict[str, str] = {
    "school": N_("school"),
    "medical": N_("medical post"),
    "akimat": N_("akimat"),
    "library": N_("library"),
    "other": N_("other building"),
}


class VillageCb(CallbackData, prefix="vl"):
    action: str  # show, mine, follow, unfollow, search
    code: str


class BrowseCb(CallbackData, prefix="vb"):
    level: str  # region, district, village
    code: str
    page: int = 0


class StageCb(CallbackData, prefix="vs"):
    """Staff change a village's stage, then its planned window, then say why."""

    code: str
    stage: str | None = None
    year: int | None = None  # -1: keep the current window
    quarter: int | None = None  # 0: the whole year
    reason: str | None = None


KEEP = -1


def window_text(t: Translator, year: int | None, quarter: int | None) -> str:
    if year is None:
        return t._("not set yet")
    if quarter is None:
        return t._("{year}", year=str(year))
    return t._("quarter {quarter} of {year}", quarter=str(quarter), year=str(year))


def next_step(t: Translator, card: VillageCard) -> str:
    village = card.village
    if village.stage == "connected":
        return t._(
            "Home internet: ask {operator} to connect your house.",
            operator=village.operator or t._("the operator"),
        )
    if village.stage in ("construction", "design", "planned"):
        return t._("Follow the village and I will tell you when this changes.")
    return t._(
        "Your village is not in the programme yet. Tell your akimat that people need internet;"
        " follow the village to hear if that changes."
    )


def render_card(t: Translator, card: VillageCard) -> str:
    village = card.village
    lines = [f"🏡 <b>{_escape(village.name(t.language))}</b>"]
    if card.district and card.region:
        lines.append(_escape(f"{card.district.name(t.language)}, {card.region.name(t.language)}"))
    lines += ["", t._("Stage: {stage}", stage=t._(STAGE_NAMES[village.stage]))]
    if village.stage != "connected" and village.stage != "none":
        lines.append(
            t._("Planned: {window}", window=window_text(t, village.planned_year, village.planned_quarter))
        )
    if village.operator:
        lines.append(t._("Operator: {operator}", operator=village.operator))
    if village.technology and village.planned_technology and village.planned_technology != village.technology:
        lines.append(
            t._(
                "Now {now}, later {later}",
                now=t._(TECHNOLOGY_NAMES.get(village.technology, "other")),
                later=t._(TECHNOLOGY_NAMES.get(village.planned_technology, "other")),
            )
        )
    elif village.technology:
        lines.append(
            t._("Technology: {technology}", technology=t._(TECHNOLOGY_NAMES.get(village.technology, "")))
        )
    elif village.planned_technology:
        lines.append(
            t._(
                "Planned technology: {technology}",
                technology=t._(TECHNOLOGY_NAMES.get(village.planned_technology, "")),
            )
        )
    if card.objects:
        lines += ["", t._("<b>Buildings</b>")]
        for item in card.objects:
            kind = t._(OBJECT_KIND_NAMES[item.kind])
            if item.connected and item.speed_mbps:
                lines.append(
                    t._(
                        "✅ {name} ({kind}): online, {speed} Mbit/s",
                        name=item.name,
                        kind=kind,
                        speed=item.speed_mbps,
                    )
                )
            elif item.connected:
                lines.append(t._("✅ {name} ({kind}): online", name=item.name, kind=kind))
            else:
                lines.append(t._("⏳ {name} ({kind}): not yet", name=item.name, kind=kind))
    if card.last_change is not None:
        lines += [
            "",
            t._(
                "Updated {date}: {reason}",
                date=t.date(card.last_change.at),
                reason=t._(REASONS.get(card.last_change.reason, REASONS["other"])),
            ),
        ]
    lines += ["", next_step(t, card)]
    return "\n".join(lines)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def card_keyboard(
    t: Translator, card: VillageCard, context: BotContext, mine: str | None
) -> InlineKeyboardMarkup:
    code = card.village.code
    follow = (
        button(t._("🔕 Stop following"), VillageCb(action="unfollow", code=code))
        if card.following
        else button(t._("🔔 Follow: tell me about changes"), VillageCb(action="follow", code=code))
    )
    rows = [[follow]]
    if mine != code:
        rows.append([button(t._("🏡 This is my village"), VillageCb(action="mine", code=code))])
    if context.member.can("staff", code):
        rows.append([button(t._("🛠 Change stage"), StageCb(code=code))])
    rows.append([button(t._("🔎 Another village"), VillageCb(action="search", code="-")), back_to_menu(t)])
    return keyboard(*rows)


async def show_card(update: Update, context: BotContext, code: str, *, edit: bool = False) -> None:
    t = context.t
    async with context.db.read() as conn:
        card = await service.village_card(conn, code, context.member.id)
        mine = await places.my_village(conn, context.member.id)
    if card is None:
        await reply(update, context, t._("I could not find that village. Try the search again."))
        return
    await reply(update, context, render_card(t, card), card_keyboard(t, card, context, mine), edit=edit)


async def ask_name(update: Update, context: BotContext, *, edit: bool = False) -> State:
    t = context.t
    text = t._(
        "Type the name of your village, in Kazakh or Russian. Or choose it from the list, or share your"
        " location."
    )
    await reply(
        update,
        context,
        text,
        keyboard(
            [button(t._("🗺 Choose from the list"), BrowseCb(level="region", code="-"))],
            [back_to_menu(t)],
        ),
        edit=edit,
    )
    if update.effective_chat is not None and update.effective_chat.type == "private":
        await context.bot.send_message(
            update.effective_chat.id,
            t._("📍 Or share where you are:"),
            reply_markup=ReplyKeyboardMarkup(
                [[KeyboardButton(t._("📍 Share my location"), request_location=True)]],
                resize_keyboard=True,
                one_time_keyboard=True,
            ),
        )
    return TYPING_NAME


async def village_entry(update: Update, context: BotContext) -> State:
    """Menu "My village's internet" and /village: my village's card, or find it first."""
    if update.callback_query is not None:
        await ui.answer(update, context)
    async with context.db.read() as conn:
        # My village, or else the first one I follow.
        mine = await places.my_village(conn, context.member.id) or next(
            iter(await places.followed_by(conn, context.member.id)), None
        )
    if mine is not None:
        await show_card(update, context, mine, edit=update.callback_query is not None)
        return ConversationHandler.END
    return await ask_name(update, context, edit=update.callback_query is not None)


async def search_again(update: Update, context: BotContext) -> State:
    assert update.callback_query is not None
    await ui.answer(update, context)
    return await ask_name(update, context)


async def name_typed(update: Update, context: BotContext) -> State:
    """A village name typed any way: the closest matches as buttons."""
    message = update.effective_message
    assert message is not None and message.text is not None
    t = context.t
    if len(message.text) > MAX_FREE_TEXT:
        await reply(update, context, t._("That is too long for a village name. Please type just the name."))
        return TYPING_NAME
    rows = village_choices(context, message.text, lambda code: VillageCb(action="show", code=code))
    if not rows:
        await reply(
            update,
            context,
            t._(
                "I could not find «{query}». Check the spelling, or choose from the list.",
                query=message.text[:60],
            ),
            keyboard([button(t._("🗺 Choose from the list"), BrowseCb(level="region", code="-"))]),
        )
        return TYPING_NAME
    await message.reply_text(t._("Here is what I found:"), reply_markup=ReplyKeyboardRemove())
    await reply(update, context, t._("Which one is yours?"), keyboard(*rows))
    return ConversationHandler.END


async def location_shared(update: Update, context: BotContext) -> State:
    """A shared location: the nearest villages we know coordinates for."""
    message = update.effective_message
    assert message is not None and message.location is not None
    t = context.t
    nearest = context.services.villages.nearest(
        message.location.latitude, message.location.longitude, limit=5
    )
    await message.reply_text(t._("Villages near you:"), reply_markup=ReplyKeyboardRemove())
    if not nearest:
        await reply(update, context, t._("I do not know any villages near there yet. Please type the name."))
        return TYPING_NAME
    rows = [
        [
            button(
                t._("{village} — {km} km", village=place.name(t.language), km=round(km)),
                VillageCb(action="show", code=place.code),
            )
        ]
        for place, km in nearest
    ]
    await reply(update, context, t._("Which one is yours?"), keyboard(*rows))
    return ConversationHandler.END


async def unexpected_in_search(update: Update, context: BotContext) -> State:
    await reply(update, context, context.t._("Please type the village name as text, or use the buttons."))
    return TYPING_NAME


async def village_button(update: Update, context: BotContext) -> None:
    """Show / follow / unfollow / make mine."""
    query = update.callback_query
    assert query is not None
    t = context.t
    data = VillageCb.parse(query.data)
    if data is None or data.action not in ("show", "mine", "follow", "unfollow"):
        await ui.answer(
            update, context, t._("This button is out of date. Open /menu again."), show_alert=True
        )
        return
    now = context.clock.now()
    async with context.db.read() as conn:
        village = await places.get_village(conn, data.code)
    if village is None:
        await ui.answer(
            update, context, t._("This button is out of date. Open /menu again."), show_alert=True
        )
        return
    if data.action == "mine":
        async with context.db.transaction() as tx:
            await places.set_my_village(tx, context.member.id, data.code)
            await places.follow(tx, context.member.id, data.code, now)
        await ui.answer(update, context, t._("Saved as your village. You will hear about changes."))
    elif data.action == "follow":
        async with context.db.transaction() as tx:
            await places.follow(tx, context.member.id, data.code, now)
        await ui.answer(
            update, context, t._("You are following {village}.", village=village.name(t.language))
        )
    elif data.action == "unfollow":
        async with context.db.transaction() as tx:
            await places.unfollow(tx, context.member.id, data.code)
        await ui.answer(
            update, context, t._("You no longer follow {village}.", village=village.name(t.language))
        )
    else:
        await ui.answer(update, context)
    await show_card(update, context, data.code, edit=data.action != "show")


async def browse(update: Update, context: BotContext) -> State:
    """Region → district → village, as paged buttons."""
    query = update.callback_query
    assert query is not None
    t = context.t
    data = BrowseCb.parse(query.data)
    if data is None or data.level not in ("region", "district", "village"):
        await ui.answer(
            update, context, t._("This button is out of date. Open /menu again."), show_alert=True
        )
        return ConversationHandler.END
    await ui.answer(update, context)
    items: list[tuple[str, CallbackData]]
    async with context.db.read() as conn:
        if data.level == "region":
            items = [
                (a.name(t.language), BrowseCb(level="district", code=a.code))
                for a in await places.areas_with_villages(conn, "region", None)
            ]
            title = t._("Choose the region:")
        elif data.level == "district":
            items = [
                (a.name(t.language), BrowseCb(level="village", code=a.code))
                for a in await places.areas_with_villages(conn, "district", data.code)
            ]
            title = t._("Choose the district:")
        else:
            items = [
                (v.name(t.language), VillageCb(action="show", code=v.code))
                for v in await places.villages_in(conn, data.code)
            ]
            title = t._("Choose the village:")
    items.sort(key=lambda item: item[0])
    pages = max(1, -(-len(items) // PAGE_SIZE))
    page = min(max(data.page, 0), pages - 1)
    shown = items[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    rows = [[button(label[:60], target)] for label, target in shown]
    nav = []
    if page > 0:
        nav.append(button(t._("◀️ Back"), BrowseCb(level=data.level, code=data.code, page=page - 1)))
    if page < pages - 1:
        nav.append(button(t._("More ▶️"), BrowseCb(level=data.level, code=data.code, page=page + 1)))
    rows += [nav, [back_to_menu(t)]]
    text = (
        t._("{title} (page {page} of {pages})", title=title, page=page + 1, pages=pages)
        if pages > 1
        else title
    )
    await reply(update, context, text, keyboard(*rows), edit=True)
    return ConversationHandler.END


@requires("staff")
async def stage_button(update: Update, context: BotContext) -> None:
    """Staff: new stage → planned year → quarter → reason; saved with history, followers told."""
    query = update.callback_query
    assert query is not None
    t = context.t
    data = StageCb.parse(query.data)
    async with context.db.read() as conn:
        village = await places.get_village(conn, data.code) if data else None
    if data is None or village is None or not _valid_stage_data(data, context.clock.now().year):
        await ui.answer(
            update, context, t._("This button is out of date. Open /menu again."), show_alert=True
        )
        return
    if not context.member.can("staff", village.code):
        await ui.answer(update, context, t._("This village is outside your area."), show_alert=True)
        return
    await ui.answer(update, context)
    name = village.name(t.language)
    back = [back_to_menu(t)]
    if data.stage is None:
        rows = [
            [button(t._(STAGE_NAMES[stage]), data.model_copy(update={"stage": stage}))] for stage in STAGES
        ]
        await reply(
            update,
            context,
            t._("{village}: choose the new stage.", village=name),
            keyboard(*rows, back),
            edit=True,
        )
        return
    if data.year is None and data.stage in ("planned", "design", "construction"):
        this_year = context.clock.now().year
        rows = [
            [
                button(str(year), data.model_copy(update={"year": year}))
                for year in range(this_year, this_year + 4)
            ]
        ]
        current = window_text(t, village.planned_year, village.planned_quarter)
        rows.append(
            [
                button(
                    t._("Keep: {window}", window=current),
                    data.model_copy(update={"year": KEEP, "quarter": 0}),
                )
            ]
        )
        await reply(update, context, t._("When is it planned to be done?"), keyboard(*rows, back), edit=True)
        return
    if data.year is None:
        data = data.model_copy(update={"year": KEEP, "quarter": 0})
    if data.quarter is None:
        rows = [
            [
                button(t._("Quarter {n}", n=quarter), data.model_copy(update={"quarter": quarter}))
                for quarter in (1, 2, 3, 4)
            ],
            [button(t._("The whole year"), data.model_copy(update={"quarter": 0}))],
        ]
        await reply(
            update,
            context,
            t._("Which quarter of {year}?", year=str(data.year)),
            keyboard(*rows, back),
            edit=True,
        )
        return
    if data.reason is None:
        rows = [
            [button(t._(REASONS[reason]), data.model_copy(update={"reason": reason}))]
            for reason in STAFF_REASONS
        ]
        await reply(update, context, t._("Why does it change?"), keyboard(*rows, back), edit=True)
        return
    year, quarter = (
        (village.planned_year, village.planned_quarter)
        if data.year == KEEP
        else (data.year, data.quarter or None)
    )
    change = RolloutChange(
        stage=data.stage,  # type: ignore[arg-type]
        planned_year=year,
        planned_quarter=quarter,
        operator=village.operator,
        technology=village.technology,
        planned_technology=village.planned_technology,
        note=village.note,
    )
    async with context.db.transaction() as tx:
        outcome = await service.change_rollout(
            tx, village, change, reason=data.reason, actor_id=context.member.id, now=context.clock.now()
        )
    await reply(
        update,
        context,
        t.n_("Saved. {n} follower will be told.", "Saved. {n} followers will be told.", outcome.notified),
        edit=True,
    )
    await show_card(update, context, village.code)


def _valid_stage_data(data: StageCb, this_year: int) -> bool:
    return (
        (data.stage is None or data.stage in STAGES)
        and (data.year is None or data.year == KEEP or this_year - 1 <= data.year <= this_year + 10)
        and (data.quarter is None or 0 <= data.quarter <= 4)
        and (data.reason is None or data.reason in STAFF_REASONS)
    )


SEARCH = Flow(
    "village",
    entry_points=[
        CommandHandler("village", village_entry),
        CallbackQueryHandler(village_entry, pattern=lambda d: d == "menu:village"),
        CallbackQueryHandler(search_again, pattern=lambda d: d == "vl:search:-"),
    ],
    states={
        TYPING_NAME: [
            MessageHandler(filters.TEXT & ~filters.COMMAND, name_typed),
            MessageHandler(filters.LOCATION, location_shared),
            MessageHandler(~filters.COMMAND & ~filters.TEXT, unexpected_in_search),
        ],
    },
)
FLOWS = [SEARCH]
HANDLERS: list[Handler] = [
    # A location shared outside any flow: the villages near it.
    MessageHandler(filters.LOCATION & filters.ChatType.PRIVATE, location_shared),
    CallbackQueryHandler(village_button, pattern=VillageCb.filter()),
    CallbackQueryHandler(browse, pattern=BrowseCb.filter()),
    CallbackQueryHandler(stage_button, pattern=StageCb.filter()),
]
