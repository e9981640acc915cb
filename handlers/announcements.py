"""/announce: an administrator tells an area about planned works; residents can opt out per village."""

from __future__ import annotations

from typing import Any

from telegram import Message, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import flows, ui
from bot.announcements import service, texts
from bot.announcements.callbacks import AreaCb, AudienceCb, OptOutCb, SameTextCb, SendCb, SummaryCb
from bot.announcements.keyboards import (
    make_areas_keyboard,
    make_audience_keyboard,
    make_cancel_keyboard,
    make_found_keyboard,
    make_preview_keyboard,
    make_same_text_keyboard,
    make_summary_keyboard,
)
from bot.announcements.notifications import announcement_text, make_opt_out_keyboard
from bot.announcements.service import AnnouncementError, Draft
from bot.context import BotContext
from bot.core import texts as core_texts
from bot.core.callbacks import MenuCb
from bot.flows import Flow, Handler, State
from bot.i18n import translator
from bot.stats.callbacks import unpack_area
from bot.stats.service import parent_of
from db import drafts

NAME = "announce"
KAZAKH, RUSSIAN, AREA, AUDIENCE, PREVIEW = (
    f"{NAME}.{step}" for step in ("kk", "ru", "area", "audience", "preview")
)
FOUND_LIMIT = 6


async def _draft(context: BotContext, **changes: Any) -> Draft:
    async with context.db.transaction() as tx:
        data = await drafts.update_draft(tx, context.member.id, NAME, changes, context.clock.now())
    return Draft.of(data)


async def _refuse(update: Update, context: BotContext, error: AnnouncementError) -> None:
    await ui.refuse(update, context, context.t._(texts.ERRORS.get(error.code, texts.ERRORS["unknown"])))


@ui.requires("admin")
async def start(update: Update, context: BotContext) -> State:
    """/announce and «📢 Announcement»: first the Kazakh text."""
    async with context.db.transaction() as tx:
        await drafts.save_draft(tx, context.member.id, NAME, {}, context.clock.now())
    t = context.t
    await ui.show(update, context, t._(texts.ASK_KK, limit=service.MAX_TEXT), make_cancel_keyboard(t))
    return KAZAKH


async def _typed(update: Update, context: BotContext) -> str | None:
    """The typed text, or None after telling the person why it cannot be used."""
    message = update.effective_message
    assert message is not None and message.text is not None
    t = context.t
    if len(message.text) > service.MAX_TEXT:
        limit = service.MAX_TEXT
        await ui.refuse(update, context, t._(core_texts.TOO_LONG, length=len(message.text), limit=limit))
        return None
    try:
        return service.clean(message.text)
    except AnnouncementError as error:
        await _refuse(update, context, error)
        return None


async def kazakh_typed(update: Update, context: BotContext) -> State:
    text = await _typed(update, context)
    if text is None:
        return KAZAKH
    await _draft(context, text_kk=text)
    await ui.show(update, context, context.t._(texts.ASK_RU), make_same_text_keyboard(context.t))
    return RUSSIAN


async def russian_typed(update: Update, context: BotContext) -> State:
    text = await _typed(update, context)
    if text is None:
        return RUSSIAN
    await _draft(context, text_ru=text)
    return await _ask_area(update, context, None)


async def same_text(update: Update, context: BotContext, data: SameTextCb) -> State:
    draft = await _draft(context)
    await _draft(context, text_ru=draft.text_kk)
    return await _ask_area(update, context, None)


async def _ask_area(update: Update, context: BotContext, area: str | None) -> State:
    t = context.t
    try:
        choice = await service.area_choice(context.db, context.member, area)
    except AnnouncementError as error:
        await _refuse(update, context, error)
        return AREA
    up = None
    above = parent_of(choice.whole.code) if choice.whole is not None else None
    if above is not None and context.member.can(service.ROLE, above):
        up = (await service.area_choice(context.db, context.member, above)).whole
    text = t._("📢 Where should it go? Choose the area, or type a village's name.")
    await ui.show(update, context, text, make_areas_keyboard(t, choice.whole, choice.parts, up))
    return AREA


async def area_pressed(update: Update, context: BotContext, data: AreaCb) -> State:
    area = unpack_area(data.area) if data.area is not None else None
    if not data.pick or area is None:
        return await _ask_area(update, context, area)
    try:
        await service.area_choice(context.db, context.member, area)  # checks the area is the admin's
    except AnnouncementError as error:
        await _refuse(update, context, error)
        return AREA
    draft = await _draft(context, area=area)
    return await _ask_audience(update, context, draft)


async def village_typed(update: Update, context: BotContext) -> State:
    """A typed name at the area step: the villages of the admin's area that match it."""
    message = update.effective_message
    assert message is not None and message.text is not None
    t = context.t
    matches = context.services.villages.search(message.text[: ui.MAX_FREE_TEXT], limit=FOUND_LIMIT * 3)
    found = [
        (match.place.code, f"{match.place.name(t.language)} — {match.place.where(t.language)}")
        for match in matches
        if context.member.can(service.ROLE, match.place.code)
    ][:FOUND_LIMIT]
    if found:
        text = t._("📢 Which village?")
    else:
        text = t._("No village of your area matches «{query}». Type the name again:", query=message.text[:60])
    await ui.show(update, context, text, make_found_keyboard(t, found))
    return AREA


async def _ask_audience(update: Update, context: BotContext, draft: Draft) -> State:
    t = context.t
    await ui.show(update, context, t._("📢 Who should get it?"), make_audience_keyboard(t, draft.audiences))
    return AUDIENCE


