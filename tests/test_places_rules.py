"""Corrections to the installation log keep the data the card and the reports rely on valid."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.i18n import Translator
from bot.places import keyboards, service, texts
from bot.places.callbacks import SearchCb, StageCb, VillageCb
from bot.places.importer import import_kato, import_objects
from bot.places.rollout import InstallationError, NewInstallation
from bot.places.service import BrowsePage, correct_installation, log_installation, open_card
from bot.roles import Member
from db import places
from db.database import Database
from db.models import Account, RoleGrant
from db.places import STAGES

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


@pytest.mark.parametrize("language", ["kk", "ru"])
async def test_every_places_button_label_fits_a_phone(db: Database, language: str) -> None:
    """Labels are at most 40 characters in both languages: shortened by wording, never cut."""
    t = Translator(language)  # type: ignore[arg-type]
    card = await open_card(db, STAFF, "556069100", NOW)
    assert card is not None
    page = BrowsePage("places", "556069000", None, [], 0, 2, small=12_345, up=("okrugs", "556000000"))
    stage = StageCb(code="556069100", stage="construction", year=2027)
    keyboards_shown = [
        keyboards.make_search_prompt_keyboard(t),
        keyboards.make_card_keyboard(t, card),
        keyboards.make_browse_keyboard(t, page),
        keyboards.make_stage_keyboard(t, "556069100"),
        keyboards.make_year_keyboard(t, stage, 2026, texts.window_text(t, 2026, 4)),
        keyboards.make_quarter_keyboard(t, stage),
        *(keyboards.make_reason_keyboard(t, stage, service.reasons_for(name)) for name in STAGES),
        keyboards.make_kind_keyboard(t),
        keyboards.make_technology_keyboard(t),
        keyboards.make_skip_keyboard(t, "photo"),
        keyboards.make_save_keyboard(t),
        keyboards.make_import_keyboard(t),
        keyboards.make_village_choice_keyboard(
            t, [], lambda code: VillageCb(action="show", code=code), SearchCb(action="again")
        ),
    ]
    labels = [button.text for markup in keyboards_shown for row in markup.inline_keyboard for button in row]
    assert labels and [label for label in labels if len(label) > 40] == []
