"""Rules for outage reports and incidents (written out for people in docs/outages.md).

No SQL and no Telegram here. Functions that are one unit of work take the ``Database`` and own the
transaction; the acting person comes in as a ``Member`` and every staff step checks (staff, area)
for the incident's village itself, so a command, a button and a typed step are checked alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import aiosqlite

from bot.config import Language, Settings
from bot.privacy import register_eraser
from bot.roles import Member
from db import drafts, events, outages, outbox, places, users
from db.database import Database
from db.outages import KINDS, RESOLUTIONS, Incident, Kind, Note, Post, Question, Report, Since, Ticket
from db.places import SocialObject, Village

FLOW = "report"  # the draft a report is collected in
MAX_TEXT = 1000  # characters a resident may write to the engineers at once
MAX_PHOTOS = 10  # photos one report may carry
SHOWN_TEXTS = 5  # residents' descriptions an alert quotes (the newest), each at most SHOWN_LENGTH
SHOWN_LENGTH = 300
SHOWN_LOCATIONS = 3
SHOWN_QUESTIONS = 3
BUILDINGS: dict[Kind, str] = {"school": "school", "medical": "medical", "akimat": "akimat"}

ErrorCode = Literal[
    "unknown_village",
    "unknown_incident",
    "unknown_report",
    "unknown_question",
    "bad_choice",
    "not_connected",
    "too_many",
    "too_long",
    "too_many_photos",
    "not_your_report",
    "withdrawn",
    "already_resolved",
    "taken_by_other",
    "not_staff",
    "outside_area",
    "already_answered",
    "not_own_contact",
    "not_admin",
    "not_a_group",
]


@register_eraser
async def _forget_reporter(conn: aiosqlite.Connection, user_id: int) -> None:
    """A person who asks to be forgotten keeps their tickets' numbers, not what they wrote or showed."""
    await outages.forget_reporter(conn, user_id)


class OutageError(ValueError):
    """A request the rules refuse; ``code`` names it for a localized message (texts.ERRORS)."""

    def __init__(
        self,
        code: ErrorCode,
        *,
        until: datetime | None = None,
        by: int | None = None,
        length: int | None = None,
    ) -> None:
        super().__init__(code)
        self.code: ErrorCode = code
        self.until = until
        self.by = by
        self.length = length


# --- where an outage can be reported -----------------------------------------------------------------
def reportable_kinds(village: Village, objects: Sequence[SocialObject]) -> tuple[Kind, ...]:
    """What can be reported in a village now: only what has internet.

    Homes, the whole village and mobile internet once the village is connected; a school, medical
    post or akimat once that building is online (or, in a connected village, when the data lists no
    such building, since the list may be incomplete).
    """
    online = {item.kind for item in objects if item.connected}
    listed = {item.kind for item in objects}
    connected = village.stage == "connected"
    kinds: list[Kind] = []
    for kind in KINDS:
        building = BUILDINGS.get(kind)
        if building is None:
            if connected:
                kinds.append(kind)
        elif building in online or (connected and building not in listed):
            kinds.append(kind)
    return tuple(kinds)


@dataclass(frozen=True)
class VillageOffer:
    """The report's first screen for a village: what can be reported, or when it gets internet."""

    village: Village
    kinds: tuple[Kind, ...]  # empty: nothing there has internet yet (planned date and follow instead)
    following: bool


async def _offer(conn: aiosqlite.Connection, member: Member, code: str, now: datetime) -> VillageOffer:
    village = await places.get_village(conn, code)
    if village is None:
        raise OutageError("unknown_village")
    kinds = reportable_kinds(village, await places.objects_of(conn, code))
    following = code in await places.followed_by(conn, member.id)
    await drafts.save_draft(conn, member.id, FLOW, {"village": code}, now)
    return VillageOffer(village, kinds, following)


# A draft's steps wait for no fsync of their own: nothing is acknowledged until the report is sent,
# and the send's commit (durable) writes them to disk with it (see Database.transaction).
DRAFT_STEP = False


async def start_report(db: Database, member: Member, now: datetime) -> VillageOffer | None:
    """/report: a fresh draft, for my village when I have one (None: ask which village)."""
    async with db.transaction(durable=DRAFT_STEP) as tx:
        code = await places.my_village(tx, member.id)
        if code is None or await places.get_village(tx, code) is None:
            await drafts.save_draft(tx, member.id, FLOW, {}, now)
            return None
        return await _offer(tx, member, code, now)


async def choose_village(db: Database, member: Member, code: str, now: datetime) -> VillageOffer:
    async with db.transaction() as tx:
        return await _offer(tx, member, code, now)


async def follow_village(db: Database, member: Member, code: str, now: datetime) -> Village:
    """Follow a village that has no internet yet, to hear when that changes."""
    async with db.transaction() as tx:
        village = await places.get_village(tx, code)
        if village is None:
            raise OutageError("unknown_village")
        await places.follow(tx, member.id, code, now)
        return village


@dataclass(frozen=True)
class Draft:
    """A report being filled in (kept in SQLite, so it survives a restart)."""

    village: str | None = None
    kind: Kind | None = None
    since: Since | None = None
    texts: tuple[str, ...] = ()
    photos: tuple[str, ...] = ()
    location: tuple[float, float] | None = None
    filed: int | None = None  # the report sent from this draft

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Draft:
        location = data.get("location")
        return cls(
            village=data.get("village"),
            kind=data["kind"] if data.get("kind") in KINDS else None,
            since=data["since"] if data.get("since") in outages.SINCE else None,
            texts=tuple(data.get("texts", ())),
            photos=tuple(data.get("photos", ())),
            location=(float(location[0]), float(location[1])) if location else None,
            filed=data.get("filed"),
        )

    @property
    def words(self) -> int:
        return sum(len(text) for text in self.texts)


async def _draft(conn: aiosqlite.Connection, member: Member) -> Draft:
    return Draft.of(await drafts.get_draft(conn, member.id, FLOW))


