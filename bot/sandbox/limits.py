"""Telegram's flood limits as token buckets.

"About 1 message per second" in a private chat is read as a sustained rate with a small burst:
a bot may answer a tap with two or three messages at once, as on Telegram, but not keep sending
faster than one a second. Groups: 20 a minute; the bot overall: 30 a second.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field


@dataclass
class Bucket:
    rate: float  # tokens per second
    burst: float
    tokens: float = -1.0
    stamp: float = field(default_factory=time.monotonic)

    def take(self, now: float) -> float:
        """Take one token; returns 0, or the seconds until one is available (nothing taken)."""
        if self.tokens < 0:
            self.tokens = self.burst
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class Limits:
    enabled: bool = True
    private_per_second: float = 1.0
    private_burst: float = 4.0
    group_per_minute: float = 20.0
    global_per_second: float = 30.0

    def as_dict(self) -> dict[str, float | bool]:
        return {
            "enabled": self.enabled,
            "private_per_second": self.private_per_second,
            "private_burst": self.private_burst,
            "group_per_minute": self.group_per_minute,
            "global_per_second": self.global_per_second,
        }


class FloodControl:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._buckets: dict[tuple[int, int], Bucket] = {}

    def configure(self, **changes: float | bool) -> None:
        for name, value in changes.items():
            setattr(self.limits, name, value)
        self._buckets.clear()

    def check(self, bot_id: int, chat_id: int, *, group: bool) -> int:
        """0 when the message may go; otherwise the retry_after (whole seconds) to report."""
        if not self.limits.enabled:
            return 0
        now = time.monotonic()
        overall = self._bucket((bot_id, 0), self.limits.global_per_second, self.limits.global_per_second)
        if group:
            per_minute = self.limits.group_per_minute
            chat = self._bucket((bot_id, chat_id), per_minute / 60, per_minute)
        else:
            chat = self._bucket((bot_id, chat_id), self.limits.private_per_second, self.limits.private_burst)
        wait_chat = chat.take(now)
        if wait_chat:
            return max(1, math.ceil(wait_chat))
        wait_all = overall.take(now)
        if wait_all:
            chat.tokens += 1  # the chat's token was not used after all
            return max(1, math.ceil(wait_all))
        return 0

    def _bucket(self, key: tuple[int, int], rate: float, burst: float) -> Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = Bucket(rate=rate, burst=max(1.0, burst))
        return bucket
