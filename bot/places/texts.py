"""The words of the places feature: label tables, error texts by code, and the card.

Other features word villages with these too: ``STAGE_NAMES``, ``TECHNOLOGY_NAMES``,
``OBJECT_KIND_NAMES`` and :func:`window_text` are the one place those words live.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from bot import ui
from bot.core import texts as core
from bot.i18n import N_, Safe, Translator
from db.places import OpenOutage, SocialObject, Village, VillageChange

if TYPE_CHECKING:
    from bot.places.importer import Problem
    from bot.places.search import Place
    from bot.places.service import VillageCard

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
# A building's kind as a sign before its name: «🏫 №1 орта мектеп», never «№1 орта мектеп (мектеп)».
OBJECT_KIND_ICONS: dict[str, str] = {
    "school": "🏫",
    "medical": "🏥",
    "akimat": "🏛",
    "library": "📚",
    "other": "🏢",
}
# Why a stage or planned date changed: a fixed list, so residents read a plain reason.
REASONS: dict[str, str] = {
    "plan_import": N_("the rollout plan was updated"),
    "plan_updated": N_("the rollout plan was updated"),
    "survey_done": N_("the survey is finished"),
    "construction_started": N_("construction has started"),
    "installed": N_("equipment was installed"),
    "delayed_weather": N_("delayed by weather"),
    "delayed_permits": N_("delayed by permits"),
    "technology_changed": N_("the connection technology changed"),
    "homes_ready": N_("the operator now connects homes"),
}
# What a resident's outage report is about, as the card words an open one.
OUTAGE_WHAT: dict[str, str] = {
    "home": N_("internet at home"),
    "school": N_("internet at the school"),
    "medical": N_("internet at the medical post"),
    "akimat": N_("internet at the akimat"),
    "village": N_("internet in the whole village"),
    "mobile": N_("internet on phones"),
}
INSTALL_ERRORS: dict[str, str] = {
    "speed_not_a_number": N_("Please type the measured speed as a number, e.g. 85 or 92.5."),
    "speed_out_of_range": N_("The speed must be between 0.1 and 10000 Mbit/s."),
    "unknown_village": N_("This village is not in the list."),
    "unknown_object": N_("This building is not in the village."),
    "unknown_technology": N_("Choose the technology with a button."),
    "unknown_installation": N_("This entry does not exist."),
    "not_the_author": N_("You can correct only your own entries."),
    "too_late": N_("Entries can be corrected within 24 hours only."),
    "name_length": N_("The name should be 2 to 100 characters. Type it again:"),
    "outside_area": core.OUTSIDE_AREA,
    "stale": core.STALE_BUTTON,
}
IMPORT_PROBLEMS: dict[str, str] = {
    "not_utf8": N_("the file is not in UTF-8: in Excel, choose «Save as» → «CSV UTF-8»"),
    "broken_csv": N_("the file cannot be read as CSV (look for an unclosed quote)"),
    "cell_too_large": N_("a cell is longer than {limit} characters"),
    "empty_file": N_("the file is empty"),
    "too_many_rows": N_("more than {limit} rows: split the file"),
    "missing_columns": N_("columns missing: {columns}"),
    "duplicate_column": N_("this column is given twice"),
    "formula": N_("this is a spreadsheet formula: type the value itself"),
    "invalid_choice": N_("not one of: {choices}"),
    "not_a_number": N_("not a number"),
    "not_yes_no": N_("write 1 or 0 (yes or no)"),
    "too_long": N_("longer than {limit} characters"),
    "required": N_("empty: a value is needed"),
    "invalid_value": N_("not a valid value"),
    "kato_digits": N_("a KATO code has 9 digits"),
    "out_of_range": N_("must be from {low} to {high}"),
    "hotline_format": N_("not a phone number"),
    "coordinates_pair": N_("give both latitude and longitude, or neither"),
    "coordinates_outside": N_("the coordinates are outside Kazakhstan"),
    "quarter_needs_year": N_("a quarter needs a planned year"),
    "no_name": N_("a building needs a name (name, name_kk or name_ru)"),
    "duplicate_row": N_("already given on line {earlier}"),
    "unknown_settlement": N_("no such settlement: import the classifier first"),
    "district_missing": N_("its district {district} is not in the file"),
    "outside_area": N_("outside your area"),
    "kato_everywhere": N_("only an administrator for the whole country can import the classifier"),
}
IMPORT_KIND_NAMES: dict[Literal["kato", "plan", "objects"], str] = {
    "kato": N_("🗺 Settlements (KATO classifier)"),
    "plan": N_("📅 Rollout plan"),
    "objects": N_("🏫 Social objects"),
}
BROWSE_TITLES: dict[str, str] = {
    "regions": N_("Choose the region:"),
    "districts": N_("Choose the district:"),
    "okrugs": N_("Choose the rural okrug:"),
    "places": N_("Choose the village:"),
    "small": N_("Wintering places, farms and other small places:"),
}
AT_LINE = N_("Line {line}: {problem}")
AT_CELL = N_("Line {line}, column «{column}»: {problem}")
AT_VALUE = N_("Line {line}, column «{column}», value «{value}»: {problem}")
NAME_LIMIT = 100  # a place or building name on a card or a label, whatever the data holds
CARD_BUILDINGS = 12  # buildings listed one by one on a card; the rest are counted


def window_text(t: Translator, year: int | None, quarter: int | None) -> str:
    """A planned window: «quarter 4 of 2026», «2027», or «not set yet»."""
    if year is None:
        return t._("not set yet")
    if quarter is None:
        return t._("{year}", year=str(year))
    return t._("quarter {quarter} of {year}", quarter=str(quarter), year=str(year))


def technology_name(t: Translator, technology: str | None) -> str:
    return t._(TECHNOLOGY_NAMES[technology]) if technology in TECHNOLOGY_NAMES else ""


def building_name(t: Translator, building: SocialObject) -> str:
    """«🏫 №1 орта мектеп» in the reader's language; the kind is a sign, never said twice."""
    return (
        f"{OBJECT_KIND_ICONS.get(building.kind, '🏢')} {ui.shorten(building.title(t.language), NAME_LIMIT)}"
    )


