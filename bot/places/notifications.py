"""How village news is worded for followers, in their own language at send time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.i18n import N_, Translator
from bot.notify import Rendered, renderer
from bot.places import texts

STAGE_NEWS: dict[str, str] = {
    "none": N_("{village}: the village is not in the connection plan for now."),
    "planned": N_("{village} is now in the connection plan."),
    "design": N_("{village}: engineers are designing the line."),
    "construction": N_("{village}: construction of the line has started."),
    "connected": N_("🎉 {village}: homes can now get internet!"),
}


def _village(t: Translator, params: Mapping[str, Any]) -> str:
    return texts.picked(t, params["village"])


def _int(value: object) -> int | None:
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else None


def _reason(t: Translator, params: Mapping[str, Any]) -> list[str]:
    reason = str(params.get("reason"))
    if reason not in texts.REASONS:
        return []
    return [t._("Reason: {reason}.", reason=t._(texts.REASONS[reason]))]


def _window(t: Translator, params: Mapping[str, Any]) -> str | None:
    year, quarter = _int(params.get("year")), _int(params.get("quarter"))
    if year is None:
        return None
    if quarter:
        return t._("Planned: quarter {quarter} of {year}.", quarter=str(quarter), year=str(year))
    return t._("Planned: {year}.", year=str(year))


def _homes(t: Translator, params: Mapping[str, Any]) -> str:
    return texts.homes_line(
        t,
        str(params.get("stage") or "none"),
        _int(params.get("year")),
        _int(params.get("quarter")),
        params.get("operator") or None,
        params.get("hotline") or None,
    )


@renderer("village.stage_changed")
def stage_changed(t: Translator, params: Mapping[str, Any]) -> Rendered:
    stage = str(params["stage"])
    lines = [
        t._(STAGE_NEWS.get(stage, STAGE_NEWS["planned"]), village=_village(t, params)),
        *_reason(t, params),
    ]
    window = _window(t, params) if stage in ("planned", "design", "construction") else None
    if window:
        lines.append(window)
    if stage == "connected":
        lines.append(_homes(t, params))
    lines.append(t._("Open /village to see the details."))
    return Rendered("\n".join(lines))


@renderer("village.window_changed")
def window_changed(t: Translator, params: Mapping[str, Any]) -> Rendered:
    window = _window(t, params) or t._("The planned date is not set now.")
    return Rendered(
        "\n".join(
            [
                t._("{village}: the planned date changed.", village=_village(t, params)),
                window,
                *_reason(t, params),
            ]
        )
    )


@renderer("village.object_online")
def object_online(t: Translator, params: Mapping[str, Any]) -> Rendered:
    """Which building is online, and what homes should do: a school online does not connect homes."""
    named = params["object"]
    name = texts.picked(t, named) if isinstance(named, Mapping) else str(named)
    kind = str(params.get("kind"))
    building = f"{texts.OBJECT_KIND_ICONS.get(kind, '🏢')} {name}"
    lines = [
        t._(
            "✅ {village}: {building} is online, {speed} Mbit/s.",
            village=_village(t, params),
            building=building,
            speed=float(params["speed"]),
        )
    ]
    if "stage" in params:
        lines.append(_homes(t, params))
    return Rendered("\n".join(lines))
