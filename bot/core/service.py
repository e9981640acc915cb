"""Rules of first contact: knowing who writes, choosing the language, the consent it records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.config import Language
from bot.privacy import record_consent, restore_person
from bot.roles import Member
from db import users
from db.database import Database
from db.models import Account


@dataclass(frozen=True)
class Contact:
    """What Telegram says about the person behind an update."""

    user_id: int
    first_name: str
    last_name: str | None
    username: str | None
    language_code: str | None


async def know(db: Database, contact: Contact, *, settings_admin: bool, now: datetime) -> Member:
    """The member behind an update; their Telegram name is written only when it changed.

    Someone who asked to be forgotten is known by id only: nothing about them is written until
    they consent again (:func:`choose_language`).
    """
    async with db.read() as conn:
        account, grants = await users.account_and_roles(conn, contact.user_id)
    if account is None or (
        not account.erased
        and users.needs_refresh(
            account,
            first_name=contact.first_name,
            last_name=contact.last_name,
            username=contact.username,
            telegram_language=contact.language_code,
            now=now,
        )
    ):
        async with db.transaction() as tx:
            account = await users.record_contact(
                tx,
                user_id=contact.user_id,
                first_name=contact.first_name,
                last_name=contact.last_name,
                username=contact.username,
                telegram_language=contact.language_code,
                now=now,
            )
    return Member(account, tuple(grants), settings_admin=settings_admin)


async def choose_language(
    db: Database, member: Member, contact: Contact, language: Language, now: datetime
) -> Member:
    """Save the language. The first choice (and the first after «delete my data») is the consent
    the prompt asked for: it is logged, and a forgotten person's Telegram name is kept again."""
    account: Account = member.account
    async with db.transaction() as tx:
        if account.erased:
            account = await restore_person(
                tx,
                user_id=account.id,
                first_name=contact.first_name,
                last_name=contact.last_name,
                username=contact.username,
                telegram_language=contact.language_code,
                now=now,
            )
        await users.set_language(tx, account.id, language)
        if member.account.language is None:
            await record_consent(tx, account.id, now)
    account = account.model_copy(update={"language": language})
    return Member(account, member.grants, member.settings_admin)


async def reload(db: Database, member: Member) -> Member:
    """The same member with the roles they hold now (after an invite was used)."""
    async with db.read() as conn:
        grants = await users.roles_of(conn, member.id)
    return Member(member.account, tuple(grants), member.settings_admin)
