"""/privacy and Settings → My data: what AuylNet keeps, and deleting it."""

from __future__ import annotations

from telegram import BotCommandScopeChat, Update
from telegram.ext import CommandHandler

from bot import ui
from bot.context import BotContext
from bot.core.callbacks import EraseCb, MenuCb
from bot.core.keyboards import make_erase_keyboard, make_privacy_keyboard
from bot.core.texts import LANGUAGE_NAMES, ROLE_NAMES
from bot.flows import Flow, Handler
from bot.i18n import Translator
from bot.privacy import Profile, forget_me, what_we_keep


def privacy_notice(t: Translator) -> list[str]:
    return [
        t._("<b>Your data in AuylNet</b>"),
        t._(
            "We keep your Telegram name and id, your language, your village and the villages you follow,"
            " and what you send us: outage reports, class bookings."
        ),
        t._(
            "Why: to answer you and to tell you about your village. Engineers see outage reports;"
            " trainers see class bookings. Nobody else gets your data."
        ),
        t._("The data is stored in Kazakhstan. You can see and delete it here at any time."),
    ]


def kept_now(t: Translator, kept: Profile) -> list[str]:
    """Every profile field kept about the person, as it is stored now."""
    village = t.pick({"kk": kept.village_kk or "", "ru": kept.village_ru or ""}) or "—"
    username = "@" + kept.username if kept.username else "—"
    lines = [
        t._("<b>What we keep about you now</b>"),
        t._("Name: {name}", name=kept.full_name),
        t._("Username: {username}", username=username),
        t._("Language: {name}", name=LANGUAGE_NAMES.get(kept.language, "—")),  # type: ignore[call-overload]
        t._("My village: {village}", village=village),
        t.n_("You follow {n} village.", "You follow {n} villages.", kept.following),
        t._("Outage reports: {n}", n=kept.reports),
        t._(
            "Class bookings: {n}, of them for relatives: {relatives}",
            n=kept.bookings,
            relatives=kept.relatives,
        ),
        t._("With AuylNet since: {date}", date=t.date(kept.first_seen)),
    ]
    if kept.roles:
        lines.append(t._("Roles: {roles}", roles=", ".join(t._(ROLE_NAMES[role]) for role in kept.roles)))
    return lines


def kept_after_deletion(t: Translator) -> list[str]:
    return [
        t._("<b>What stays after deletion</b>"),
        t._(
            "Your Telegram id, and the numbers and dates of your outage reports and class bookings,"
            " without your name, your relatives' names or what you wrote: engineers and trainers count them."
            " Also a note that you asked to delete your data, and when."
        ),
    ]


async def privacy(update: Update, context: BotContext) -> None:
    """/privacy and «🔒 My data»: the notice, what is kept now, what deleting leaves, and the button."""
    t = context.t
    kept = await what_we_keep(context.db, context.member.id)
    lines = [*privacy_notice(t), ""]
    if kept is not None and kept.erased_at is not None:
        lines.append(
            t._("You deleted your data on {date}. Nothing else is kept.", date=t.date(kept.erased_at))
        )
    elif kept is not None:
        lines += [*kept_now(t, kept), "", *kept_after_deletion(t)]
    anything_kept = kept is not None and kept.erased_at is None
    await ui.show(update, context, "\n".join(lines), make_privacy_keyboard(t, anything_kept=anything_kept))


async def privacy_button(update: Update, context: BotContext, data: MenuCb) -> None:
    await privacy(update, context)


async def erase(update: Update, context: BotContext, data: EraseCb) -> None:
    """«🗑 Delete my data»: asks once; «Yes» forgets the person in one transaction."""
    t = context.t
    if not data.confirmed:
        await ui.show(
            update,
            context,
            t._(
                "Delete your name, username, language, village, the villages you follow and your drafts?"
                " Your outage reports and class bookings stay without your name or your relatives' names;"
                " notifications not yet sent to you are dropped."
            ),
            make_erase_keyboard(t),
        )
        return
    if context.member.account.erased:
        await ui.refuse(update, context, t._("Your data is already deleted."))
        return
    await forget_me(context.db, context.member.id, context.clock.now())
    await ui.show(
        update, context, t._("Done: your data is deleted. Send /start if you want to use AuylNet again.")
    )
    chat = update.effective_chat
    if chat is not None and chat.type == "private":
        # The command menu of any roles the person had goes with them.
        await context.bot.delete_my_commands(scope=BotCommandScopeChat(chat.id))


FLOWS: list[Flow] = []
HANDLERS: list[Handler] = [
    CommandHandler("privacy", privacy),
    ui.on_button(MenuCb, privacy_button, when=lambda data: data.item == "privacy"),
    ui.on_button(EraseCb, erase),
]
