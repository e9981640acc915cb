"""Words every feature shares: role names and the answers to stale buttons, refusals and leaving a flow."""

from __future__ import annotations

from bot.config import Language
from bot.i18n import N_

ROLE_NAMES: dict[str, str] = {
    "resident": N_("resident"),
    "trainer": N_("trainer"),
    "staff": N_("field staff"),
    "admin": N_("administrator"),
}
# Each language names itself, so a person finds theirs whatever the interface speaks now.
LANGUAGE_NAMES: dict[Language, str] = {"kk": "Қазақша", "ru": "Русский"}

STALE_BUTTON = N_("This button is out of date. Open /menu again.")
ONLY_FOR_ROLE = N_("Sorry, this is only for the {role} role.")
OUTSIDE_AREA = N_("This village is outside your area.")
CANCELLED = N_("Cancelled.")
ANSWER_THE_QUESTION = N_("Please answer the question above, or press Cancel.")
TOO_LONG = N_("That is too long ({length} characters). Please keep it under {limit}.")
SOMETHING_WENT_WRONG = N_("Sorry, something went wrong. Please try again in a minute.")
ROLE_TAKEN_MIDWAY = N_("You no longer have the {role} role, so this stops here.")

# First contact and the main menu.
CHOOSE_LANGUAGE = N_("Choose your language:")
CONSENT = N_("By continuing you agree that AuylNet keeps your data: /privacy")
ERASED_ASK_CONSENT = N_(
    "You asked AuylNet to delete your data, so it keeps nothing about you now."
    " To use the bot again, choose your language: your Telegram name will be kept again (/privacy)."
)
WHAT_TO_DO = N_("What would you like to do?")
HELLO = N_("Hello, {name}! I am AuylNet.")
USE_THE_BUTTONS = N_("Please use the buttons. What would you like to do?")
MESSAGE_TOO_LONG = N_("Your message is too long ({length} characters). Please keep it under {limit}.")
UNKNOWN_COMMAND = N_("I don't know this command. See /help or use the menu.")
ONLY_TEXT_AND_BUTTONS = N_("I can only read text and buttons here. Please use the menu.")
