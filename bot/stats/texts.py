"""Words of the progress view: the caption, the chart's labels, refusals."""

from __future__ import annotations

from babel.dates import format_date

from bot.i18n import N_, Translator
from bot.stats.chart import Chart
from bot.stats.service import Medians, Progress

STAGE_NAMES: dict[str, str] = {
    "connected": N_("Connected"),
    "construction": N_("Construction"),
    "design": N_("Design and survey"),
    "planned": N_("Planned"),
    "none": N_("Not in the programme"),
}
OBJECT_NAMES: dict[str, str] = {
    "school": N_("schools"),
    "medical": N_("medical posts"),
    "akimat": N_("akimats"),
    "library": N_("libraries"),
    "other": N_("other buildings"),
}
ERRORS: dict[str, str] = {
    "not_reader": N_("Progress is for field staff and administrators."),
    "outside_area": N_("This area is outside your area."),
    "unknown_area": N_("This area is not in the village list."),
}
TITLE = N_("📊 <b>{area}</b>, {date}")


def error_text(t: Translator, code: str) -> str:
    return t._(ERRORS.get(code, ERRORS["unknown_area"]))


def month_name(t: Translator, first_day: object) -> str:
    """The month's name as it stands alone («қараша», «ноябрь»)."""
    return format_date(first_day, "LLLL", locale=t.language)  # type: ignore[arg-type]


def duration(t: Translator, seconds: float | None) -> str:
    """A median as minutes or hours; a month with nothing to measure says so in words."""
    if seconds is None:
        return t._("no data")
    minutes = round(seconds / 60)
    if minutes < 60:
        return t._("{minutes} min", minutes=minutes)
    if minutes % 60 == 0:
        return t._("{hours} h", hours=minutes // 60)
    return t._("{hours} h {minutes} min", hours=minutes // 60, minutes=minutes % 60)


def percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def _medians(t: Translator, progress: Progress, medians: Medians) -> dict[str, str]:
    return {
        "last_month": month_name(t, progress.last_month),
        "last": duration(t, medians.last_month),
        "this_month": month_name(t, progress.this_month),
        "this": duration(t, medians.this_month),
    }


def progress_text(t: Translator, progress: Progress) -> str:
    """The caption: a few short lines, well under Telegram's 1,024 characters for a caption."""
    stages = progress.stages.by_stage
    classes = progress.classes
    objects = ", ".join(
        t._("{kind} {online}/{total}", kind=t._(OBJECT_NAMES[row.kind]), online=row.online, total=row.total)
        for row in progress.objects
        if row.total
    )
    lines = [
        t._(TITLE, area=progress.place.name(t.language), date=t.date(progress.as_of)),
        t._(
            "🏘 Villages: {total}. Connected {connected}, construction {construction}, design {design},"
            " planned {planned}, not in the programme {none}.",
            total=progress.villages,
            **{stage: stages[stage] for stage in stages},
        ),
        t._(
            "🗓 Due by the plan so far: {due}, connected {connected} ({share}%).",
            due=progress.stages.due,
            connected=progress.stages.due_connected,
            share=percent(progress.stages.due_connected, progress.stages.due),
        ),
        t._("🏫 Buildings online: {list}.", list=objects) if objects else t._("🏫 No buildings listed yet."),
        t._(
            "⚠️ Outages open: {open}, overdue: {overdue}.",
            open=progress.outages.open,
            overdue=progress.outages.overdue,
        ),
        t._(
            "⏱ Median time to take: {last_month} {last}, {this_month} {this}.",
            **_medians(t, progress, progress.take),
        ),
        t._(
            "🛠 Median time to resolve: {last_month} {last}, {this_month} {this}.",
            **_medians(t, progress, progress.resolve),
        ),
        t._(
            "🎓 Classes held: {held}. Trained: {trained}, aged 60+: {seniors} ({share}%)."
            " Attendance: {rate}%.",
            held=classes.held,
            trained=classes.trained,
            seniors=classes.seniors,
            share=percent(classes.seniors, classes.trained),
            rate=percent(classes.trained, classes.registered),
        ),
    ]
    if progress.children:
        lines.append(t._("Tap a part of the area to see it."))
    return "\n".join(lines)


def chart_for(t: Translator, progress: Progress) -> Chart:
    """The chart's words in the reader's language, with the figures it draws."""
    figures = progress.figures()
    classes = progress.classes
    return Chart(
        title=t._("{area}, {date}", area=progress.place.name(t.language), date=t.date(progress.as_of)),
        stages_title=t._("Villages by stage ({total})", total=progress.villages),
        stage_labels=tuple(t._(STAGE_NAMES[stage]) for stage in figures["stages"]),
        objects_title=t._("Buildings online"),
        object_labels=tuple(t._(OBJECT_NAMES[kind]).capitalize() for kind in figures["objects"]),
        online_label=t._("online"),
        total_label=t._("all"),
        outages_title=t._(
            "Outages: {open} open, {overdue} overdue",
            open=progress.outages.open,
            overdue=progress.outages.overdue,
        ),
        duration_labels=(t._("to take"), t._("to resolve")),
        month_labels=(month_name(t, progress.last_month), month_name(t, progress.this_month)),
        hours_label=t._("median, hours"),
        classes_title=t._("Classes: attendance {rate}%", rate=percent(classes.trained, classes.registered)),
        class_labels=(t._("held"), t._("trained"), t._("aged 60+")),
        figures=figures,
    )
