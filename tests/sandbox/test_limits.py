"""Flood control as token buckets: a short burst is fine, a sustained rate above the limit is not."""

from __future__ import annotations

from bot.sandbox.limits import Bucket, FloodControl, Limits


def test_a_private_chat_allows_a_burst_then_one_a_second() -> None:
    bucket = Bucket(rate=1.0, burst=4.0, stamp=100.0)
    assert [bucket.take(100.0) for _ in range(4)] == [0.0, 0.0, 0.0, 0.0]
    assert bucket.take(100.0) == 1.0  # the fifth at once must wait a second
    assert bucket.take(100.5) == 0.5
    assert bucket.take(101.0) == 0.0  # one a second keeps going for ever
    assert bucket.take(102.0) == 0.0
    assert bucket.take(102.2) > 0


def test_a_quiet_chat_earns_its_burst_back() -> None:
    bucket = Bucket(rate=1.0, burst=4.0, stamp=0.0)
    for _ in range(4):
        bucket.take(0.0)
    assert bucket.take(60.0) == 0.0
    assert [bucket.take(60.0) for _ in range(3)] == [0.0, 0.0, 0.0]  # refilled only up to the burst
    assert bucket.take(60.0) > 0


def test_groups_and_the_bot_overall_have_their_own_limits() -> None:
    flood = FloodControl(Limits(group_per_minute=20, global_per_second=30))
    assert all(flood.check(1, -5, group=True) == 0 for _ in range(20))
    assert flood.check(1, -5, group=True) == 3  # a token every three seconds
    # 30 private chats at once are fine, the 31st message in the same second is not.
    results = [flood.check(1, chat, group=False) for chat in range(1, 12)]
    assert results == [0] * 10 + [1]


def test_flood_control_can_be_switched_off() -> None:
    flood = FloodControl(Limits())
    flood.configure(enabled=False)
    assert all(flood.check(1, 7, group=False) == 0 for _ in range(1000))