async def choose_kind(db: Database, member: Member, kind: Kind, now: datetime) -> None:
    async with db.transaction(durable=DRAFT_STEP) as tx:
        draft = await _draft(tx, member)
        if draft.village is None:
            raise OutageError("bad_choice")
        village = await places.get_village(tx, draft.village)
        if village is None:
            raise OutageError("unknown_village")
        if kind not in reportable_kinds(village, await places.objects_of(tx, village.code)):
            raise OutageError("not_connected")
        await drafts.update_draft(tx, member.id, FLOW, {"kind": kind}, now)


async def choose_since(db: Database, member: Member, since: Since, now: datetime) -> None:
    async with db.transaction(durable=DRAFT_STEP) as tx:
        draft = await _draft(tx, member)
        if draft.village is None or draft.kind is None:
            raise OutageError("bad_choice")
        await drafts.update_draft(tx, member.id, FLOW, {"since": since}, now)


@dataclass(frozen=True)
class Detail:
    """One thing a resident sends the engineers: a few words, a photo (perhaps with words under it)
    or a location."""

    text: str | None = None
    photo: str | None = None
    location: tuple[float, float] | None = None


def _check_words(text: str, already: int = 0) -> str:
    text = text.strip()
    if already + len(text) > MAX_TEXT:
        raise OutageError("too_long", length=already + len(text))
    return text


async def add_detail(db: Database, member: Member, detail: Detail, now: datetime) -> Draft:
    """Words (added to what was written), a photo (up to MAX_PHOTOS) or a location (the latest)."""
    async with db.transaction() as tx:
        draft = await _draft(tx, member)
        if draft.since is None:
            raise OutageError("bad_choice")
        changes: dict[str, Any] = {}
        if detail.photo is not None:
            if len(draft.photos) >= MAX_PHOTOS:
                raise OutageError("too_many_photos")
            changes["photos"] = [*draft.photos, detail.photo]
        if detail.text is not None:
            changes["texts"] = [*draft.texts, _check_words(detail.text, draft.words)]
        elif detail.location is not None:
            changes["location"] = list(detail.location)
        data = await drafts.update_draft(tx, member.id, FLOW, changes, now)
    return Draft.of(data)


# --- filing ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NewReport:
    user_id: int
    village_code: str
    kind: str
    since: str
    description: str | None = None
    photos: tuple[str, ...] = ()
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class Filed:
    report: Report
    incident: Incident
    new: bool  # False: this person had already reported it (or the update came twice)


async def send_report(
    db: Database, member: Member, source_key: str, settings: Settings, now: datetime
) -> Filed:
    """«📨 Send»: file the draft, once. The draft then keeps the report's id until the next /report,
    so a press delivered again (or an answer that never reached the person) shows the same ticket."""
    async with db.transaction() as tx:
        draft = await _draft(tx, member)
        if draft.filed is not None:
            report = await outages.get_report(tx, draft.filed)
            incident = await outages.get_incident(tx, report.incident_id) if report else None
            if report is None or incident is None:
                raise OutageError("unknown_report")
            return Filed(report, incident, new=True)
        if draft.village is None or draft.kind is None or draft.since is None:
            raise OutageError("bad_choice")
        village = await places.get_village(tx, draft.village)
        if village is None:
            raise OutageError("unknown_village")
        if draft.kind not in reportable_kinds(village, await places.objects_of(tx, village.code)):
            raise OutageError("not_connected")
        new = NewReport(
            user_id=member.id,
            village_code=draft.village,
            kind=draft.kind,
            since=draft.since,
            description="\n".join(draft.texts) or None,
            photos=draft.photos,
            latitude=draft.location[0] if draft.location else None,
            longitude=draft.location[1] if draft.location else None,
        )
        filed = await file_report(tx, new, source_key=source_key, settings=settings, now=now)
        await drafts.save_draft(tx, member.id, FLOW, {"filed": filed.report.id}, now)
    return filed


async def file_report(
    conn: aiosqlite.Connection, new: NewReport, *, source_key: str, settings: Settings, now: datetime
) -> Filed:
    """File a report in the caller's transaction: join or open the incident, alert staff.

    Whether the village has internet to report about is the resident's path's question
    (:func:`send_report`); this is the filing itself.
    """
    again = await outages.report_by_source(conn, source_key)
    if again is not None:
        incident = await outages.get_incident(conn, again.incident_id)
        assert incident is not None
        return Filed(again, incident, new=False)
    if new.kind not in KINDS or new.since not in outages.SINCE:
        raise OutageError("bad_choice")
    village = await places.get_village(conn, new.village_code)
    if village is None:
        raise OutageError("unknown_village")
    open_incident = await outages.open_incident_for(conn, new.village_code, new.kind)
    mine = await outages.report_of(conn, open_incident.id, new.user_id) if open_incident else None
    if mine is not None and mine.withdrawn_at is None:
        return Filed(mine, open_incident, new=False)  # type: ignore[arg-type]
    if mine is None:
        recent = await outages.reports_since(conn, new.user_id, now - timedelta(hours=1))
        if len(recent) >= settings.reports_per_hour:
            raise OutageError("too_many", until=recent[0] + timedelta(hours=1))
    if open_incident is not None:
        incident_id = open_incident.id
    else:
        incident_id = await outages.create_incident(conn, new.village_code, new.kind, now)
        await events.emit(
            conn,
            "incident_opened",
            f"incident:{incident_id}",
            {"incident": incident_id, "village": new.village_code, "service_code": new.kind, "reopened": 0},
            now,
        )
    if mine is not None:
        # Withdrawn before, reported again: the same ticket counts again.
        await outages.reinstate_report(conn, mine.id, new.since)
        report = await outages.get_report(conn, mine.id)
        assert report is not None
    else:
        report = await outages.add_report(
            conn,
            incident_id=incident_id,
            user_id=new.user_id,
            village_code=new.village_code,
            kind=new.kind,
            since=new.since,
            source_key=source_key,
            now=now,
        )
    notes = await _add_notes(conn, report.id, new, now)
    await outages.update_incident(conn, incident_id)  # a new report is a change staff should see
    newly_mass = await _flag_mass_outage(conn, incident_id, village.district_code, settings, now)
    for neighbour_id in sorted(newly_mass - {incident_id}):
        # The neighbouring villages' alerts were sent before it was a mass outage: edit them to say so.
        neighbour = await outages.get_incident(conn, neighbour_id)
        assert neighbour is not None
        await alert_staff(conn, neighbour, settings, now)
    incident = await outages.get_incident(conn, incident_id)
    assert incident is not None
    await alert_staff(conn, incident, settings, now, notes=notes)
    return Filed(report, incident, new=True)


