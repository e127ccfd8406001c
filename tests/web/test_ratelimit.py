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
