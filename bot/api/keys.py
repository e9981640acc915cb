"""API keys and rate limits.

A key is a random token shown once; only its SHA-256 is stored, so a copy of the database gives no
usable key. A key is ``read`` or ``write`` and holds an area (a KATO prefix, ``""`` everywhere): a
write key of region 55 files reports for villages of region 55 only.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from db import api, audit
from db.api import ApiKey, Scope
from db.database import Database

TOKEN_PREFIX = "aun_"
_AREA = re.compile(r"^\d{0,9}$")


class ApiKeyError(ValueError):
    """A key request the rules refuse; ``code`` names it."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    token: str  # shown once, never stored


async def create_key(
    db: Database, *, name: str, scope: Scope, area: str, per_minute: int | None, now: datetime
) -> NewKey:
    """A new key for a client (registered on its first key); audited."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ApiKeyError("bad_name")
    if scope not in ("read", "write"):
        raise ApiKeyError("bad_scope")
    if not _AREA.match(area):
        raise ApiKeyError("bad_area")
    if per_minute is not None and per_minute < 1:
        raise ApiKeyError("bad_rate")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with db.transaction() as tx:
        client_id = await api.ensure_client(tx, name, secrets.token_hex(16), now)
        key = await api.add_key(
            tx,
            client_id=client_id,
            token_hash=token_hash(token),
            prefix=token[: len(TOKEN_PREFIX) + 6],
            scope=scope,
            area=area,
            per_minute=per_minute,
            now=now,
        )
        await audit.record(
            tx,
            actor_id=None,
            subject=f"apikey:{key.id}",
            action="apikey.create",
            detail={"client": name, "scope": scope, "area": area, "per_minute": per_minute},
            now=now,
        )
    return NewKey(key, token)


async def revoke_key(db: Database, key_id: int, now: datetime) -> bool:
    """Revoke a key at once; False when there is no such active key. Audited."""
    async with db.transaction() as tx:
        revoked = await api.revoke_key(tx, key_id, now)
        if revoked:
            await audit.record(tx, actor_id=None, subject=f"apikey:{key_id}", action="apikey.revoke", now=now)
    return revoked


async def list_keys(db: Database) -> list[ApiKey]:
    async with db.read() as conn:
        return await api.all_keys(conn)


async def find_key(db: Database, token: str) -> ApiKey | None:
    """The active key a presented token belongs to."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    async with db.read() as conn:
        key = await api.key_by_hash(conn, token_hash(token))
    return key if key is not None and key.active else None


def covers(key: ApiKey, village_code: str) -> bool:
    return village_code.startswith(key.area)


class RateLimiter:
    """Token buckets in memory: ``per_minute`` requests a minute, in bursts of at most that many."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic, max_buckets: int = 50_000) -> None:
        self._monotonic = monotonic
        self._buckets: dict[str, tuple[float, float]] = {}
        self._max_buckets = max_buckets

    def take(self, who: str, per_minute: int) -> int:
        """0 when the request may go ahead; otherwise whole seconds until one would."""
        now = self._monotonic()
        rate = per_minute / 60.0
        tokens, at = self._buckets.get(who, (float(per_minute), now))
        tokens = min(float(per_minute), tokens + (now - at) * rate)
        if tokens >= 1.0:
            self._buckets[who] = (tokens - 1.0, now)
            if len(self._buckets) > self._max_buckets:
                self._forget_idle(now)
            return 0
        self._buckets[who] = (tokens, now)
        return max(1, math.ceil((1.0 - tokens) / rate))

    def _forget_idle(self, now: float) -> None:
        """Buckets untouched for ten minutes are full again: forgetting them changes nothing."""
        for who, (_tokens, at) in list(self._buckets.items()):
            if now - at > 600:
                del self._buckets[who]
