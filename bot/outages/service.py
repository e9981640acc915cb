"""Rules for outage reports and incidents (written out for people in docs/outages.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from bot.config import Settings
from bot.privacy import register_eraser
from db import events, outages, outbox, places, users
from db.database import Database
from db.outages import Incident, Report


@register_eraser
async def _forget_reporter(conn: aiosqlite.Connection, user_id: int) -> None:
    """A person who asks to be forgotten keeps their tickets' numbers, not what they wrote or showed."""
    await conn.execute(
        "UPDATE reports SET description = NULL, photo_file_id = NULL, latitude = NULL, longitude = NULL"
        " WHERE user_id = ?",
        (user_id,),
    )


class OutageError(ValueError):
    """A request the rules refuse; ``code`` names it for a localized message."""

    def __init__(self, code: str, *, until: datetime | None = None, by: int | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.until = until
        self.by = by


@dataclass(frozen=True)
class NewReport:
    user_id: int
    village_code: str
    kind: str
    since: str
    description: str | None = None
    photo_file_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class Filed:
    report: Report
    incident: Incident
    new: bool  # False: this person had already reported it (or the update came twice)


async def file_report(
    conn: aiosqlite.Connection, new: NewReport, *, source_key: str, settings: Settings, now: datetime
) -> Filed:
    """File a report in the caller's transaction: join or open the incident, alert staff, subscribe."""
    again = await outages.report_by_source(conn, source_key)
    if again is not None:
        incident = await outages.get_incident(conn, again.incident_id)
        assert incident is not None
        return Filed(again, incident, new=False)
    if new.kind not in outages.KINDS or new.since not in outages.SINCE:
        raise OutageError("bad_choice")
    village = await places.get_village(conn, new.village_code)
    if village is None:
        raise OutageError("unknown_village")
    open_incident = await outages.open_incident_for(conn, new.village_code, new.kind)
    if open_incident is not None:
        mine = await outages.report_of(conn, open_incident.id, new.user_id)
        if mine is not None:
            return Filed(mine, open_incident, new=False)
    recent = await outages.reports_since(conn, new.user_id, now - timedelta(hours=1))
    if len(recent) >= settings.reports_per_hour:
        raise OutageError("too_many", until=recent[0] + timedelta(hours=1))
    incident_id = (
        open_incident.id
        if open_incident
        else await outages.create_incident(conn, new.village_code, new.kind, now)
    )
    report = await outages.add_report(
        conn,
        incident_id=incident_id,
        user_id=new.user_id,
        village_code=new.village_code,
        kind=new.kind,
        since=new.since,
        description=new.description,
        photo_file_id=new.photo_file_id,
        latitude=new.latitude,
        longitude=new.longitude,
        source_key=source_key,
        now=now,
    )
    await outages.update_incident(conn, incident_id)  # a new report is a change staff should see
    if open_incident is None:
        await events.emit(
            conn,
            "incident_opened",
            f"incident:{incident_id}",
            {"incident": incident_id, "village": new.village_code, "service_code": new.kind, "reopened": 0},
            now,
        )
    newly_mass = await _flag_mass_outage(conn, incident_id, village.district_code, settings, now)
    for neighbour_id in sorted(newly_mass - {incident_id}):
        # The neighbouring villages' alerts were sent before it was a mass outage: edit them to say so.
        neighbour = await outages.get_incident(conn, neighbour_id)
        assert neighbour is not None
        await alert_staff(conn, neighbour, settings, now)
    incident = await outages.get_incident(conn, incident_id)
    assert incident is not None
    await alert_staff(conn, incident, settings, now)
    return Filed(report, incident, new=True)


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
    nearby = await outages.district_incidents(conn, district_code, window)
    if not nearby:
        nearby = [incident_id]
    async with conn.execute(
        f"SELECT count(DISTINCT village_code) FROM incidents WHERE id IN ({','.join('?' * len(nearby))})",
        nearby,
    ) as cursor:
        row = await cursor.fetchone()
    if row and row[0] >= settings.mass_outage_villages:
        flagged += nearby
    newly: set[int] = set()
    for flagged_id in set(flagged):
        current = await outages.get_incident(conn, flagged_id)
        if current is not None and not current.mass:
            await outages.update_incident(conn, flagged_id, mass=1)
            newly.add(flagged_id)
    return newly


async def staff_chats(conn: aiosqlite.Connection, village_code: str, settings: Settings) -> list[int]:
    """Staff covering the village, and the staff group."""
    chats = await users.holders_of(conn, "staff", village_code)
    if settings.staff_chat_id is not None:
        chats.append(settings.staff_chat_id)
    return chats


def alert_params(
    incident: Incident, village: places.Village, district: places.Area | None
) -> dict[str, object]:
    return {
        "incident": incident.id,
        "village": {"kk": village.name_kk, "ru": village.name_ru},
        "district": {"kk": district.name_kk, "ru": district.name_ru} if district else {"kk": "", "ru": ""},
        "kind": incident.kind,
        "since": incident.first_since,
        "reports": incident.reports,
        "state": incident.state,
        "taken_by": incident.taken_by,
        "resolution": incident.resolution,
        "mass": incident.mass,
        "opened_at": incident.opened_at.isoformat(),
        "reopened": incident.reopened,
    }


async def alert_staff(
    conn: aiosqlite.Connection, incident: Incident, settings: Settings, now: datetime
) -> None:
    """One alert per staff chat per incident, edited in place (outbox slot) as the incident changes."""
    village = await places.get_village(conn, incident.village_code)
    assert village is not None
    district = await places.get_area(conn, village.district_code)
    params = alert_params(incident, village, district)
    if incident.taken_by is not None:
        taker = await users.get_account(conn, incident.taken_by)
        params["taken_by_name"] = taker.full_name if taker else str(incident.taken_by)
    for chat_id in await staff_chats(conn, incident.village_code, settings):
        await outbox.enqueue(
            conn,
            chat_id=chat_id,
            kind="outage.alert",
            params=params,
            now=now,
            dedup_key=f"incident:{incident.id}:v{incident.version}:chat:{chat_id}",
            slot=f"incident:{incident.id}",
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
            "number": f"AN-{report_id:06d}",
            "state": incident.state,
            "resolution": incident.resolution,
            "village": {"kk": village.name_kk, "ru": village.name_ru},
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


async def _staff_incident(conn: aiosqlite.Connection, incident_id: int) -> Incident:
    incident = await outages.get_incident(conn, incident_id)
    if incident is None:
        raise OutageError("unknown_incident")
    return incident


async def take(
    conn: aiosqlite.Connection, incident_id: int, staff_id: int, settings: Settings, now: datetime
) -> Incident:
    incident = await _staff_incident(conn, incident_id)
    if incident.state == "resolved":
        raise OutageError("already_resolved")
    if incident.taken_by is not None and incident.taken_by != staff_id:
        raise OutageError("taken_by_other", by=incident.taken_by)
    if incident.state == "open":
        await outages.update_incident(conn, incident_id, state="taken", taken_by=staff_id, taken_at=now)
        await events.emit(
            conn,
            "incident_taken",
            f"incident:{incident_id}",
            {
                "incident": incident_id,
                "village": incident.village_code,
                "service_code": incident.kind,
                "state": "taken",
            },
            now,
        )
    return await _after_change(conn, incident_id, settings, now, "outage.state")


async def start_work(
    conn: aiosqlite.Connection, incident_id: int, staff_id: int, settings: Settings, now: datetime
) -> Incident:
    incident = await _staff_incident(conn, incident_id)
    if incident.state == "resolved":
        raise OutageError("already_resolved")
    if incident.taken_by not in (None, staff_id):
        raise OutageError("taken_by_other", by=incident.taken_by)
    if incident.state != "in_progress":
        await outages.update_incident(
            conn, incident_id, state="in_progress", taken_by=staff_id, taken_at=incident.taken_at or now
        )
        await events.emit(
            conn,
            "incident_taken",
            f"incident:{incident_id}",
            {
                "incident": incident_id,
                "village": incident.village_code,
                "service_code": incident.kind,
                "state": "in_progress",
            },
            now,
        )
    return await _after_change(conn, incident_id, settings, now, "outage.state")


async def resolve(
    conn: aiosqlite.Connection,
    incident_id: int,
    staff_id: int,
    reason: str,
    settings: Settings,
    now: datetime,
) -> Incident:
    incident = await _staff_incident(conn, incident_id)
    if reason not in outages.RESOLUTIONS:
        raise OutageError("bad_choice")
    if incident.state == "resolved":
        raise OutageError("already_resolved")
    await outages.update_incident(
        conn,
        incident_id,
        state="resolved",
        resolved_by=staff_id,
        resolved_at=now,
        resolution=reason,
        taken_by=incident.taken_by or staff_id,
        taken_at=incident.taken_at or now,
    )
    await events.emit(
        conn,
        "incident_resolved",
        f"incident:{incident_id}",
        {
            "incident": incident_id,
            "village": incident.village_code,
            "service_code": incident.kind,
            "resolution": reason,
        },
        now,
    )
    return await _after_change(conn, incident_id, settings, now, "outage.resolved")


async def answer_working(
    conn: aiosqlite.Connection,
    incident_id: int,
    user_id: int,
    working: bool,
    settings: Settings,
    now: datetime,
) -> Incident:
    """A reporter says whether it works now; "no" reopens a resolved incident."""
    incident = await _staff_incident(conn, incident_id)
    if await outages.report_of(conn, incident_id, user_id) is None:
        raise OutageError("not_your_report")
    if working or incident.state != "resolved":
        return incident
    if await outages.open_incident_for(conn, incident.village_code, incident.kind) is not None:
        return incident  # someone already reopened it or reported afresh
    await outages.update_incident(
        conn,
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
    await events.emit(
        conn,
        "incident_opened",
        f"incident:{incident_id}",
        {
            "incident": incident_id,
            "village": incident.village_code,
            "service_code": incident.kind,
            "reopened": incident.reopened + 1,
        },
        now,
    )
    # The one who pressed «No» is answered on the button; the notice is for the other reporters.
    return await _after_change(conn, incident_id, settings, now, "outage.reopened", skip=user_id)


async def _after_change(
    conn: aiosqlite.Connection,
    incident_id: int,
    settings: Settings,
    now: datetime,
    resident_kind: str,
    *,
    skip: int | None = None,
) -> Incident:
    incident = await outages.get_incident(conn, incident_id)
    assert incident is not None
    await alert_staff(conn, incident, settings, now)
    await tell_reporters(conn, incident, resident_kind, now, skip=skip)
    return incident


async def check_service_levels(conn: aiosqlite.Connection, settings: Settings, now: datetime) -> int:
    """Escalate to admins every incident nobody took in time; returns how many were escalated."""
    late = await outages.overdue_for_taking(conn, now - timedelta(minutes=settings.take_within_minutes))
    admins = set(settings.admin_ids) | set(await users.holders_of(conn, "admin", None))
    for incident_id in late:
        await outages.update_incident(conn, incident_id, escalated_at=now)
        incident = await outages.get_incident(conn, incident_id)
        assert incident is not None
        village = await places.get_village(conn, incident.village_code)
        assert village is not None
        district = await places.get_area(conn, village.district_code)
        for admin_id in sorted(admins):
            await outbox.enqueue(
                conn,
                chat_id=admin_id,
                kind="outage.escalated",
                params={**alert_params(incident, village, district), "minutes": settings.take_within_minutes},
                now=now,
                dedup_key=f"incident:{incident_id}:escalated:{now.isoformat()}:{admin_id}",
            )
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