async def _add_notes(conn: aiosqlite.Connection, report_id: int, new: NewReport, now: datetime) -> list[Note]:
    added: list[Note | None] = []
    if new.description:
        added.append(await outages.add_note(conn, report_id, now, text=new.description))
    for photo in new.photos:
        added.append(await outages.add_note(conn, report_id, now, photo_file_id=photo))
    if new.latitude is not None and new.longitude is not None:
        added.append(await outages.add_note(conn, report_id, now, location=(new.latitude, new.longitude)))
    return [note for note in added if note is not None]


async def _flag_mass_outage(
    conn: aiosqlite.Connection, incident_id: int, district_code: str, settings: Settings, now: datetime
) -> set[int]:
    """Many reports at once, or several villages of one district at once: a mass outage.

    Returns the incidents flagged just now.
    """
    window = now - timedelta(minutes=settings.mass_outage_minutes)
    flagged = []
    if await outages.count_recent_reports(conn, incident_id, window) >= settings.mass_outage_reports:
        flagged.append(incident_id)
    nearby = await outages.district_incidents(conn, district_code, window) or [incident_id]
    if await outages.villages_among(conn, nearby) >= settings.mass_outage_villages:
        flagged += nearby
    newly: set[int] = set()
    for flagged_id in set(flagged):
        current = await outages.get_incident(conn, flagged_id)
        if current is not None and not current.mass:
            await outages.update_incident(conn, flagged_id, mass=1)
            newly.add(flagged_id)
    return newly


# --- what staff see -----------------------------------------------------------------------------------
def _clip(text: str, limit: int = SHOWN_LENGTH) -> str:
    """At most ``limit`` characters, cut at a word boundary with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:") + "…"


def _names(item: Village | places.Area | None) -> dict[str, str]:
    return {"kk": item.name_kk, "ru": item.name_ru} if item else {"kk": "", "ru": ""}


async def _snapshot(conn: aiosqlite.Connection, incident: Incident) -> dict[str, Any]:
    """Everything an alert shows, as the outbox's JSON parameters (rendered per reader and language).

    ``phones`` and ``questions`` are for engineers' private chats only; the group never gets them.
    """
    village = await places.get_village(conn, incident.village_code)
    assert village is not None
    district = await places.get_area(conn, village.district_code)
    reports = [r for r in await outages.reports_of_incident(conn, incident.id) if r.withdrawn_at is None]
    numbers = {report.id: report.number for report in reports}
    notes = await outages.notes_of(conn, numbers)
    texts = [note for note in notes if note.text]
    taker = await users.get_account(conn, incident.taken_by) if incident.taken_by is not None else None
    questions = await outages.questions_of(conn, numbers)
    return {
        "incident": incident.id,
        "village": _names(village),
        "district": _names(district),
        "kind": incident.kind,
        "since": incident.first_since,
        "reports": incident.reports,
        "state": incident.state,
        "taken_by": incident.taken_by,
        "taken_by_name": (taker.full_name if taker else str(incident.taken_by))
        if incident.taken_by
        else None,
        "resolution": incident.resolution,
        "withdrawn": incident.withdrawn_at is not None,
        "mass": incident.mass,
        "opened_at": incident.opened_at.isoformat(),
        "reopened": incident.reopened,
        "texts": [
            {"number": numbers[note.report_id], "text": _clip(note.text or ""), "later": note.added_later}
            for note in texts[-SHOWN_TEXTS:]
        ],
        "more_texts": max(0, len(texts) - SHOWN_TEXTS),
        "photos": sum(1 for note in notes if note.photo_file_id),
        "locations": [
            [note.latitude, note.longitude, numbers[note.report_id]]
            for note in notes
            if note.latitude is not None
        ][-SHOWN_LOCATIONS:],
        "phones": [[report.number, report.phone] for report in reports if report.phone],
        "questions": [
            {"number": numbers[q.report_id], "question": _clip(q.question), "answer": _clip(q.answer or "")}
            for q in questions[-SHOWN_QUESTIONS:]
        ],
    }


PRIVATE_ONLY = ("phones", "questions")


async def chat_languages(
    conn: aiosqlite.Connection, chat_id: int, settings: Settings
) -> tuple[Language, ...] | None:
    """The languages a group is written in (both, Kazakh first, unless an admin chose one);
    None for a private chat, which gets its reader's language."""
    if chat_id > 0:
        return None
    chosen = await outages.group_language(conn, chat_id)
    if chosen == "kk":
        return ("kk",)
    if chosen == "ru":
        return ("ru",)
    return ("kk", "ru")


async def _admins_for(conn: aiosqlite.Connection, village_code: str, settings: Settings) -> set[int]:
    return set(settings.admin_ids) | set(await users.holders_of(conn, "admin", village_code))


def _latest_post(posts: Sequence[Post], chat_id: int) -> Post | None:
    shown = [post for post in posts if post.chat_id == chat_id and post.kind != "view"]
    return shown[-1] if shown else None