async def audience_pressed(update: Update, context: BotContext, data: AudienceCb) -> State:
    draft = await _draft(context)
    if data.audience is not None:
        draft = await _draft(context, audiences=list(service.toggled(draft.audiences, data.audience)))
        return await _ask_audience(update, context, draft)
    return await _show_preview(update, context, draft)


async def _show_preview(update: Update, context: BotContext, draft: Draft) -> State:
    t = context.t
    try:
        preview = await service.preview(context.db, context.member, draft)
    except AnnouncementError as error:
        await _refuse(update, context, error)
        return AUDIENCE
    counts = ", ".join(
        t._("{audience}: {n}", audience=t._(texts.AUDIENCE_NAMES[name]), n=count)
        for name, count in preview.by_audience.items()
    )
    lines = [
        t._("📢 <b>Check the announcement</b>"),
        "",
        "🇰🇿 " + announcement_text(translator("kk"), preview.params),
        "",
        "🇷🇺 " + announcement_text(translator("ru"), preview.params),
        "",
        t.n_(
            "It goes to {n} person ({counts}), each in their language.",
            "It goes to {n} people ({counts}), each in their language.",
            preview.recipients,
            counts=counts,
        ),
    ]
    await ui.show(update, context, "\n".join(lines), make_preview_keyboard(t, preview.recipients))
    return PREVIEW


async def send_pressed(update: Update, context: BotContext, data: SendCb) -> State:
    """«📢 Send»: queued for everyone at once; the preview becomes the delivery summary."""
    if data.action == "again":
        return await start(update, context)  # type: ignore[no-any-return]
    query = update.callback_query
    assert query is not None
    async with context.db.read() as conn:
        stored = await drafts.get_draft(conn, context.member.id, NAME)
    try:
        announcement = await service.send(
            context.db,
            context.member,
            Draft.of(stored),
            source_key=ui.source_key(update),
            now=context.clock.now(),
        )
    except AnnouncementError as error:
        await _refuse(update, context, error)
        return flows.END if error.code == "incomplete" else PREVIEW
    async with context.db.transaction() as tx:
        await drafts.clear_draft(tx, context.member.id, NAME)
    await _show_summary(update, context, announcement.id)
    return flows.END


async def summary_pressed(update: Update, context: BotContext, data: SummaryCb) -> None:
    await _show_summary(update, context, data.id)


async def _show_summary(update: Update, context: BotContext, announcement_id: int) -> None:
    t = context.t
    try:
        found = await service.summary(context.db, context.member, announcement_id)
    except AnnouncementError as error:
        await _refuse(update, context, error)
        return
    area = found.place.name(t.language) if found.place is not None else found.announcement.area
    lines = [
        t._("📢 Announcement No. {id}: {area}", id=str(found.announcement.id), area=area),
        t._("Recipients: {n}", n=found.announcement.recipients),
        t._("✅ Delivered: {n}", n=found.delivered),
        t._("⛔ Blocked the bot: {n}", n=found.blocked),
        t._("⏳ Waiting to be sent: {n}", n=found.pending),
        t._("❌ Not delivered: {n}", n=found.failed),
        t._("As of {time}.", time=t.time(context.clock.now())),
    ]
    await ui.show(update, context, "\n".join(lines), make_summary_keyboard(t, announcement_id))


async def opt_out_pressed(update: Update, context: BotContext, data: OptOutCb) -> None:
    """«🔕 No more announcements: <village>» under an announcement (and back on)."""
    t = context.t
    stop = not data.back
    try:
        village = await service.set_opt_out(
            context.db, context.member.id, data.village, stop=stop, now=context.clock.now()
        )
    except AnnouncementError as error:
        await _refuse(update, context, error)
        return
    name = village.name(t.language)
    query = update.callback_query
    if query is not None and isinstance(query.message, Message):
        markup = make_opt_out_keyboard(t, data.village, name, stopped=stop)
        try:
            await query.message.edit_reply_markup(markup)
        except BadRequest as error:
            if "not modified" not in error.message.lower():
                raise
    if stop:
        said = t._(
            "You will get no more announcements for {village}. You still follow its news.", village=name
        )
    else:
        said = t._("Announcements for {village} are back on.", village=name)
    await ui.notice(update, context, said, alert=stop)


ANNOUNCE = Flow(
    NAME,
    entry_points=[
        CommandHandler("announce", start),
        CallbackQueryHandler(start, pattern=lambda data: MenuCb.parse(data) == MenuCb(item="announce")),
    ],
    states={
        KAZAKH: [MessageHandler(filters.TEXT & ~filters.COMMAND, kazakh_typed)],
        RUSSIAN: [
            MessageHandler(filters.TEXT & ~filters.COMMAND, russian_typed),
            ui.on_button(SameTextCb, same_text),
        ],
        AREA: [
            ui.on_button(AreaCb, area_pressed),
            MessageHandler(filters.TEXT & ~filters.COMMAND, village_typed),
        ],
        AUDIENCE: [ui.on_button(AudienceCb, audience_pressed)],
        PREVIEW: [ui.on_button(SendCb, send_pressed)],
    },
    role="admin",
)
FLOWS = [ANNOUNCE]
HANDLERS: list[Handler] = [
    # «📢 Send» once the flow is over (the same press delivered again): the summary, nothing sent twice.
    ui.on_button(SendCb, send_pressed, when=lambda data: data.action == "send"),
    ui.on_button(SummaryCb, summary_pressed),
    ui.on_button(OptOutCb, opt_out_pressed),
]
