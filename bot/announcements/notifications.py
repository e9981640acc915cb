"""The announcement as each recipient sees it, in their language, with the way to stop them."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from telegram import InlineKeyboardMarkup

from bot import ui
from bot.announcements.callbacks import OptOutCb
from bot.i18n import Translator
from bot.notify import Rendered, renderer


def announcement_text(t: Translator, params: Mapping[str, Any]) -> str:
    heading = t._("📢 <b>Announcement: {area}</b>", area=t.pick(params["area"]))
    return heading + "\n\n" + html.escape(t.pick(params["text"]), quote=False)


def make_opt_out_keyboard(t: Translator, village: str, name: str, *, stopped: bool) -> InlineKeyboardMarkup:
    if stopped:
        label = t._("🔔 Announcements back on: {village}", village=name)
    else:
        label = t._("🔕 No more announcements: {village}", village=name)
    return ui.keyboard([ui.button(ui.shorten(label), OptOutCb(village=village, back=stopped))])


@renderer("announcement")
def announcement(t: Translator, params: Mapping[str, Any]) -> Rendered:
    markup = None
    if params.get("village"):
        markup = make_opt_out_keyboard(t, params["village"], t.pick(params["village_name"]), stopped=False)
    return Rendered(announcement_text(t, params), markup)