async def alert_staff(
    conn: aiosqlite.Connection,
    incident: Incident,
    settings: Settings,
    now: datetime,
    *,
    repost: Literal["reopened", "escalated"] | None = None,
    notes: Sequence[Note] = (),
) -> None:
    """Show the incident's current state in every message that shows it, in the caller's transaction.

    The staff group and each engineer covering the village get one alert (an outbox slot per
    incident and chat: later states edit it, and a burst of changes coalesces into the latest). A
    reopening or an escalation posts a new message replying to the last one, so people are notified;
    the older messages keep being edited. Photos and locations go as replies under the alert.
    Chats that may no longer see the incident (a revoked engineer) get nothing.
    """
    snapshot = await _snapshot(conn, incident)
    groups = [settings.staff_chat_id] if settings.staff_chat_id is not None else []
    staff = await users.holders_of(conn, "staff", incident.village_code)
    admins = await _admins_for(conn, incident.village_code, settings)
    allowed = set(groups) | set(staff) | admins
    posts = await outages.posts_of(conn, incident.id)
    for chat_id in [*groups, *staff]:
        if _latest_post(posts, chat_id) is None:
            posts.append(
                await outages.add_post(
                    conn,
                    incident_id=incident.id,
                    chat_id=chat_id,
                    slot=f"incident:{incident.id}",
                    kind="alert",
                    now=now,
                )
            )
    if repost is not None:
        chats = [*groups, *staff, *(sorted(admins) if repost == "escalated" else [])]
        for chat_id in dict.fromkeys(chats):
            latest = _latest_post(posts, chat_id)
            posts.append(
                await outages.add_post(
                    conn,
                    incident_id=incident.id,
                    chat_id=chat_id,
                    slot=f"incident:{incident.id}:{repost}:v{incident.version}",
                    kind=repost,
                    reply_to=latest.slot if latest else None,
                    now=now,
                )
            )
    languages: dict[int, tuple[Language, ...] | None] = {}
    for post in posts:
        if post.chat_id not in allowed:
            continue
        if post.chat_id not in languages:
            languages[post.chat_id] = await chat_languages(conn, post.chat_id, settings)
        params = _post_params(snapshot, post, languages[post.chat_id], settings)
        await outbox.enqueue(
            conn,
            chat_id=post.chat_id,
            kind="outage.escalated" if post.kind == "escalated" else "outage.alert",
            params=params,
            now=now,
            dedup_key=f"{post.slot}:v{incident.version}:chat:{post.chat_id}",
            slot=post.slot,
        )
    await _thread_notes(conn, incident, posts, allowed, languages, notes, now)


def _post_params(
    snapshot: Mapping[str, Any], post: Post, languages: tuple[Language, ...] | None, settings: Settings
) -> dict[str, Any]:
    params = {**snapshot, "post": post.kind, "reply_to": post.reply_to}
    if post.kind == "escalated":
        params["minutes"] = settings.take_within_minutes
    if languages is not None:
        params["languages"] = list(languages)
        for key in PRIVATE_ONLY:
            params.pop(key, None)
    return params


async def _thread_notes(
    conn: aiosqlite.Connection,
    incident: Incident,
    posts: Sequence[Post],
    allowed: set[int],
    languages: Mapping[int, tuple[Language, ...] | None],
    notes: Sequence[Note],
    now: datetime,
) -> None:
    """Each photo and location a resident sent, as a reply under the incident's latest message."""
    shown = [note for note in notes if note.photo_file_id or note.latitude is not None]
    if not shown:
        return
    report_numbers = {
        report.id: report.number for report in await outages.reports_of_incident(conn, incident.id)
    }
    for chat_id in dict.fromkeys(post.chat_id for post in posts if post.kind != "view"):
        latest = _latest_post(posts, chat_id)
        if chat_id not in allowed or latest is None:
            continue
        for note in shown:
            params: dict[str, Any] = {
                "incident": incident.id,
                "number": report_numbers.get(note.report_id, ""),
                "reply_to": latest.slot,
            }
            if languages.get(chat_id) is not None:
                params["languages"] = list(languages[chat_id] or ())
            if note.photo_file_id:
                kind, params["photo"] = "outage.photo", note.photo_file_id
            else:
                kind, params["location"] = "outage.location", [note.latitude, note.longitude]
            await outbox.enqueue(
                conn,
                chat_id=chat_id,
                kind=kind,
                params=params,
                now=now,
                dedup_key=f"note:{note.id}:chat:{chat_id}",
            )


async def tell_reporters(
    conn: aiosqlite.Connection, incident: Incident, kind: str, now: datetime, *, skip: int | None = None
) -> int:
    village = await places.get_village(conn, incident.village_code)
    assert village is not None
    count = 0
    for user_id, report_id in await outages.reporters(conn, incident.id):
        if user_id == skip:
            continue
        params = {
            "incident": incident.id,
            "report": report_id,
            "number": outages.ticket_number(report_id),
            "state": incident.state,
            "resolution": incident.resolution,
            "village": _names(village),
            "kind": incident.kind,
        }
        if await outbox.enqueue(
            conn,
            chat_id=user_id,
            kind=kind,
            params=params,
            now=now,
            dedup_key=f"incident:{incident.id}:v{incident.version}:{kind}:user:{user_id}",
        ):
            count += 1
    return count


# --- staff actions --------------------------------------------------------------------------------------
def check_staff(member: Member, village_code: str) -> None:
    """Staff covering the village may act on its outages; others are told the real reason."""
    if not member.holds("staff"):
        raise OutageError("not_staff")
    if not member.can("staff", village_code):
        raise OutageError("outside_area")


async def _staff_incident(conn: aiosqlite.Connection, member: Member, incident_id: int) -> Incident:
    incident = await outages.get_incident(conn, incident_id)
    if incident is None:
        raise OutageError("unknown_incident")
    check_staff(member, incident.village_code)
    return incident


# What other systems hear of an incident's history (the open API's events), by history step.
PUBLIC_EVENTS: dict[str, events.EventKind] = {
    "taken": "incident_taken",
    "in_progress": "incident_taken",
    "resolved": "incident_resolved",
    "reopened": "incident_opened",
}


async def _record(
    conn: aiosqlite.Connection,
    incident: Incident,
    what: outages.Event,
    now: datetime,
    *,
    actor_id: int | None = None,
    resolution: str | None = None,
) -> None:
    """One step of an incident's history; the steps other systems subscribe to go out as events too."""
    await outages.add_event(conn, incident.id, what, now, actor_id=actor_id, resolution=resolution)
    kind = PUBLIC_EVENTS.get(what)
    if kind is not None:
        await events.emit(
            conn, kind, f"incident:{incident.id}", _event_payload(incident, what, resolution), now
        )


