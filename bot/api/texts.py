"""Words of the open API: Open311 services and attributes, status notes and error descriptions.

Answers are in the language the client asks for (``locale``: kk, ru, kk_KZ, ru_RU; otherwise its
Accept-Language; otherwise the bot's default language).
"""

from __future__ import annotations

import html

from bot.config import LANGUAGES, Language
from bot.i18n import N_, Translator, translator

SERVICE_NAMES: dict[str, str] = {
    "home": N_("Home internet outage"),
    "school": N_("School internet outage"),
    "medical": N_("Medical post internet outage"),
    "akimat": N_("Akimat internet outage"),
    "village": N_("Whole village without internet"),
    "mobile": N_("Mobile internet outage"),
}
SERVICE_DESCRIPTIONS: dict[str, str] = {
    "home": N_("Internet at home in a connected village does not work."),
    "school": N_("The school of a connected village has no internet."),
    "medical": N_("The medical post of a connected village has no internet."),
    "akimat": N_("The akimat of a connected village has no internet."),
    "village": N_("Nobody in a connected village has internet."),
    "mobile": N_("Mobile internet does not work in a village."),
}
SERVICE_GROUP = N_("Internet outages")
SERVICE_KEYWORDS = N_("internet, outage, village")

SINCE_QUESTION = N_("Since when does it not work?")
SINCE_VALUES: dict[str, str] = {
    "now": N_("Just now"),
    "today": N_("Since today"),
    "yesterday": N_("Since yesterday"),
    "days": N_("For several days"),
}
PUBLISH_QUESTION = N_(
    "May the description be published? Only then does it appear in public answers; the engineers see it either way."
)
PUBLISH_VALUES: dict[str, str] = {
    "no": N_("No, only for the engineers"),
    "yes": N_("Yes, it may be published"),
}

STATUS_NOTES: dict[str, str] = {
    "open": N_("New: the engineers are informed."),
    "taken": N_("An engineer has taken the outage."),
    "in_progress": N_("Repair is in progress."),
}
REOPENED_NOTE = N_("Reopened: a resident says it still does not work.")
RESOLVED_NOTES: dict[str, str] = {
    "fixed": N_("Resolved: the outage was fixed."),
    "power": N_("Resolved: the cause was a power cut."),
    "not_ours": N_("Resolved: the cause was outside the programme's network."),
    "duplicate": N_("Resolved: a duplicate of another outage."),
    "other": N_("Resolved for another reason."),
}
NOTICE_NEW_INCIDENT = N_("Report {number} is filed; the engineers are informed.")
NOTICE_JOINED = N_("Report {number} is filed and joins an outage already reported in this village.")
NOTICE_AGAIN = N_("This reporter had already reported this outage: report {number}.")

# Errors, by code. Placeholders: {name} a parameter, {value} what was given.
ERRORS: dict[str, str] = {
    "missing_parameter": N_("The parameter {name} is required."),
    "bad_parameter": N_("The parameter {name} has a value that is not allowed: {value}."),
    "bad_date": N_("The parameter {name} is not an ISO 8601 date and time: {value}."),
    "range_too_long": N_("start_date and end_date may be at most 90 days apart."),
    "no_key": N_("An api_key is required to file a report."),
    "bad_key": N_("This api_key is not valid or has been revoked."),
    "read_only_key": N_("This api_key may only read; filing a report needs a write key."),
    "outside_area": N_("This api_key may file reports only for villages of area {area}."),
    "unknown_service": N_("There is no service with the code {value}."),
    "no_location": N_("Give the village as address_id (its 9-digit KATO code) or as lat and long."),
    "unknown_village": N_("There is no village with the KATO code {value}."),
    "no_village_near": N_("No village lies within {km} km of this point; give address_id instead."),
    "not_connected": N_(
        "The village {value} is not connected yet (stage: {stage}, planned: {planned}): there is no "
        "network there to fail. Mobile internet outages can be reported."
    ),
    "too_long": N_("The description may be at most {max} characters long."),
    "too_many": N_("This reporter has filed too many reports in the last hour; try again after {time}."),
    "rate_limited": N_("Too many requests; try again in {seconds} s."),
    "not_found": N_("Nothing found at this address."),
    "not_allowed": N_("This address does not take this method."),
    "too_large": N_("The request is too large."),
    "unknown_request": N_("There is no report {value}."),
    "unknown_token": N_("There is no report filed with the token {value}."),
    "internal": N_("Something went wrong on the server; the request changed nothing. Try again later."),
}
STAGE_NAMES: dict[str, str] = {
    "none": N_("not in the connection plan yet"),
    "planned": N_("in the connection plan"),
    "design": N_("design works"),
    "construction": N_("construction works"),
    "connected": N_("connected to the internet"),
}
NOT_PLANNED = N_("no planned date yet")


def language_of(locale: str | None, accept_language: str | None, default: Language) -> Language:
    """kk, ru, kk_KZ, ru-RU… from ``locale``, then Accept-Language, then the default."""
    for wanted in (locale, *(part.split(";")[0] for part in (accept_language or "").split(","))):
        if not wanted:
            continue
        base = wanted.strip().replace("-", "_").split("_")[0].lower()
        for language in LANGUAGES:
            if base == language:
                return language
    return default


def words(language: Language) -> Translator:
    return translator(language)


def plain(t: Translator, message: str, /, **params: object) -> str:
    """A catalog text for a machine-readable answer: no HTML escaping of the filled-in values."""
    return html.unescape(t._(message, **params))
