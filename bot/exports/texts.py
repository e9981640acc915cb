"""Words of the exports: what each one is, column headers, the values of coded columns."""

from __future__ import annotations

from bot.i18n import N_

KIND_NAMES: dict[str, str] = {
    "villages": N_("Villages"),
    "objects": N_("Buildings"),
    "installations": N_("Installations"),
    "incidents": N_("Outages"),
    "reports": N_("Outage reports"),
    "classes": N_("Classes"),
    "attendance": N_("Attendance"),
}
ERRORS: dict[str, str] = {
    "not_admin": N_("Exports are for administrators."),
    "outside_area": N_("This area is outside your area."),
    "unknown_area": N_("This area is not in the village list."),
}
PERIOD_NAMES: dict[str, str] = {
    "this_month": N_("This month"),
    "last_month": N_("Last month"),
    "this_year": N_("This year"),
    "last_year": N_("Last year"),
    "all": N_("All time"),
}

# Column headers.
H_VILLAGE_CODE = N_("KATO")
H_VILLAGE = N_("Village")
H_DISTRICT = N_("District")
H_REGION = N_("Region")
H_STAGE = N_("Stage")
H_PLANNED_YEAR = N_("Planned year")
H_PLANNED_QUARTER = N_("Planned quarter")
H_OPERATOR = N_("Operator")
H_TECHNOLOGY = N_("Technology")
H_PLANNED_TECHNOLOGY = N_("Planned technology")
H_POPULATION = N_("Population")
H_OBJECTS_ONLINE = N_("Buildings online")
H_OBJECTS_TOTAL = N_("Buildings, all")
H_SCHOOLS_ONLINE = N_("Schools online")
H_SCHOOLS_TOTAL = N_("Schools, all")
H_MEDICAL_ONLINE = N_("Medical posts online")
H_MEDICAL_TOTAL = N_("Medical posts, all")
H_CHANGED_AT = N_("Stage changed")
H_CHANGE_REASON = N_("Reason for the change")
H_ID = N_("No.")
H_OBJECT_KIND = N_("Building type")
H_OBJECT_NAME = N_("Building")
H_ONLINE = N_("Online")
H_SPEED = N_("Speed, Mbit/s")
H_CONNECTED_AT = N_("Connected")
H_LOGGED_AT = N_("Logged")
H_CORRECTED_AT = N_("Corrected")
H_LATITUDE = N_("Latitude")
H_LONGITUDE = N_("Longitude")
H_STAFF_ID = N_("Engineer's Telegram id")
H_STAFF_NAME = N_("Engineer")
H_WHAT = N_("What")
H_STATE = N_("State")
H_OPENED_AT = N_("Opened")
H_TAKEN_AT = N_("Taken")
H_RESOLVED_AT = N_("Resolved")
H_RESOLUTION = N_("Result")
H_REPORTS = N_("Reports")
H_REOPENED = N_("Reopened, times")
H_MASS = N_("Mass outage")
H_MINUTES_TO_TAKE = N_("Minutes to take")
H_HOURS_TO_RESOLVE = N_("Hours to resolve")
H_TAKEN_BY = N_("Taken by")
H_RESOLVED_BY = N_("Resolved by")
H_TICKET = N_("Ticket")
H_FILED_AT = N_("Filed")
H_SINCE = N_("Since")
H_INCIDENT = N_("Outage No.")
H_REPORTER_ID = N_("Resident's Telegram id")
H_REPORTER = N_("Resident")
H_DESCRIPTION = N_("Description")
H_PHOTO = N_("Photo (Telegram file id)")
H_STARTS_AT = N_("Starts")
H_MINUTES = N_("Minutes")
H_VENUE = N_("Venue")
H_TOPIC = N_("Topic")
H_LANGUAGE = N_("Language")
H_CAPACITY = N_("Seats")
H_BOOKED = N_("Booked")
H_WAITING = N_("Waiting list")
H_PRESENT = N_("Present")
H_SENIORS_PRESENT = N_("Present, aged 60+")
H_TRAINER_ID = N_("Trainer's Telegram id")
H_TRAINER = N_("Trainer")
H_CLASS = N_("Class No.")
H_CLASS_STATE = N_("Class state")
H_AGE = N_("Age")
H_BOOKING_STATE = N_("Booking")
H_ATTENDANCE = N_("Attendance")
H_WALK_IN = N_("Walk-in")
H_BOOKED_AT = N_("Booked on")
H_BOOKER_ID = N_("Booked by (Telegram id)")
H_BOOKER = N_("Booked by")
H_ATTENDEE = N_("Attendee")

# Values of coded columns.
STAGES: dict[str, str] = {
    "none": N_("Not in the programme"),
    "planned": N_("Planned"),
    "design": N_("Design and survey"),
    "construction": N_("Construction"),
    "connected": N_("Connected"),
}
OBJECT_KINDS: dict[str, str] = {
    "school": N_("school"),
    "medical": N_("medical post"),
    "akimat": N_("akimat"),
    "library": N_("library"),
    "other": N_("other building"),
}
OUTAGE_KINDS: dict[str, str] = {
    "home": N_("home internet"),
    "school": N_("school"),
    "medical": N_("medical post"),
    "akimat": N_("akimat"),
    "village": N_("whole village"),
    "mobile": N_("mobile internet"),
}
OUTAGE_STATES: dict[str, str] = {
    "open": N_("open"),
    "taken": N_("taken"),
    "in_progress": N_("in progress"),
    "resolved": N_("resolved"),
}
RESOLUTIONS: dict[str, str] = {
    "fixed": N_("fixed"),
    "power": N_("power cut"),
    "not_ours": N_("not our network"),
    "duplicate": N_("duplicate"),
    "other": N_("other"),
}
SINCE: dict[str, str] = {
    "now": N_("just now"),
    "today": N_("since today"),
    "yesterday": N_("since yesterday"),
    "days": N_("for several days"),
}
TOPICS: dict[str, str] = {
    "smartphone": N_("Smartphone basics"),
    "egov": N_("eGov services"),
    "safety": N_("Online safety and fraud"),
    "kundelik": N_("Kundelik for parents"),
    "payments": N_("Online payments"),
}
AGE_GROUPS: dict[str, str] = {"under30": N_("under 30"), "30to59": N_("30–59"), "60plus": N_("60 and older")}
CLASS_STATES: dict[str, str] = {
    "scheduled": N_("scheduled"),
    "cancelled": N_("cancelled"),
    "closed": N_("held"),
}
BOOKING_STATES: dict[str, str] = {
    "booked": N_("booked"),
    "waiting": N_("waiting list"),
    "offered": N_("seat offered"),
    "cancelled": N_("cancelled"),
    "declined": N_("declined"),
}
ATTENDANCE: dict[str, str] = {"present": N_("present"), "absent": N_("absent")}