def _event_payload(incident: Incident, what: str, resolution: str | None) -> dict[str, object]:
    payload: dict[str, object] = {
        "incident": incident.id,
        "village": incident.village_code,
        "service_code": incident.kind,
    }
    if what in ("taken", "in_progress"):
        payload["state"] = what
    elif what == "resolved":
        payload["resolution"] = resolution
    else:
        payload["reopened"] = incident.reopened + (1 if what == "reopened" else 0)
    return payload


async def take(db: Database, member: Member, incident_id: int, settings: Settings, now: datetime) -> Incident:
    async with db.transaction() as tx:
        incident = await _staff_incident(tx, member, incident_id)
        if incident.state == "resolved":
            raise OutageError("already_resolved")
        if incident.taken_by is not None and incident.taken_by != member.id:
            raise OutageError("taken_by_other", by=incident.taken_by)
        if incident.state != "open":
            return incident  # already mine: nothing changes, nobody is told twice
        await outages.update_incident(tx, incident_id, state="taken", taken_by=member.id, taken_at=now)
        await _record(tx, incident, "taken", now, actor_id=member.id)
        return await _after_change(tx, incident_id, settings, now, "outage.state")


async def start_work(
    db: Database, member: Member, incident_id: int, settings: Settings, now: datetime
) -> Incident:
    async with db.transaction() as tx:
        incident = await _staff_incident(tx, member, incident_id)
        if incident.state == "resolved":
            raise OutageError("already_resolved")
        if incident.taken_by not in (None, member.id):
            raise OutageError("taken_by_other", by=incident.taken_by)
        if incident.state == "in_progress":
            return incident
        await outages.update_incident(
            tx, incident_id, state="in_progress", taken_by=member.id, taken_at=incident.taken_at or now
        )
        await _record(tx, incident, "in_progress", now, actor_id=member.id)
        return await _after_change(tx, incident_id, settings, now, "outage.state")


async def resolve(
    db: Database, member: Member, incident_id: int, reason: str, settings: Settings, now: datetime
) -> Incident:
    async with db.transaction() as tx:
        incident = await _staff_incident(tx, member, incident_id)
        if reason not in RESOLUTIONS:
            raise OutageError("bad_choice")
        if incident.state == "resolved":
            raise OutageError("already_resolved")
        await outages.update_incident(
            tx,
            incident_id,
            state="resolved",
            resolved_by=member.id,
            resolved_at=now,
            resolution=reason,
            taken_by=incident.taken_by or member.id,
            taken_at=incident.taken_at or now,
        )
        await _record(tx, incident, "resolved", now, actor_id=member.id, resolution=reason)
        return await _after_change(tx, incident_id, settings, now, "outage.resolved")


async def _after_change(
    conn: aiosqlite.Connection,
    incident_id: int,
    settings: Settings,
    now: datetime,
    resident_kind: str,
    *,
    skip: int | None = None,
    repost: Literal["reopened", "escalated"] | None = None,
) -> Incident:
    incident = await outages.get_incident(conn, incident_id)
    assert incident is not None
    await alert_staff(conn, incident, settings, now, repost=repost)
    await tell_reporters(conn, incident, resident_kind, now, skip=skip)
    return incident


@dataclass(frozen=True)
class StaffCard:
    """What a staff button needs to redraw its message's buttons: the incident, and where it is."""

    incident: Incident
    languages: tuple[Language, ...] | None  # a group's languages; None in a private chat
    view: bool  # the message is an /outages detail


async def staff_card(
    db: Database, member: Member, incident_id: int, chat_id: int, message_id: int, settings: Settings
) -> StaffCard:
    """Before asking for the reason of resolving: may this person act on it, and is it still open?"""
    async with db.read() as conn:
        incident = await _staff_incident(conn, member, incident_id)
        if incident.state == "resolved":
            raise OutageError("already_resolved")
        return StaffCard(
            incident,
            await chat_languages(conn, chat_id, settings),
            await outages.view_at(conn, chat_id, message_id) is not None,
        )


@dataclass(frozen=True)
class OpenLine:
    incident: Incident
    village: dict[str, str]
    overdue: bool


async def open_incidents(
    db: Database,
    member: Member,
    settings: Settings,
    now: datetime,
    *,
    mine: bool = False,
    area: str = "",
) -> list[OpenLine]:
    """/outages: unresolved incidents in my area, oldest first, overdue ones marked."""
    if not member.holds("staff"):
        raise OutageError("not_staff")
    if (
        area
        and not member.can("staff", area)
        and not any(scope.startswith(area) for scope in member.scopes("staff"))
    ):
        raise OutageError("outside_area")
    async with db.read() as conn:
        lines = await outages.unresolved_lines(
            conn, member.scopes("staff"), area=area, taken_by=member.id if mine else None
        )
    return [
        OpenLine(
            line.incident,
            {"kk": line.village_kk, "ru": line.village_ru},
            is_overdue(line.incident, settings, now),
        )
        for line in lines
    ]


@dataclass(frozen=True)
class IncidentDetail:
    """An /outages detail: the alert's parameters (rendered like every other copy of it), and the
    photos and map pins to show under it, each with its ticket number."""

    incident: Incident
    params: dict[str, Any]
    photos: list[tuple[str, str]] = field(default_factory=list)
    locations: list[tuple[float, float, str]] = field(default_factory=list)


async def incident_detail(
    db: Database, member: Member, incident_id: int, settings: Settings
) -> IncidentDetail:
    """One incident in full, as an engineer of its area sees it privately."""
    async with db.read() as conn:
        incident = await _staff_incident(conn, member, incident_id)
        snapshot = await _snapshot(conn, incident)
        reports = [r for r in await outages.reports_of_incident(conn, incident.id) if r.withdrawn_at is None]
        numbers = {report.id: report.number for report in reports}
        notes = await outages.notes_of(conn, numbers)
    view = Post(incident_id=incident.id, chat_id=member.id, slot="", kind="view")
    return IncidentDetail(
        incident=incident,
        params=_post_params(snapshot, view, None, settings),
        photos=[(note.photo_file_id, numbers[note.report_id]) for note in notes if note.photo_file_id][
            :MAX_PHOTOS
        ],
        locations=[
            (note.latitude, note.longitude, numbers[note.report_id])
            for note in notes
            if note.latitude is not None and note.longitude is not None
        ][-SHOWN_LOCATIONS:],
    )


