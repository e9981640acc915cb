"""Words of announcements."""

from __future__ import annotations

from bot.i18n import N_

AUDIENCE_NAMES: dict[str, str] = {
    "followers": N_("followers of villages"),
    "tickets": N_("people with open tickets"),
    "trainers": N_("trainers"),
}
ERRORS: dict[str, str] = {
    "not_admin": N_("Announcements are for administrators."),
    "outside_area": N_("This area is outside your area."),
    "unknown_area": N_("This area is not in the village list."),
    "empty": N_("The announcement is empty. Please write it."),
    "no_audience": N_("Choose at least one group of people."),
    "no_recipients": N_("Nobody in this area would get it: choose another area or more people."),
    "unknown": N_("This announcement no longer exists."),
    "incomplete": N_("This announcement is not finished. Start again with /announce."),
}
ASK_KK = N_(
    "📢 New announcement. Write it in Kazakh (up to {limit} characters), e.g. «12 желтоқсан, 10:00–14:00:"
    " жоспарлы жұмыстар, интернет болмайды»."
)
ASK_RU = N_("Now the same in Russian. If one text serves both languages, press the button.")