def picked(t: Translator, names: Mapping[str, str]) -> str:
    return ui.shorten(t.pick(names), NAME_LIMIT)


# --- choosing a village ---------------------------------------------------------------------------
def village_labels(t: Translator, places: Sequence[Place]) -> list[str]:
    """Button labels «Name — district», different for every place (namesakes by okrug), ≤ 40 characters."""
    language = t.language
    labels = [f"{p.name(language)} — {p.district(language)}" for p in places]
    for index, place in enumerate(places):
        if labels.count(labels[index]) > 1 and place.okrug(language):
            labels[index] = f"{place.name(language)} — {short_area(place.okrug(language))}"
    shortened = [ui.shorten(label) for label in labels]
    for index, place in enumerate(places):
        if shortened.count(shortened[index]) > 1:
            shortened[index] = ui.shorten(f"{place.name(language)} · {place.code[-3:]}")
    return shortened


def short_area(name: str) -> str:
    """«Кызылтауский сельский округ» → «Кызылтауский с.о.»: the short form fits a button."""
    return name.replace(" сельский округ", " с.о.").replace(" ауылдық округі", " а.о.")


def village_choice_text(t: Translator, places: Sequence[Place], question: str | None = None) -> str:
    """A list of found places, each with its okrug, district and region, under ``question``."""
    language = t.language
    lines = [question or t._("Which one is yours?"), ""]
    for number, place in enumerate(places, 1):
        where = [
            part for part in (place.okrug(language), place.district(language), place.region(language)) if part
        ]
        lines.append(
            t._(
                "{number}. {village} — {where}",
                number=str(number),
                village=ui.shorten(place.name(language), NAME_LIMIT),
                where=", ".join(where),
            )
        )
    return ui.fit(lines)


def nothing_found(t: Translator, typed: str, *, in_area: bool = False) -> str:
    query = ui.shorten(typed.strip(), 60)
    if in_area:
        return t._("No village in your area matches «{query}». Type it again:", query=query)
    return t._("I could not find «{query}». Check the spelling, or choose from the list.", query=query)