async def keep_view_current(
    db: Database,
    member: Member,
    detail: IncidentDetail,
    chat_id: int,
    message_id: int,
    settings: Settings,
    now: datetime,
) -> None:
    """The message showing ``detail`` is from now on edited whenever the incident changes.

    Only the newest detail of an incident in a chat is kept current. If the incident changed while
    the detail was being sent, the message is brought up to date at once.
    """
    slot = f"incident:{detail.incident.id}:view:{message_id}"
    async with db.transaction() as tx:
        incident = await _staff_incident(tx, member, detail.incident.id)
        await outages.drop_views(tx, incident.id, chat_id)
        await outages.add_post(
            tx,
            incident_id=incident.id,
            chat_id=chat_id,
            slot=slot,
            kind="view",
            message_id=message_id,
            now=now,
        )
        await outbox.bind_slot(tx, slot, chat_id, message_id)
        if incident.version != detail.incident.version:
            await alert_staff(tx, incident, settings, now)


@dataclass(frozen=True)
class Askable:
    report: Report
    first_words: str | None


ASK = "ask"  # the draft of an engineer's question: which report it is about


async def start_ask(db: Database, member: Member, incident_id: int, now: datetime) -> list[Askable]:
    """«📞 Ask the reporter»: the reports that count, with the first words of each. With only one,
    it is the one asked about."""
    async with db.transaction() as tx:
        incident = await _staff_incident(tx, member, incident_id)
        reports = [r for r in await outages.reports_of_incident(tx, incident.id) if r.withdrawn_at is None]
        notes = await outages.notes_of(tx, [report.id for report in reports])
        await drafts.save_draft(
            tx, member.id, ASK, {"report": reports[0].id} if len(reports) == 1 else {}, now
        )
    words: dict[int, str] = {}
    for note in notes:
        if note.text and note.report_id not in words:
            words[note.report_id] = _clip(note.text, 60)
    return [Askable(report, words.get(report.id)) for report in reports]


async def _staff_report(conn: aiosqlite.Connection, member: Member, report_id: int) -> Report:
    report = await outages.get_report(conn, report_id)
    if report is None:
        raise OutageError("unknown_report")
    check_staff(member, report.village_code)
    if report.withdrawn_at is not None:
        raise OutageError("withdrawn")
    return report


async def choose_report_to_ask(db: Database, member: Member, report_id: int, now: datetime) -> Report:
    async with db.transaction() as tx:
        report = await _staff_report(tx, member, report_id)
        await drafts.save_draft(tx, member.id, ASK, {"report": report.id}, now)
        return report


async def ask_reporter(
    db: Database, member: Member, question: str, source_key: str, settings: Settings, now: datetime
) -> Report:
    """Send the resident an engineer's question through the bot; the answer comes back to them."""
    question = _check_words(question)
    async with db.transaction() as tx:
        again = await outages.question_by_source(tx, source_key)
        if again is not None:  # the same update again
            return await _staff_report(tx, member, again.report_id)
        chosen = (await drafts.get_draft(tx, member.id, ASK)).get("report")
        if chosen is None:
            raise OutageError("bad_choice")
        report = await _staff_report(tx, member, int(chosen))
        asked = await outages.add_question(tx, report.id, member.id, question, source_key, now)
        assert asked is not None
        village = await places.get_village(tx, report.village_code)
        await outbox.enqueue(
            tx,
            chat_id=report.user_id,
            kind="outage.question",
            params={
                "question_id": asked.id,
                "number": report.number,
                "village": _names(village),
                "question": question,
            },
            now=now,
            dedup_key=f"question:{asked.id}",
        )
        await _changed(tx, report.incident_id, settings, now)
        await drafts.clear_draft(tx, member.id, ASK)
    return report


async def _changed(
    conn: aiosqlite.Connection,
    incident_id: int,
    settings: Settings,
    now: datetime,
    notes: Sequence[Note] = (),
) -> Incident:
    """Something staff should see changed (a question, an answer, a phone, an addition)."""
    await outages.update_incident(conn, incident_id)
    incident = await outages.get_incident(conn, incident_id)
    assert incident is not None
    await alert_staff(conn, incident, settings, now, notes=notes)
    return incident


async def _own_report(conn: aiosqlite.Connection, member: Member, report_id: int) -> Report:
    report = await outages.get_report(conn, report_id)
    if report is None:
        raise OutageError("unknown_report")
    if report.user_id != member.id:
        raise OutageError("not_your_report")
    return report


ANSWER = "report_answer"  # the draft of a resident's answer: which question it answers


async def start_answer(
    db: Database, member: Member, question_id: int, now: datetime
) -> tuple[Question, Report]:
    """«✍️ Answer»: the question must be to me and not answered yet."""
    async with db.transaction() as tx:
        question = await outages.get_question(tx, question_id)
        if question is None:
            raise OutageError("unknown_question")
        report = await _own_report(tx, member, question.report_id)
        if question.answer is not None:
            raise OutageError("already_answered")
        await drafts.save_draft(tx, member.id, ANSWER, {"question": question.id}, now)
    return question, report


