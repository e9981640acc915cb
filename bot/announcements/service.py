"""Announcements: who may send one where, who gets it, and how its delivery went (docs/managers.md).

An administrator writes the text in Kazakh and in Russian (or one text for both), picks an area
inside their own (a region, district, rural okrug or village) and the people to tell there: the
followers of its villages, the residents with an open ticket there, the trainers working there. Each
recipient gets one copy through the outbox, in their own language, queued in the same transaction
that records the announcement; the same press delivered twice sends nothing twice. A resident who
no longer wants announcements for a village says so on one of them and keeps following the village.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from bot.announcements.callbacks import AUDIENCES
from bot.privacy import register_eraser
from bot.roles import Member
from db import announcements, outbox, stats
from db.announcements import Announcement, Recipient
from db.database import Database
from db.models import Role
from db.stats import Place

KIND = "announcement"
ROLE: Role = "admin"
MAX_TEXT = 1000  # each language; both with the heading fit one Telegram message


@register_eraser
async def _forget_optouts(conn: aiosqlite.Connection, user_id: int) -> None:
    await announcements.forget(conn, user_id)


class AnnouncementError(ValueError):
    """A request the rules refuse; ``code`` names it for a localized message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Draft:
    """What the administrator has put together so far (kept in the flow's draft)."""

    text_kk: str | None = None
    text_ru: str | None = None
    area: str | None = None
    audiences: tuple[str, ...] = ("followers",)

    @classmethod
    def of(cls, data: dict[str, Any]) -> Draft:
        return cls(
            text_kk=data.get("text_kk"),
            text_ru=data.get("text_ru"),
            area=data.get("area"),
            audiences=tuple(data.get("audiences", ("followers",))),
        )


@dataclass(frozen=True)
class Preview:
    place: Place
    audiences: tuple[str, ...]
    by_audience: dict[str, int]
    recipients: int
    params: dict[str, Any]  # of the notification each recipient gets


@dataclass(frozen=True)
class Summary:
    announcement: Announcement
    place: Place | None
    delivered: int
    blocked: int
    pending: int
    failed: int


def clean(text: str) -> str:
    """The typed text, trimmed; refused when empty. (Too long is told by the flow, with the length.)"""
    cleaned = text.strip()
    if not cleaned:
        raise AnnouncementError("empty")
    return cleaned


def toggled(audiences: tuple[str, ...], audience: str) -> tuple[str, ...]:
    chosen = set(audiences) ^ {audience}
    return tuple(name for name in AUDIENCES if name in chosen)


def _require(member: Member, area: str) -> None:
    if not member.is_admin:
        raise AnnouncementError("not_admin")
    if not member.can(ROLE, area):
        raise AnnouncementError("outside_area")


@dataclass(frozen=True)
class AreaChoice:
    whole: Place | None  # None: the member has several areas to choose from
    parts: list[Place]


async def area_choice(db: Database, member: Member, area: str | None) -> AreaChoice:
    """The member's own area(s), or the parts of one: regions, districts, okrugs, villages."""
    if not member.is_admin:
        raise AnnouncementError("not_admin")
    async with stats.snapshot(db.path) as conn:
        if area is None:
            scopes = member.scopes(ROLE)
            if len(scopes) > 1:
                found = [await stats.place(conn, scope) for scope in scopes]
                return AreaChoice(None, [place for place in found if place is not None])
            area = scopes[0]
        _require(member, area)
        whole = await stats.place(conn, area)
        if whole is None:
            raise AnnouncementError("unknown_area")
        return AreaChoice(whole, await stats.children(conn, area))


def notification(
    announcement_id: int, place: Place, draft: Draft, recipient: Recipient | None, village: Place | None
) -> dict[str, Any]:
    """The parameters of one recipient's copy (rendered in their language when it is sent)."""
    assert draft.text_kk is not None and draft.text_ru is not None
    params: dict[str, Any] = {
        "id": announcement_id,
        "area": {"kk": place.name_kk, "ru": place.name_ru},
        "text": {"kk": draft.text_kk, "ru": draft.text_ru},
    }
    if recipient is not None and recipient.village_code is not None and village is not None:
        params["village"] = recipient.village_code
        params["village_name"] = {"kk": village.name_kk, "ru": village.name_ru}
    return params


