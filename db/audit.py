"""The audit log: who changed what, with old and new values."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import aiosqlite

from db.models import AuditEntry
from db.timestamps import from_db, to_db


async def record(
    conn: aiosqlite.Connection,
    *,
    actor_id: int | None,
    subject: str,
    action: str,
    detail: Mapping[str, Any] | None = None,
    now: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO audit_log (at, actor_id, subject, action, detail) VALUES (?, ?, ?, ?, ?)",
        (to_db(now), actor_id, subject, action, json.dumps(dict(detail or {}), ensure_ascii=False)),
    )


async def entries_for(conn: aiosqlite.Connection, subject: str) -> list[AuditEntry]:
    async with conn.execute(
        "SELECT at, actor_id, subject, action, detail FROM audit_log WHERE subject = ? ORDER BY id",
        (subject,),
    ) as cursor:
        rows = await cursor.fetchall()
    return [
        AuditEntry(
            at=from_db(row["at"]),
            actor_id=row["actor_id"],
            subject=row["subject"],
            action=row["action"],
            detail=json.loads(row["detail"]),
        )
        for row in rows
    ]
