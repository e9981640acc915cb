"""The buttons of outages, made by ``make_*_keyboard`` functions.

In a staff group a button speaks the group's languages («🙋 Қолға алу · Взять»); in a private chat
the reader's own.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import ui
from bot.config import Language
from bot.core.callbacks import MenuCb
from bot.i18n import Translator, translator
from bot.outages import texts
from bot.outages.callbacks import (
    AnswerCb,
    AskCb,
    FixedCb,
    FollowCb,
    GroupLanguageCb,
    ListCb,
    ReportCb,
    ReportKindCb,
    ReportSinceCb,
    ReportVillageCb,
    StaffCb,
    TicketCb,
)
from bot.outages.service import Askable, OpenLine, TicketView
from bot.places import keyboards as places_keyboards
from bot.places.search import Place
from db.outages import RESOLUTIONS, SINCE, Kind, Ticket

LIST_PAGE = 8
# Two buttons share a row on a phone only when both labels are this short; longer ones get a row each.
SIDE_BY_SIDE = 15


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _rows(*buttons: InlineKeyboardButton) -> list[list[InlineKeyboardButton]]:
    """Buttons side by side when all fit half a phone's width, else one to a row."""
    if all(len(button.text) <= SIDE_BY_SIDE for button in buttons):
        return [list(buttons)]
    return [[button] for button in buttons]


def label(
    t: Translator, languages: Sequence[Language] | None, text: str, emoji: str = "", *, capital: bool = False
) -> str:
    """A button label in the reader's language, or in each of a group's languages, Kazakh first."""
    readers = [translator(language) for language in languages] if languages else [t]
    words = " · ".join(_capital(reader._(text)) if capital else reader._(text) for reader in readers)
    return ui.shorten(f"{emoji} {words}" if emoji else words)


# --- residents ----------------------------------------------------------------------------------------
def make_village_choice_keyboard(t: Translator, found: Sequence[Place]) -> InlineKeyboardMarkup:
    """Villages found for a typed name, with search again and the menu (the places' list)."""
    return places_keyboards.make_village_choice_keyboard(
        t, found, lambda code: ReportVillageCb(code=code), ReportCb(action="other")
    )


def make_kind_keyboard(t: Translator, kinds: Sequence[Kind]) -> InlineKeyboardMarkup:
    rows = [[ui.button(_capital(t._(texts.KIND_NAMES[kind])), ReportKindCb(kind=kind))] for kind in kinds]
    return ui.keyboard(
        *rows, [ui.button(t._("🔎 Another village"), ReportCb(action="other")), ui.cancel_button(t)]
    )


def make_not_connected_keyboard(t: Translator, code: str, following: bool) -> InlineKeyboardMarkup:
    follow = [] if following else [ui.button(t._("🔔 Follow the village"), FollowCb(code=code))]
    return ui.keyboard(
        follow, [ui.button(t._("🔎 Another village"), ReportCb(action="other")), ui.back_to_menu(t)]
    )


def make_since_keyboard(t: Translator) -> InlineKeyboardMarkup:
    rows = [
        [ui.button(_capital(t._(texts.SINCE_NAMES[since])), ReportSinceCb(since=since))] for since in SINCE
    ]
    return ui.keyboard(*rows, [ui.cancel_button(t)])


def make_details_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return ui.keyboard([ui.button(t._("📨 Send now"), ReportCb(action="send"))], [ui.cancel_button(t)])


def make_filed_keyboard(t: Translator, report_id: int) -> InlineKeyboardMarkup:
    return ui.keyboard(
        [ui.button(t._("📱 Let the engineer call me"), TicketCb(report=report_id, action="phone"))],
        *_rows(ui.button(t._("📋 My reports"), MenuCb(item="myreports")), ui.back_to_menu(t)),
    )


def make_after_ticket_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return ui.keyboard(*_rows(ui.button(t._("📋 My reports"), MenuCb(item="myreports")), ui.back_to_menu(t)))


def make_tickets_keyboard(t: Translator, tickets: Sequence[Ticket]) -> InlineKeyboardMarkup:
    rows = [
        [
            ui.button(
                ui.shorten(
                    t._(
                        "{number} · {village}",
                        number=ticket.report.number,
                        village=ticket.village_kk if t.language == "kk" else ticket.village_ru,
                    )
                ),
                TicketCb(report=ticket.report.id),
            )
        ]
        for ticket in tickets
    ]
    return ui.keyboard(*rows, [ui.back_to_menu(t)])


def make_ticket_keyboard(t: Translator, view: TicketView) -> InlineKeyboardMarkup:
    report = view.report.id
    rows: list[list[InlineKeyboardButton]] = []
    if view.open:
        rows += _rows(
            ui.button(t._("➕ Add information"), TicketCb(report=report, action="add")),
            ui.button(t._("✖️ Withdraw"), TicketCb(report=report, action="withdraw")),
        )
        if view.report.phone:
            rows.append(
                [ui.button(t._("🚫 Hide my phone number"), TicketCb(report=report, action="hide_phone"))]
            )
        else:
            rows.append(
                [ui.button(t._("📱 Let the engineer call me"), TicketCb(report=report, action="phone"))]
            )
    rows += _rows(ui.button(t._("📋 My reports"), MenuCb(item="myreports")), ui.back_to_menu(t))
    return ui.keyboard(*rows)