# --- the card -------------------------------------------------------------------------------------
def render_card(t: Translator, card: VillageCard, notice: str | None = None) -> str:
    """A village's status card, never longer than a Telegram message, whatever the data holds."""
    village = card.village
    lines = [notice, ""] if notice else []
    lines.append(f"🏡 <b>{escape(picked(t, {'kk': village.name_kk, 'ru': village.name_ru}))}</b>")
    where = [name for name in (t.pick(card.district_name), t.pick(card.region_name)) if name]
    if where:
        lines.append(escape(", ".join(where)))
    lines += ["", t._("Stage: {stage}", stage=t._(STAGE_NAMES[village.stage]))]
    if village.stage not in ("connected", "none"):
        lines.append(
            t._("Planned: {window}", window=window_text(t, village.planned_year, village.planned_quarter))
        )
    lines += _operator_lines(t, village)
    lines += _technology_lines(t, village)
    lines += _building_lines(t, card.objects)
    lines += ["", *summary_lines(t, village, card.objects)]
    for outage in card.outages[:3]:
        lines += ["", outage_line(t, outage, card.now)]
    change = change_lines(t, card.changes)
    if change:
        lines += ["", *change]
    lines += ["", next_step(t, village, following=card.following)]
    return ui.fit(lines)


def _operator_lines(t: Translator, village: Village) -> list[str]:
    operator = ui.shorten(village.operator or "", NAME_LIMIT)
    if operator and village.hotline:
        return [t._("Operator: {operator}, ☎️ {hotline}", operator=operator, hotline=village.hotline)]
    if operator:
        return [t._("Operator: {operator}", operator=operator)]
    if village.hotline:
        return [t._("Operator's hotline: ☎️ {hotline}", hotline=village.hotline)]
    return []


def _technology_lines(t: Translator, village: Village) -> list[str]:
    now, later = technology_name(t, village.technology), technology_name(t, village.planned_technology)
    if now and later and village.planned_technology != village.technology:
        return [t._("Now {now}, later {later}", now=now, later=later)]
    if now:
        return [t._("Technology: {technology}", technology=now)]
    if later:
        return [t._("Planned technology: {technology}", technology=later)]
    return []


def _building_lines(t: Translator, buildings: Sequence[SocialObject]) -> list[str]:
    if not buildings:
        return []
    lines = ["", t._("<b>Buildings</b>")]
    for building in buildings[:CARD_BUILDINGS]:
        name = building_name(t, building)
        if building.connected and building.speed_mbps:
            lines.append(
                t._("{building}: ✅ online, {speed} Mbit/s", building=name, speed=building.speed_mbps)
            )
        elif building.connected:
            lines.append(t._("{building}: ✅ online", building=name))
        else:
            lines.append(t._("{building}: ⏳ not yet", building=name))
    rest = buildings[CARD_BUILDINGS:]
    if rest:
        online = sum(1 for building in rest if building.connected)
        lines.append(
            t.n_(
                "…and {n} more building, {online} of them online.",
                "…and {n} more buildings, {online} of them online.",
                len(rest),
                online=online,
            )
        )
    return lines


def summary_lines(t: Translator, village: Village, buildings: Sequence[SocialObject]) -> list[str]:
    """Which buildings are online, and whether homes can connect: «school and akimat online; homes: …»."""
    kinds = list(dict.fromkeys(building.kind for building in buildings if building.connected))
    if kinds:
        online = t._(
            "📶 Online: {buildings}.", buildings=", ".join(t._(OBJECT_KIND_NAMES[kind]) for kind in kinds)
        )
    else:
        online = t._("📶 No building is online yet.")
    return [
        online,
        homes_line(
            t, village.stage, village.planned_year, village.planned_quarter, village.operator, village.hotline
        ),
    ]


def homes_line(
    t: Translator,
    stage: str,
    year: int | None,
    quarter: int | None,
    operator: str | None,
    hotline: str | None,
) -> str:
    """What homes should do: ask the operator (a connected village), or wait for the planned date."""
    if stage == "connected":
        if operator:
            text = t._(
                "🏠 Homes: ask {operator} to connect your house.", operator=ui.shorten(operator, NAME_LIMIT)
            )
        else:
            text = t._("🏠 Homes: ask your local operator to connect your house.")
        return text + (" " + t._("☎️ {hotline}", hotline=hotline) if hotline else "")
    if stage == "none":
        return t._("🏠 Homes: the village is not in the programme yet.")
    if year is not None:
        return t._("🏠 Homes: not yet; planned for {window}.", window=window_text(t, year, quarter))
    return t._("🏠 Homes: not yet.")


