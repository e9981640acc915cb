"""Words every feature shares: role names and the answers to stale buttons, refusals and leaving a flow."""

from __future__ import annotations

from bot.i18n import N_

ROLE_NAMES: dict[str, str] = {
    "resident": N_("resident"),
    "trainer": N_("trainer"),
    "staff": N_("field staff"),
    "admin": N_("administrator"),
}
LANGUAGE_NAMES: dict[str, str] = {"kk": "Қазақша", "ru": "Русский"}

STALE_BUTTON = N_("This button is out of date. Open /menu again.")
ONLY_FOR_ROLE = N_("Sorry, this is only for the {role} role.")
OUTSIDE_AREA = N_("This village is outside your area.")
CANCELLED = N_("Cancelled.")
ANSWER_THE_QUESTION = N_("Please answer the question above, or press Cancel.")
TOO_LONG = N_("That is too long ({length} characters). Please keep it under {limit}.")
SOMETHING_WENT_WRONG = N_("Sorry, something went wrong. Please try again in a minute.")
ROLE_TAKEN_MIDWAY = N_("You no longer have the {role} role, so this stops here.")