def make_withdraw_keyboard(t: Translator, report_id: int) -> InlineKeyboardMarkup:
    return ui.keyboard(
        [ui.button(t._("✖️ Yes, withdraw it"), TicketCb(report=report_id, action="withdraw_confirmed"))],
        [ui.button(t._("⬅️ No, keep it"), TicketCb(report=report_id))],
    )


def make_adding_keyboard(t: Translator, report_id: int) -> InlineKeyboardMarkup:
    return ui.keyboard([ui.button(t._("✅ Done"), TicketCb(report=report_id))])


def make_fixed_keyboard(t: Translator, incident_id: int) -> InlineKeyboardMarkup:
    return ui.keyboard(
        *_rows(
            ui.button(t._("👍 Yes, it works"), FixedCb(incident=incident_id, working=True)),
            ui.button(t._("👎 No, still down"), FixedCb(incident=incident_id, working=False)),
        )
    )


def make_question_keyboard(t: Translator, question_id: int) -> InlineKeyboardMarkup:
    return ui.keyboard([ui.button(t._("✍️ Answer"), AnswerCb(question=question_id))])


def make_answered_keyboard(t: Translator, incident_id: int) -> InlineKeyboardMarkup:
    """Under a resident's answer: the outage it belongs to, to act on it."""
    return ui.keyboard([ui.button(t._("⚠️ Open the outage"), ListCb(show=incident_id))])


# --- staff --------------------------------------------------------------------------------------------
def make_staff_keyboard(
    t: Translator,
    incident_id: int,
    state: str,
    *,
    languages: Sequence[Language] | None = None,
    view: bool = False,
) -> InlineKeyboardMarkup | None:
    """The actions the incident's state allows; in a private chat also «Ask the reporter», and in a
    detail the way back to the list."""
    actions: list[InlineKeyboardButton] = []
    if state == "open":
        actions.append(
            ui.button(label(t, languages, texts.TAKE, "🙋"), StaffCb(incident=incident_id, action="take"))
        )
    if state in ("open", "taken"):
        actions.append(
            ui.button(
                label(t, languages, texts.IN_PROGRESS, "🔧"), StaffCb(incident=incident_id, action="progress")
            )
        )
    if state != "resolved":
        actions.append(
            ui.button(
                label(t, languages, texts.RESOLVED, "✅"), StaffCb(incident=incident_id, action="resolve")
            )
        )
    rows = [[button] for button in actions]  # one to a row: three side by side are cut on a phone
    if languages is None and state != "resolved":
        rows.append([ui.button(t._("📞 Ask the reporter"), StaffCb(incident=incident_id, action="ask"))])
    if view:
        rows.append([ui.button(t._("📋 Open outages"), ListCb(fresh=True))])
    markup = ui.keyboard(*rows)
    return markup if markup.inline_keyboard else None


def make_reasons_keyboard(
    t: Translator, incident_id: int, languages: Sequence[Language] | None = None
) -> InlineKeyboardMarkup:
    rows = [
        [
            ui.button(
                label(t, languages, texts.RESOLUTION_NAMES[reason], capital=True),
                StaffCb(incident=incident_id, action="resolve", reason=reason),
            )
        ]
        for reason in RESOLUTIONS
    ]
    return ui.keyboard(
        *rows, [ui.button(label(t, languages, texts.BACK, "⬅️"), StaffCb(incident=incident_id, action="back"))]
    )


def make_list_keyboard(
    t: Translator, lines: Sequence[OpenLine], *, mine: bool, page: int, area: str | None
) -> InlineKeyboardMarkup:
    shown = lines[page * LIST_PAGE : (page + 1) * LIST_PAGE]
    rows = [
        [
            ui.button(
                ui.shorten(
                    f"#{line.incident.id} {t.pick(line.village)} · {t._(texts.KIND_NAMES[line.incident.kind])}"
                ),
                ListCb(mine=mine, show=line.incident.id, page=page, area=area),
            )
        ]
        for line in shown
    ]
    pages: list[InlineKeyboardButton] = []
    if page > 0:
        pages.append(ui.button(t._("◀️ Back"), ListCb(mine=mine, page=page - 1, area=area)))
    if (page + 1) * LIST_PAGE < len(lines):
        pages.append(ui.button(t._("Next ▶️"), ListCb(mine=mine, page=page + 1, area=area)))
    return ui.keyboard(
        *rows,
        pages,
        [
            ui.button(t._("All"), ListCb(mine=False, area=area)),
            ui.button(t._("Mine"), ListCb(mine=True, area=area)),
        ],
        [ui.back_to_menu(t)],
    )


def make_ask_keyboard(t: Translator, askable: Sequence[Askable]) -> InlineKeyboardMarkup:
    rows = [
        [
            ui.button(
                ui.shorten(
                    f"{item.report.number} · «{item.first_words}»" if item.first_words else item.report.number
                ),
                AskCb(report=item.report.id),
            )
        ]
        for item in askable[:20]
    ]
    return ui.keyboard(*rows, [ui.cancel_button(t)])


def make_group_language_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return ui.keyboard(
        [
            ui.button("Қазақша", GroupLanguageCb(language="kk")),
            ui.button("Русский", GroupLanguageCb(language="ru")),
        ],
        [ui.button(label(t, ("kk", "ru"), texts.BOTH_LANGUAGES), GroupLanguageCb(language="both"))],
    )
