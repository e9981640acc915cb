"""Keyboards of the places feature, and the village choice other features use too."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

from bot import ui
from bot.callbacks import CallbackData
from bot.i18n import Translator
from bot.places import texts
from bot.places.callbacks import (
    KEEP_WINDOW,
    BrowseCb,
    FixCb,
    ImportCb,
    InstallBuildingCb,
    InstallKindCb,
    InstallSaveCb,
    InstallSkipCb,
    InstallTechnologyCb,
    SearchCb,
    StageCb,
    VillageCb,
)
from bot.places.search import Place
from bot.places.service import BrowsePage, LogLine, VillageCard
from db.places import OBJECT_KINDS, STAGES, TECHNOLOGIES, SocialObject


def make_village_choice_keyboard(
    t: Translator,
    places: Sequence[Place],
    choose: Callable[[str], CallbackData],
    search_again: CallbackData | None,
) -> InlineKeyboardMarkup:
    """A list of places to choose from, then «🔎 Search again» (when given) and «⬅️ Menu».

    ``choose(code)`` is the button data for a place; labels are «Name — district» (namesakes told
    apart by okrug), each at most 40 characters. Pair it with ``texts.village_choice_text`` (the
    same places, with okrug, district and region) or ``texts.nothing_found`` for an empty list.
    """
    rows = [
        [ui.button(label, choose(place.code))]
        for place, label in zip(places, texts.village_labels(t, places), strict=True)
    ]
    last = [ui.back_to_menu(t)]
    if search_again is not None:
        last.insert(0, ui.button(t._("🔎 Search again"), search_again))
    return ui.keyboard(*rows, last)


def follow_button(t: Translator, code: str) -> InlineKeyboardButton:
    """«🔔 Follow»: pressing it follows the village and shows its card."""
    return ui.button(t._("🔔 Follow: tell me about changes"), VillageCb(action="follow", code=code))


def make_search_prompt_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return ui.keyboard(
        [ui.button(t._("🗺 Choose from the list"), BrowseCb(level="regions"))],
        # On a row of its own: beside «Menu», a phone cuts «📍 Жанымдағы ауылдар».
        [ui.button(t._("📍 Near me"), SearchCb(action="near"))],
        [ui.back_to_menu(t)],
    )


def make_location_request(t: Translator) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [[KeyboardButton(t._("📍 Share my location"), request_location=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def make_nearest_keyboard(t: Translator, nearest: Sequence[tuple[Place, float]]) -> InlineKeyboardMarkup:
    rows = [
        [
            ui.button(
                ui.shorten(t._("{village} — {km} km", village=place.name(t.language), km=round(km))),
                VillageCb(action="show", code=place.code),
            )
        ]
        for place, km in nearest
    ]
    return ui.keyboard(
        *rows, [ui.button(t._("🔎 Search again"), SearchCb(action="again")), ui.back_to_menu(t)]
    )


def make_card_keyboard(t: Translator, card: VillageCard) -> InlineKeyboardMarkup:
    code = card.village.code
    follow = (
        ui.button(t._("🔕 Stop following"), VillageCb(action="unfollow", code=code))
        if card.following
        else follow_button(t, code)
    )
    rows: list[list[InlineKeyboardButton]] = [[follow]]
    if not card.mine:
        rows.append([ui.button(t._("🏡 This is my village"), VillageCb(action="mine", code=code))])
    if card.can_change_stage:
        rows.append([ui.button(t._("🛠 Change stage"), StageCb(code=code))])
    rows.append([ui.button(t._("🔎 Another village"), SearchCb(action="again")), ui.back_to_menu(t)])
    return ui.keyboard(*rows)


def make_browse_keyboard(t: Translator, page: BrowsePage) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    for entry in page.entries:
        target: CallbackData
        if not entry.is_area:
            target = VillageCb(action="show", code=entry.code)
        elif page.level == "regions":
            target = BrowseCb(level="districts", code=entry.code)
        elif page.level == "districts":
            target = BrowseCb(level="okrugs", code=entry.code)
        else:
            target = BrowseCb(level="places", code=entry.code)
        rows.append([ui.button(ui.shorten(entry.label), target)])
    pages = []
    if page.page > 0:
        pages.append(
            ui.button(t._("◀️ Previous"), BrowseCb(level=page.level, code=page.code, page=page.page - 1))
        )
    if page.page < page.pages - 1:
        pages.append(ui.button(t._("More ▶️"), BrowseCb(level=page.level, code=page.code, page=page.page + 1)))
    rows.append(pages)
    if page.small and page.page == page.pages - 1:
        rows.append(
            [
                ui.button(
                    t.n_(
                        "🏕 {n} small place: farms, wintering…",
                        "🏕 {n} small places: farms, wintering…",
                        page.small,
                    ),
                    BrowseCb(level="small", code=page.code),
                )
            ]
        )
    up = BrowseCb(level=page.up[0], code=page.up[1]) if page.up is not None else SearchCb(action="again")
    rows.append([ui.button(t._("⬅️ Back"), up), ui.back_to_menu(t)])
    return ui.keyboard(*rows)


def make_stage_keyboard(t: Translator, code: str) -> InlineKeyboardMarkup:
    rows = [[ui.button(t._(texts.STAGE_NAMES[stage]), StageCb(code=code, stage=stage))] for stage in STAGES]
    return ui.keyboard(*rows, [ui.button(t._("⬅️ Back to the card"), VillageCb(action="show", code=code))])


def make_year_keyboard(t: Translator, data: StageCb, this_year: int, current: str) -> InlineKeyboardMarkup:
    years = [
        ui.button(str(year), data.model_copy(update={"year": year}))
        for year in range(this_year, this_year + 4)
    ]
    keep = ui.button(
        ui.shorten(t._("Keep: {window}", window=current)),
        data.model_copy(update={"year": KEEP_WINDOW, "quarter": 0}),
    )
    return ui.keyboard(years, [keep], _back_to_card(t, data.code))


def make_quarter_keyboard(t: Translator, data: StageCb) -> InlineKeyboardMarkup:
    quarters = [
        ui.button(t._("Quarter {n}", n=quarter), data.model_copy(update={"quarter": quarter}))
        for quarter in (1, 2, 3, 4)
    ]
    whole = ui.button(t._("The whole year"), data.model_copy(update={"quarter": 0}))
    return ui.keyboard(quarters[:2], quarters[2:], [whole], _back_to_card(t, data.code))


def make_reason_keyboard(t: Translator, data: StageCb, reasons: Sequence[str]) -> InlineKeyboardMarkup:
    rows = [
        [ui.button(t._(texts.REASONS[reason]), data.model_copy(update={"reason": reason}))]
        for reason in reasons
    ]
    return ui.keyboard(*rows, _back_to_card(t, data.code))


def _back_to_card(t: Translator, code: str) -> list[InlineKeyboardButton]:
    return [ui.button(t._("⬅️ Back to the card"), VillageCb(action="show", code=code))]


# --- installations --------------------------------------------------------------------------------
def make_building_keyboard(t: Translator, buildings: Sequence[SocialObject]) -> InlineKeyboardMarkup:
    rows = [
        [
            ui.button(
                ui.shorten(f"{'✅' if building.connected else '⏳'} {texts.building_name(t, building)}"),
                InstallBuildingCb(building=building.id),
            )
        ]
        for building in buildings[:20]
    ]
    rows.append([ui.button(t._("➕ Another building"), InstallBuildingCb())])
    return ui.keyboard(*rows, [ui.cancel_button(t)])


def make_kind_keyboard(t: Translator) -> InlineKeyboardMarkup:
    rows = [
        [
            ui.button(
                f"{texts.OBJECT_KIND_ICONS[kind]} {t._(texts.OBJECT_KIND_NAMES[kind])}",
                InstallKindCb(kind=kind),
            )
        ]
        for kind in OBJECT_KINDS
    ]
    return ui.keyboard(*rows, [ui.cancel_button(t)])


def make_technology_keyboard(t: Translator) -> InlineKeyboardMarkup:
    rows = [
        [ui.button(t._(texts.TECHNOLOGY_NAMES[technology]), InstallTechnologyCb(technology=technology))]
        for technology in TECHNOLOGIES
    ]
    return ui.keyboard(*rows, [ui.cancel_button(t)])


def make_skip_keyboard(t: Translator, step: str) -> InlineKeyboardMarkup:
    skip = InstallSkipCb(step="photo" if step == "photo" else "location")
    return ui.keyboard([ui.button(t._("Skip ➡️"), skip)], [ui.cancel_button(t)])


def make_save_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return ui.keyboard([ui.button(t._("✅ Save"), InstallSaveCb())], [ui.cancel_button(t)])


def make_cancel_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return ui.keyboard([ui.cancel_button(t)])


def make_log_keyboard(t: Translator, lines: Sequence[LogLine]) -> InlineKeyboardMarkup:
    rows = [
        [
            ui.button(
                t._("✏️ Correct No. {number}", number=str(line.line.installation.id)),
                FixCb(installation=line.line.installation.id),
            )
        ]
        for line in lines
        if line.correctable
    ]
    return ui.keyboard(*rows[:10], [ui.back_to_menu(t)])


# --- imports --------------------------------------------------------------------------------------
def make_import_keyboard(t: Translator) -> InlineKeyboardMarkup:
    rows = [[ui.button(t._(label), ImportCb(kind=kind))] for kind, label in texts.IMPORT_KIND_NAMES.items()]
    return ui.keyboard(*rows, [ui.button(t._("✖️ Cancel"), ImportCb(kind="cancel"))])