def outage_line(t: Translator, outage: OpenOutage, now: datetime) -> str:
    """«⚠️ 3 neighbours reported home internet down at 10:40; an engineer is on it.»"""
    when = (
        t.time(outage.since)
        if t.date(outage.since) == t.date(now)
        else t.datetime(outage.since, "d MMMM, HH:mm")
    )
    state = (
        t._("an engineer is on it")
        if outage.state in ("taken", "in_progress")
        else t._("engineers have been told")
    )
    return t.n_(
        "⚠️ {n} neighbour reported {what} down at {time}; {state}.",
        "⚠️ {n} neighbours reported {what} down at {time}; {state}.",
        max(outage.reports, 1),
        what=t._(OUTAGE_WHAT.get(outage.kind, OUTAGE_WHAT["home"])),
        time=when,
        state=Safe(state),
    )


def change_lines(t: Translator, changes: Sequence[VillageChange]) -> list[str]:
    """The last change: what changed, then why («Reason: construction has started.»)."""
    if not changes:
        return []
    newest = changes[0]
    together = [c for c in changes if c.at == newest.at and c.reason == newest.reason]
    what = [part for part in (_changed(t, change) for change in reversed(together)) if part]
    if not what:
        return []
    lines = [t._("Last change, {date}: {what}.", date=t.date(newest.at), what=Safe("; ".join(what)))]
    if newest.reason in REASONS:
        lines.append(t._("Reason: {reason}.", reason=t._(REASONS[newest.reason])))
    return lines


def _changed(t: Translator, change: VillageChange) -> str | None:
    if change.field == "stage" and change.new in STAGE_NAMES:
        return t._("stage «{stage}»", stage=t._(STAGE_NAMES[change.new]))
    if change.field == "window":
        year, _, quarter = (change.new or "").partition("-Q")
        if not year.isdigit():
            return t._("no planned date")
        return t._(
            "planned date {window}", window=window_text(t, int(year), int(quarter) if quarter else None)
        )
    if change.field == "technology" and change.new in TECHNOLOGY_NAMES:
        return t._("technology «{technology}»", technology=t._(TECHNOLOGY_NAMES[change.new]))
    if change.field == "planned_technology" and change.new in TECHNOLOGY_NAMES:
        return t._("planned technology «{technology}»", technology=t._(TECHNOLOGY_NAMES[change.new]))
    if change.field == "operator" and change.new:
        return t._("operator {operator}", operator=ui.shorten(change.new, NAME_LIMIT))
    return None


def next_step(t: Translator, village: Village, *, following: bool) -> str:
    """What to do now; it changes once the person follows the village."""
    if following:
        if village.stage == "connected":
            return t._("🔔 You follow this village: I will tell you about its buildings and outages.")
        return t._("🔔 You follow this village: I will tell you when homes can connect.")
    if village.stage == "none":
        return t._(
            "Your village is not in the programme yet. Tell your akimat that people need internet;"
            " follow the village to hear if that changes."
        )
    return t._("Follow the village and I will tell you when this changes.")


# --- import problems ------------------------------------------------------------------------------
def describe_problem(t: Translator | None, problem: Problem) -> str:
    """«Line 3, column «stage», value «someday»: not one of: none, planned, …» — in ``t``'s language.

    Without a translator, in the catalogs' source language (for the command line).
    """
    template = IMPORT_PROBLEMS.get(problem.code, IMPORT_PROBLEMS["invalid_value"])
    params = {key: str(value) for key, value in problem.params.items()}
    value = ui.shorten(problem.value, 40) if problem.value is not None else None

    def say(message: str, **values: object) -> str:
        if t is None:
            return message.format(**values)
        return t._(message, **values)

    what = say(template, **params)
    what = what if t is None else Safe(what)
    if problem.line is None:
        return str(what)
    if problem.column is None:
        return say(AT_LINE, line=str(problem.line), problem=what)
    if not value:
        return say(AT_CELL, line=str(problem.line), column=problem.column, problem=what)
    return say(
        AT_VALUE,
        line=str(problem.line),
        column=problem.column,
        value=value,
        problem=what,
    )


def error_text(t: Translator, code: str) -> str:
    """A refusal in the person's language, saying the real reason."""
    if code in ("not_staff", "not_admin"):
        role = t._(core.ROLE_NAMES["staff" if code == "not_staff" else "admin"])
        return t._(core.ONLY_FOR_ROLE, role=role)
    return t._(INSTALL_ERRORS.get(code, core.SOMETHING_WENT_WRONG))


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
