"""Rate limits: a moving window per key, with the wait until the next allowed hit."""

from __future__ import annotations

import threading
import time

from facturo.web.ratelimit import RateLimiter


def test_limits_per_key_and_says_when_to_retry() -> None:
    limiter = RateLimiter()
    assert [limiter.hit("3/minute", "ip", "1.2.3.4").allowed for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]
    refused = limiter.hit("3/minute", "ip", "1.2.3.4")
    assert not refused.allowed and 1 <= refused.retry_after <= 61
    assert limiter.hit("3/minute", "ip", "5.6.7.8").allowed


def test_memory_storage_starts_no_timer_threads_under_load(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The stock in-memory storage starts a timer thread every ~10 ms of hits; ours none."""
    limiter = RateLimiter()
    started: list[object] = []
    original = threading.Timer.start
    monkeypatch.setattr(
        threading.Timer, "start", lambda timer: (started.append(timer), original(timer))
    )
    for number in range(40):
        limiter.hit("1000/second", "key", str(number))
        time.sleep(0.003)
    assert started == []


def test_hits_that_left_the_window_are_dropped_and_idle_keys_forgotten(
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    from facturo.web import ratelimit

    clock = [1000.0]
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: clock[0])
    limiter = RateLimiter()
    assert all(limiter.hit("100000/hour", "ip", "1.2.3.4").allowed for _ in range(50_000))
    clock[0] += 3600  # the whole window has passed: every earlier hit left it
    assert limiter.hit("2/hour", "ip", "9.9.9.9").allowed
    assert limiter.hit("100000/hour", "ip", "1.2.3.4").allowed
    window = limiter._memory._hits  # type: ignore[union-attr]
    assert len(window["100000/hour|ip|1.2.3.4"]) == 1
    clock[0] += 2 * 3600 + ratelimit.SWEEP_INTERVAL_SECONDS
    assert limiter.hit("1/second", "ip", "5.5.5.5").allowed
    assert list(window) == ["1/second|ip|5.5.5.5"]  # idle keys were swept


def test_retry_after_counts_from_the_oldest_hit_in_the_window(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from facturo.web import ratelimit

    clock = [500.0]
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: clock[0])
    limiter = RateLimiter()
    assert limiter.hit("2/minute", "k").allowed
    clock[0] += 20
    assert limiter.hit("2/minute", "k").allowed
    clock[0] += 10
    refused = limiter.hit("2/minute", "k")
    assert not refused.allowed and refused.retry_after == 31  # the first hit leaves at +60 s
    clock[0] += 30.5
    assert limiter.hit("2/minute", "k").allowed