async def _prepare(conn: aiosqlite.Connection, member: Member, draft: Draft) -> tuple[Place, list[Recipient]]:
    if draft.text_kk is None or draft.text_ru is None or draft.area is None:
        raise AnnouncementError("incomplete")
    _require(member, draft.area)
    if not draft.audiences:
        raise AnnouncementError("no_audience")
    place = await stats.place(conn, draft.area)
    if place is None:
        raise AnnouncementError("unknown_area")
    return place, await announcements.recipients(conn, draft.area, draft.audiences)


async def preview(db: Database, member: Member, draft: Draft) -> Preview:
    """What would be sent, and to how many people (each counted once)."""
    async with db.read() as conn:
        place, found = await _prepare(conn, member, draft)
    counts = Counter(recipient.audience for recipient in found)
    return Preview(
        place=place,
        audiences=draft.audiences,
        by_audience={audience: counts[audience] for audience in draft.audiences},
        recipients=len(found),
        params=notification(0, place, draft, None, None),
    )


async def send(db: Database, member: Member, draft: Draft, *, source_key: str, now: datetime) -> Announcement:
    """Record the announcement and queue one copy per recipient, in one transaction."""
    async with db.transaction() as tx:
        again = await announcements.by_source(tx, source_key)
        if again is not None:
            return again
        place, found = await _prepare(tx, member, draft)
        if not found:
            raise AnnouncementError("no_recipients")
        assert draft.text_kk is not None and draft.text_ru is not None and draft.area is not None
        announcement_id = await announcements.create(
            tx,
            author_id=member.id,
            area=draft.area,
            audiences=draft.audiences,
            text_kk=draft.text_kk,
            text_ru=draft.text_ru,
            recipients=len(found),
            source_key=source_key,
            now=now,
        )
        villages: dict[str, Place | None] = {}
        for recipient in found:
            code = recipient.village_code
            if code is not None and code not in villages:
                villages[code] = await stats.place(tx, code)
            await outbox.enqueue(
                tx,
                chat_id=recipient.user_id,
                kind=KIND,
                params=notification(
                    announcement_id, place, draft, recipient, villages.get(code) if code else None
                ),
                now=now,
                dedup_key=announcements.dedup_key(announcement_id, recipient.user_id),
            )
        created = await announcements.get(tx, announcement_id)
    assert created is not None
    return created


async def summary(db: Database, member: Member, announcement_id: int) -> Summary:
    """How the copies of an announcement fared, read from the outbox: for its author, or an
    administrator of its area."""
    async with db.read() as conn:
        found = await announcements.get(conn, announcement_id)
        if found is None:
            raise AnnouncementError("unknown")
        if found.author_id != member.id:
            _require(member, found.area)
        states = await announcements.delivery(conn, announcement_id)
        place = await stats.place(conn, found.area)
    delivered = states.pop("sent", 0) + states.pop("unconfirmed", 0)  # unconfirmed: most likely arrived
    blocked = states.pop("dropped", 0)
    pending = states.pop("pending", 0)
    return Summary(found, place, delivered, blocked, pending, failed=sum(states.values()))


async def set_opt_out(db: Database, user_id: int, village_code: str, *, stop: bool, now: datetime) -> Place:
    """A resident stops (or resumes) announcements for one village; following it is untouched."""
    async with db.transaction() as tx:
        village = await stats.place(tx, village_code)
        if village is None or village.level != "village":
            raise AnnouncementError("unknown_area")
        if stop:
            await announcements.opt_out(tx, user_id, village_code, now)
        else:
            await announcements.opt_in(tx, user_id, village_code)
    return village