async def answer_question(
    db: Database, member: Member, answer: str, source_key: str, settings: Settings, now: datetime
) -> Report:
    """The resident's answer goes to the engineer who asked, and into the incident's messages."""
    answer = _check_words(answer)
    async with db.transaction() as tx:
        again = await outages.question_by_source(tx, source_key)
        if again is not None:  # the same update again
            return await _own_report(tx, member, again.report_id)
        question_id = (await drafts.get_draft(tx, member.id, ANSWER)).get("question")
        question = await outages.get_question(tx, int(question_id)) if question_id is not None else None
        if question is None:
            raise OutageError("unknown_question")
        report = await _own_report(tx, member, question.report_id)
        if not await outages.answer_question(tx, question.id, answer, source_key, now):
            raise OutageError("already_answered")
        village = await places.get_village(tx, report.village_code)
        await outbox.enqueue(
            tx,
            chat_id=question.asked_by,
            kind="outage.answer",
            params={
                "incident": report.incident_id,
                "number": report.number,
                "village": _names(village),
                "question": _clip(question.question),
                "answer": answer,
            },
            now=now,
            dedup_key=f"question:{question.id}:answer",
        )
        await _changed(tx, report.incident_id, settings, now)
        await drafts.clear_draft(tx, member.id, ANSWER)
    return report


# --- the resident's tickets -----------------------------------------------------------------------------
HistoryEvent = Literal["sent", "added", "taken", "in_progress", "resolved", "reopened", "withdrawn", "closed"]


@dataclass(frozen=True)
class HistoryItem:
    at: datetime
    event: HistoryEvent
    resolution: str | None = None


@dataclass(frozen=True)
class TicketView:
    """A resident's ticket: what they sent, what happened since, and what they can still do."""

    report: Report
    incident: Incident
    village: Village
    notes: list[Note]
    history: list[HistoryItem]

    @property
    def open(self) -> bool:
        """Whether the resident can still add to it or withdraw it."""
        return self.report.withdrawn_at is None and self.incident.state != "resolved"


async def my_tickets(db: Database, member: Member) -> list[Ticket]:
    async with db.read() as conn:
        return await outages.tickets_of(conn, member.id)


async def _ticket(conn: aiosqlite.Connection, report: Report) -> TicketView:
    incident = await outages.get_incident(conn, report.incident_id)
    village = await places.get_village(conn, report.village_code)
    assert incident is not None and village is not None
    notes = await outages.notes_of(conn, [report.id])
    history = [HistoryItem(report.created_at, "sent")]
    history += [HistoryItem(note.at, "added") for note in notes if note.added_later]
    for event in await outages.events_of(conn, incident.id):
        if event.event in ("taken", "in_progress", "resolved", "reopened") and event.at >= report.created_at:
            history.append(HistoryItem(event.at, event.event, event.resolution))
        elif event.event == "withdrawn":
            history.append(HistoryItem(event.at, "closed"))
    if report.withdrawn_at is not None:
        history.append(HistoryItem(report.withdrawn_at, "withdrawn"))
    # Several additions in a row read as one line each; the same moment keeps the order above.
    history.sort(key=lambda item: item.at)
    return TicketView(report, incident, village, notes, history)


async def ticket(db: Database, member: Member, report_id: int) -> TicketView:
    async with db.read() as conn:
        return await _ticket(conn, await _own_report(conn, member, report_id))


async def _open_own_report(
    conn: aiosqlite.Connection, member: Member, report_id: int
) -> tuple[Report, Incident]:
    report = await _own_report(conn, member, report_id)
    incident = await outages.get_incident(conn, report.incident_id)
    assert incident is not None
    if report.withdrawn_at is not None:
        raise OutageError("withdrawn")
    if incident.state == "resolved":
        raise OutageError("already_resolved")
    return report, incident


ADD = "report_add"  # the draft of «➕ add information»: which report


async def start_adding(db: Database, member: Member, report_id: int, now: datetime) -> TicketView:
    """«➕ Add information»: the ticket must be mine and still open."""
    async with db.transaction() as tx:
        report, _ = await _open_own_report(tx, member, report_id)
        await drafts.save_draft(tx, member.id, ADD, {"report": report.id}, now)
        return await _ticket(tx, report)


async def add_information(
    db: Database, member: Member, detail: Detail, source_key: str, settings: Settings, now: datetime
) -> TicketView:
    """Words, a photo or a location added to a sent report: the engineers' messages show it."""
    async with db.transaction() as tx:
        chosen = (await drafts.get_draft(tx, member.id, ADD)).get("report")
        if chosen is None:
            raise OutageError("bad_choice")
        report, incident = await _open_own_report(tx, member, int(chosen))
        added: list[Note | None] = []
        if detail.photo is not None:
            photos = sum(1 for n in await outages.notes_of(tx, [report.id]) if n.photo_file_id)
            if photos >= MAX_PHOTOS:
                raise OutageError("too_many_photos")
            added.append(
                await outages.add_note(
                    tx, report.id, now, photo_file_id=detail.photo, added_later=True, source_key=source_key
                )
            )
        if detail.text is not None:
            # Words under a photo are a note of their own, keyed apart from the photo's.
            key = f"{source_key}:words" if detail.photo is not None else source_key
            added.append(
                await outages.add_note(
                    tx, report.id, now, text=_check_words(detail.text), added_later=True, source_key=key
                )
            )
        elif detail.location is not None:
            added.append(
                await outages.add_note(
                    tx, report.id, now, location=detail.location, added_later=True, source_key=source_key
                )
            )
        if not added:
            raise OutageError("bad_choice")
        notes = [note for note in added if note is not None]  # None: the same update again
        if notes:
            await _changed(tx, incident.id, settings, now, notes=notes)
        return await _ticket(tx, report)


async def withdraw(
    db: Database, member: Member, report_id: int, settings: Settings, now: datetime
) -> TicketView:
    """The resident takes the report back: it no longer counts; with no report left the incident closes."""
    async with db.transaction() as tx:
        report = await _own_report(tx, member, report_id)
        if report.withdrawn_at is not None:
            return await _ticket(tx, report)  # pressed twice: already done
        report, incident = await _open_own_report(tx, member, report_id)
        await outages.withdraw_report(tx, report.id, now)
        changed = await outages.get_incident(tx, incident.id)
        assert changed is not None
        if changed.reports == 0:
            await outages.update_incident(
                tx, incident.id, state="resolved", resolved_at=now, withdrawn_at=now
            )
            await outages.add_event(tx, incident.id, "withdrawn", now, actor_id=member.id)
        else:
            await outages.update_incident(tx, incident.id)
        changed = await outages.get_incident(tx, incident.id)
        assert changed is not None
        await alert_staff(tx, changed, settings, now)
        withdrawn = await outages.get_report(tx, report.id)
        assert withdrawn is not None
        return await _ticket(tx, withdrawn)


