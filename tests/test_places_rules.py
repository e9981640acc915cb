"""Corrections to the installation log keep the data the card and the reports rely on valid."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.places.importer import import_kato, import_objects
from bot.places.rollout import InstallationError, NewInstallation
from bot.places.service import correct_installation, log_installation
from bot.roles import Member
from db import places
from db.database import Database
from db.models import Account, RoleGrant

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
KATO = """kato,kato_version,level,type_code,name_ru,name_kk
550000000,NK RK 11-2025,oblast,0,Павлодарская область,Павлодар облысы
556000000,NK RK 11-2025,district,2,Павлодарский район,Павлодар ауданы
556069100,NK RK 11-2025,settlement,2,с.Шакат,Шақат а.
"""
STAFF = Member(
    Account(id=11, first_name="Болат", first_seen=NOW, last_seen=NOW),
    (RoleGrant(user_id=11, role="staff", scope="55", granted_at=NOW),),
)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "places_rules.db")
    await import_kato(database, KATO.encode())
    await import_objects(database, "kato,kind,name\n556069100,school,№1 мектеп\n".encode())
    yield database
    await database.close()


async def test_a_correction_cannot_name_a_technology_the_bot_does_not_know(db: Database) -> None:
    async with db.read() as conn:
        school = (await places.objects_of(conn, "556069100"))[0]
    new = NewInstallation("556069100", school.id, None, None, "fibre", 85)
    installation, _ = await log_installation(db, STAFF, new, source_key="u:1", now=NOW)
    with pytest.raises(InstallationError, match="unknown_technology"):
        await correct_installation(
            db, STAFF, installation.id, technology="laser", now=NOW + timedelta(hours=1)
        )
    async with db.read() as conn:
        kept = await places.get_installation(conn, installation.id)
        school_now = await places.get_object(conn, school.id)
    assert kept is not None and kept.technology == "fibre"
    assert school_now is not None and school_now.technology == "fibre"
