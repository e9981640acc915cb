"""The progress chart: four panels drawn with matplotlib into a PNG.

:func:`render_png` is a plain function of plain data (:class:`Chart`: the words in the reader's
language and the figures), so it runs in a worker process (``bot.stats.offload``) while the bot
keeps answering. The figures the bars are drawn from are also written into the PNG itself, as a
``auylnet-figures`` text chunk of JSON: whoever holds the picture can check what it shows.

The font is DejaVu Sans, shipped inside matplotlib: it has every Kazakh letter
(ә ғ қ ң ө ұ ү һ і), so the chart looks the same on any server, whatever fonts it has.
"""

from __future__ import annotations

import io
import json
import textwrap
from dataclasses import dataclass, field
from typing import Any

FIGURES_KEY = "auylnet-figures"
FONT = "DejaVu Sans"
STAGE_COLOURS = {
    "connected": "#31a354",
    "construction": "#3182bd",
    "design": "#6baed6",
    "planned": "#9ecae1",
    "none": "#c9c9c9",
}
ONLINE, TOTAL = "#31a354", "#d9d9d9"
BAR, LIGHT_BAR = "#3182bd", "#9ecae1"


@dataclass(frozen=True)
class Chart:
    """What one chart shows: the words (already translated) and the figures."""

    title: str
    stages_title: str
    stage_labels: tuple[str, ...]  # in the order of figures["stages"]
    objects_title: str
    object_labels: tuple[str, ...]  # in the order of figures["objects"]
    online_label: str
    total_label: str
    outages_title: str
    duration_labels: tuple[str, str]  # time to take, time to resolve
    month_labels: tuple[str, str]  # last month, this month
    hours_label: str
    classes_title: str
    class_labels: tuple[str, str, str]  # held, trained, of them 60+
    figures: dict[str, Any] = field(default_factory=dict)


def render_png(chart: Chart) -> bytes:
    """Draw the chart; returns PNG bytes. Meant for the worker process (it sets the font there)."""
    import matplotlib

    with matplotlib.rc_context({"font.family": FONT, "font.size": 9}):
        return _draw(chart)


def _draw(chart: Chart) -> bytes:
    # The object-oriented API with the Agg canvas: no pyplot, no global figure state, no GUI.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figures = chart.figures
    figure = Figure(figsize=(10, 7.2), dpi=100)
    FigureCanvasAgg(figure)
    figure.suptitle(chart.title, fontsize=15, fontweight="bold")
    grid = figure.subplots(2, 2)
    (stages, objects), (outages, classes) = grid

    stage_values = list(figures["stages"].values())
    positions = list(range(len(stage_values)))
    stages.barh(positions, stage_values, color=[STAGE_COLOURS[stage] for stage in figures["stages"]])
    stages.set_yticks(positions, [_wrapped(label) for label in chart.stage_labels])
    stages.invert_yaxis()
    _label_bars(stages, stage_values, horizontal=True)
    _titled(stages, chart.stages_title)

    kinds = list(figures["objects"].values())
    positions = list(range(len(kinds)))
    objects.barh(positions, [total for _, total in kinds], color=TOTAL, label=chart.total_label)
    objects.barh(positions, [online for online, _ in kinds], color=ONLINE, label=chart.online_label)
    objects.set_yticks(positions, [_wrapped(label) for label in chart.object_labels])
    objects.invert_yaxis()
    for position, (online, total) in enumerate(kinds):
        objects.annotate(
            f"{_grouped(online)}/{_grouped(total)}",
            (total, position),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    objects.set_xlim(0, max([total for _, total in kinds] + [1]) * 1.45)
    objects.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2, fontsize=8, frameon=False)
    _titled(objects, chart.objects_title)

    medians = figures["median_hours"]
    width = 0.38
    highest = max([value or 0 for kind in medians.values() for value in kind.values()] + [1])
    for offset, (month, colour) in enumerate(zip(("last", "this"), (LIGHT_BAR, BAR), strict=True)):
        values = [medians["take"][month], medians["resolve"][month]]
        spots = [index + (offset - 0.5) * width for index in range(2)]
        bars = outages.bar(
            spots, [value or 0 for value in values], width, color=colour, label=chart.month_labels[offset]
        )
        for bar, value in zip(bars, values, strict=True):
            text = "—" if value is None else f"{value:.1f}".replace(".", ",")
            outages.annotate(
                text,
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                fontsize=8,
            )
    outages.set_ylim(0, highest * 1.2)
    outages.set_xticks(range(2), [_wrapped(label) for label in chart.duration_labels])
    outages.set_ylabel(chart.hours_label)
    outages.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2, fontsize=8, frameon=False)
    _titled(outages, chart.outages_title)

    numbers = [figures["classes"][key] for key in ("held", "trained", "seniors")]
    positions = list(range(3))
    classes.bar(positions, numbers, color=[LIGHT_BAR, BAR, ONLINE])
    classes.set_xticks(positions, [_wrapped(label) for label in chart.class_labels])
    _label_bars(classes, numbers, horizontal=False)
    _titled(classes, chart.classes_title)

    for axes in (stages, objects, outages, classes):
        axes.spines[["top", "right"]].set_visible(False)
    # Fixed margins (room for the longest stage and building names) instead of tight_layout, which
    # measures every label again and costs a third of the drawing time.
    figure.subplots_adjust(left=0.15, right=0.97, top=0.85, bottom=0.09, wspace=0.42, hspace=0.6)
    buffer = io.BytesIO()
    figure.savefig(
        buffer,
        format="png",
        metadata={FIGURES_KEY: json.dumps(figures, ensure_ascii=True, sort_keys=True)},
    )
    return buffer.getvalue()


def _titled(axes: Any, title: str) -> None:
    axes.set_title(title, fontsize=11, loc="left", pad=24)  # room for a legend between title and plot


def _wrapped(label: str) -> str:
    """A long label on two lines, so it fits beside or under its bar."""
    return textwrap.fill(label, 16, break_long_words=False)


def _grouped(value: int) -> str:
    """12986 → «12 986», grouped as Kazakh and Russian both write numbers."""
    return f"{value:,}".replace(",", "\u00a0")


def _label_bars(axes: Any, values: list[int], *, horizontal: bool) -> None:
    for position, value in enumerate(values):
        if horizontal:
            axes.annotate(
                _grouped(value), (value, position), xytext=(3, 0), textcoords="offset points", va="center"
            )
        else:
            axes.annotate(
                _grouped(value), (position, value), xytext=(0, 2), textcoords="offset points", ha="center"
            )
    if horizontal:
        axes.set_xlim(0, max([*values, 1]) * 1.15)
    else:
        axes.set_ylim(0, max([*values, 1]) * 1.15)


def warm_up() -> None:
    """Import matplotlib and build its font cache once, so the first real chart is not the slow one."""
    from matplotlib import font_manager

    font_manager.findfont(FONT)