PHONE = "report_phone"  # the draft of «📱 Let the engineer call me»: which report


async def start_phone(db: Database, member: Member, report_id: int, now: datetime) -> Report:
    async with db.transaction() as tx:
        report, _ = await _open_own_report(tx, member, report_id)
        await drafts.save_draft(tx, member.id, PHONE, {"report": report.id}, now)
        return report


async def share_phone(
    db: Database,
    member: Member,
    phone: str,
    contact_user_id: int | None,
    settings: Settings,
    now: datetime,
) -> TicketView:
    """The resident agreed that the engineers may call them about this report (their consent is the
    number and the moment, kept with the report)."""
    if contact_user_id != member.id:
        raise OutageError("not_own_contact")
    digits = "".join(ch for ch in phone if ch.isdigit())
    if not 5 <= len(digits) <= 15:
        raise OutageError("not_own_contact")
    async with db.transaction() as tx:
        chosen = (await drafts.get_draft(tx, member.id, PHONE)).get("report")
        if chosen is None:
            raise OutageError("bad_choice")
        view = await _set_phone(tx, member, int(chosen), "+" + digits, settings, now)
        await drafts.clear_draft(tx, member.id, PHONE)
        return view


async def decline_phone(db: Database, member: Member) -> None:
    async with db.transaction() as tx:
        await drafts.clear_draft(tx, member.id, PHONE)


async def hide_phone(
    db: Database, member: Member, report_id: int, settings: Settings, now: datetime
) -> TicketView:
    async with db.transaction() as tx:
        return await _set_phone(tx, member, report_id, None, settings, now)


async def _set_phone(
    conn: aiosqlite.Connection,
    member: Member,
    report_id: int,
    phone: str | None,
    settings: Settings,
    now: datetime,
) -> TicketView:
    report = await _own_report(conn, member, report_id)
    if report.phone != phone:
        await outages.set_phone(conn, report.id, phone, now)
        await _changed(conn, report.incident_id, settings, now)
    changed = await outages.get_report(conn, report.id)
    assert changed is not None
    return await _ticket(conn, changed)


async def answer_working(
    db: Database, member: Member, incident_id: int, working: bool, settings: Settings, now: datetime
) -> Incident:
    """A reporter says whether it works now; "no" reopens a resolved incident."""
    async with db.transaction() as tx:
        incident = await outages.get_incident(tx, incident_id)
        if incident is None:
            raise OutageError("unknown_incident")
        mine = await outages.report_of(tx, incident_id, member.id)
        if mine is None:
            raise OutageError("not_your_report")
        if mine.withdrawn_at is not None:
            raise OutageError("withdrawn")
        if working or incident.state != "resolved" or incident.withdrawn_at is not None:
            return incident
        if await outages.open_incident_for(tx, incident.village_code, incident.kind) is not None:
            return incident  # someone already reopened it or reported afresh
        await outages.update_incident(
            tx,
            incident_id,
            state="open",
            resolved_at=None,
            resolved_by=None,
            resolution=None,
            taken_by=None,
            taken_at=None,
            escalated_at=None,
            reopened=incident.reopened + 1,
            reopened_at=now,
        )
        await _record(tx, incident, "reopened", now, actor_id=member.id)
        # The one who pressed «No» is answered on the button; the notice is for the other reporters.
        return await _after_change(
            tx, incident_id, settings, now, "outage.reopened", skip=member.id, repost="reopened"
        )


# --- staff groups -------------------------------------------------------------------------------------
async def set_group_language(
    db: Database, member: Member, chat_id: int, language: Language | None, settings: Settings, now: datetime
) -> None:
    """/grouplanguage: the staff group serves every area, so only an admin for everywhere sets it.

    The open incidents' messages in the group are redrawn in the new language(s).
    """
    if not member.is_global_admin:
        raise OutageError("not_admin")
    if chat_id > 0:
        raise OutageError("not_a_group")
    async with db.transaction() as tx:
        await outages.set_group_language(tx, chat_id, language, member.id, now)
        for incident_id in await outages.incidents_posted_in(tx, chat_id):
            await outages.update_incident(tx, incident_id)
            incident = await outages.get_incident(tx, incident_id)
            assert incident is not None
            await alert_staff(tx, incident, settings, now)


async def group_languages(db: Database, chat_id: int, settings: Settings) -> tuple[Language, ...] | None:
    async with db.read() as conn:
        return await chat_languages(conn, chat_id, settings)


# --- service levels -----------------------------------------------------------------------------------
async def check_service_levels(conn: aiosqlite.Connection, settings: Settings, now: datetime) -> int:
    """Escalate every incident nobody took in time: a new message in the staff group (replying to the
    alert) and to the admins covering the village. Returns how many were escalated."""
    late = await outages.overdue_for_taking(conn, now - timedelta(minutes=settings.take_within_minutes))
    for incident_id in late:
        await outages.update_incident(conn, incident_id, escalated_at=now)
        await outages.add_event(conn, incident_id, "escalated", now)
        incident = await outages.get_incident(conn, incident_id)
        assert incident is not None
        await alert_staff(conn, incident, settings, now, repost="escalated")
    return len(late)


async def run_service_levels(db: Database, settings: Settings, now: datetime) -> int:
    """What the periodic job runs: escalate what nobody took in time."""
    async with db.transaction() as tx:
        return await check_service_levels(tx, settings, now)


def is_overdue(incident: Incident, settings: Settings, now: datetime) -> bool:
    if incident.state == "resolved":
        return False
    if incident.state == "open" and now - incident.clock_start > timedelta(
        minutes=settings.take_within_minutes
    ):
        return True
    return now - incident.clock_start > timedelta(hours=settings.resolve_within_hours)
