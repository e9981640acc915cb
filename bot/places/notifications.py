"""How village news is worded for followers, in their own language at send time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.i18n import N_, Translator
from bot.notify import Rendered, renderer
from bot.places.service import REASONS

STAGE_NEWS: dict[str, str] = {
    "none": N_("{village}: the village is not in the connection plan for now."),
    "planned": N_("{village} is now in the connection plan."),
    "design": N_("{village}: engineers are designing the line."),
    "construction": N_("{village}: construction of the line has started."),
    "connected": N_("🎉 {village} is connected to the internet!"),
}
KIND_NAMES: dict[str, str] = {
    "school": N_("school"),
    "medical": N_("medical post"),
    "akimat": N_("akimat"),
    "library": N_("library"),
    "other": N_("other building"),
}


def _reason(t: Translator, params: Mapping[str, Any]) -> str:
    return t._("Reason: {reason}.", reason=t._(REASONS.get(str(params.get("reason")), REASONS["other"])))


def _window(t: Translator, params: Mapping[str, Any]) -> str | None:
    year, quarter = params.get("year"), params.get("quarter")
    if not year:
        return None
    if quarter:
        return t._("Planned: quarter {quarter} of {year}.", quarter=str(quarter), year=str(year))
    return t._("Planned: {year}.", year=str(year))


@renderer("village.stage_changed")
def stage_changed(t: Translator, params: Mapping[str, Any]) -> Rendered:
    village = t.pick(params["village"])
    lines = [
        t._(STAGE_NEWS.get(str(params["stage"]), STAGE_NEWS["planned"]), village=village),
        _reason(t, params),
    ]
    window = _window(t, params) if params["stage"] in ("planned", "design", "construction") else None
    if window:
        lines.append(window)
    lines.append(t._("Open /village to see the details."))
    return Rendered("\n".join(lines))


@renderer("village.window_changed")
def window_changed(t: Translator, params: Mapping[str, Any]) -> Rendered:
    village = t.pick(params["village"])
    window = _window(t, params) or t._("The planned date is not set now.")
    return Rendered(
        "\n".join([t._("{village}: the planned date changed.", village=village), window, _reason(t, params)])
    )


@renderer("village.object_online")
def object_online(t: Translator, params: Mapping[str, Any]) -> Rendered:
    village = t.pick(params["village"])
    return Rendered(
        t._(
            "✅ {village}: {name} ({kind}) is online, {speed} Mbit/s.",
            village=village,
            name=str(params["object"]),
            kind=t._(KIND_NAMES.get(str(params["kind"]), "other building")),
            speed=float(params["speed"]),
        )
    )
