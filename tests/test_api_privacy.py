"""Public answers carry no personal data: no names, contacts, shared locations, or words a reporter
did not agree to publish."""

from __future__ import annotations

import json
from pathlib import Path

from bot.clock import Clock
from bot.outages.service import NewReport, file_report, take
from db import users
from tests.api_support import BAYANAUL, bot_settings, running_api, seeded_database
from tests.test_classes_rules import person

RESIDENTS = [
    # (id, first name, last name, username, what they wrote)
    (501, "Айгүл", "Сейтқалиева", "aigul_s", "Менің үйім Абай көшесі 5, телефоным 87011112233"),
    (502, "Ольга", "Петренко", "olga_p", "Нет интернета у дома на Ленина 12"),
]
API_REPORTER = {
    "first_name": "Гульнара",
    "last_name": "Оспанова",
    "email": "g.ospanova@mail.kz",
    "phone": "+77015556677",
    "account_id": "iin-880101400123",
    "description": "Секретная подробность для инженеров",
}
PUBLISHED = "Связь пропадает каждый вечер после 20:00"
STAFF = (701, "Болат", "Инженеров")


async def test_public_answers_hold_no_personal_data(tmp_path: Path) -> None:
    path = tmp_path / "privacy.db"
    db = await seeded_database(path)
    settings = bot_settings(path)
    clock = Clock()
    now = clock.now()
    async with db.transaction() as tx:
        for user_id, first, last, username, _ in [*RESIDENTS, (*STAFF, "bolat", "")]:
            await users.record_contact(
                tx,
                user_id=user_id,
                first_name=first,
                last_name=last,
                username=username,
                telegram_language="ru",
                now=now,
            )
        for user_id, _, _, _, text in RESIDENTS:
            await file_report(
                tx,
                NewReport(
                    user_id, BAYANAUL, "home", "today", description=text, latitude=50.8123, longitude=75.7345
                ),
                source_key=f"callback:{user_id}",
                settings=settings,
                now=now,
            )
    await take(db, person(STAFF[0], ("staff", "")), 1, settings, now)
    try:
        async with running_api(db, settings, clock) as api:
            key = await api.key("e-Akimat Pavlodar", "write")
            hidden = await api.post(
                "/open311/v2/requests.json",
                {"api_key": key, "service_code": "school", "address_id": BAYANAUL, **API_REPORTER},
            )
            shown = await api.post(
                "/open311/v2/requests.json",
                {
                    "api_key": key,
                    "service_code": "medical",
                    "address_id": BAYANAUL,
                    "device_id": "tablet-3",
                    "description": PUBLISHED,
                    "attribute[PUBLISH]": "yes",
                },
            )
            tokens = [json.loads(await r.read())[0]["token"] for r in (hidden, shown)]

            answers: list[str] = []
            for locale in ("kk", "ru"):
                for fmt in ("json", "xml"):
                    for path_ in (
                        "discovery",
                        "services",
                        "services/home",
                        "requests",
                        "requests/AN-000001",
                        "requests/AN-000002",
                        "requests/AN-000003",
                        "requests/AN-000004",
                        *(f"tokens/{token}" for token in tokens),
                    ):
                        response = await api.get(f"/open311/v2/{path_}.{fmt}", locale=locale)
                        assert response.status == 200, path_
                        answers.append(await response.text())
                answers.append(
                    await (await api.get("/open311/v2/requests.json", service_request_id="1,2,3,4")).text()
                )
            for path_ in ("/api/v1/villages", f"/api/v1/villages/{BAYANAUL}", "/api/v1/villages.geojson"):
                answers.append(
                    await (
                        await api.get(path_, limit="1000")
                        if path_ == "/api/v1/villages"
                        else await api.get(path_)
                    ).text()
                )
    finally:
        await db.close()

    public = "\n".join(answers)
    forbidden = [
        *(part for resident in RESIDENTS for part in resident[1:]),
        *API_REPORTER.values(),
        *STAFF[1:],
        "50.8123",
        "75.7345",
        "87011112233",
    ]
    leaks = [word for word in forbidden if word in public]
    assert leaks == []
    assert PUBLISHED in public  # the one description its reporter agreed to publish
    assert public.count("AN-000004") > 0 and "AN-000001" in public

    # What identifies the API's resident is not even stored: names are dropped, contacts kept only as a keyed hash.
    db = await seeded_database(path)
    try:
        async with db.read() as conn:
            tables = [
                row[0]
                for row in await conn.execute_fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            stored = []
            for table in tables:
                for row in await conn.execute_fetchall(f"SELECT * FROM {table}"):
                    stored.append(" ".join(str(value) for value in row))
    finally:
        await db.close()
    everything = "\n".join(stored)
    for word in (
        "Гульнара",
        "Оспанова",
        "g.ospanova@mail.kz",
        "+77015556677",
        "iin-880101400123",
        "tablet-3",
    ):
        assert word not in everything, word
    assert API_REPORTER["description"] in everything  # kept for the engineers, never published
