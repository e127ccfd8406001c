"""Rate limits: a moving window per key, in memory or (through ``limits``) in Redis.

A limit such as ``"5/minute"`` allows a hit when fewer than 5 hits were allowed for the same
key in the last minute. In memory each key keeps the times of its allowed hits in a deque:
a hit drops the times that left the window and appends its own, so it costs the same whatever
the limit. (The ``limits`` library's memory storage prepends to a list, a cost that grows with
the limit, and starts a timer thread to expire old entries.) With a ``redis://`` storage URI
the ``limits`` library's moving window is used, shared by every web process.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

#: How often (at most) keys whose window emptied are forgotten.
SWEEP_INTERVAL_SECONDS = 60.0


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int


ALLOWED = Verdict(True, 0)


class MemoryMovingWindow:
    """Moving-window counters of one process, safe to share between threads."""

    def __init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._longest = 0
        self._lock = threading.Lock()
        self._next_sweep = time.monotonic() + SWEEP_INTERVAL_SECONDS

    def hit(self, key: str, amount: int, seconds: int) -> float:
        """Count a hit on ``key`` if fewer than ``amount`` were counted in the last ``seconds``;
        return 0.0 when counted, else the seconds until a hit will be allowed (> 0)."""
        now = time.monotonic()
        with self._lock:
            if seconds > self._longest:
                self._longest = seconds
            if now >= self._next_sweep:
                self._sweep(now)
            times = self._hits.get(key)
            if times is None:
                times = self._hits[key] = deque()
            start = now - seconds
            while times and times[0] <= start:
                times.popleft()
            if len(times) >= amount:
                return max(times[0] - start, 1e-6)
            times.append(now)
            return 0.0

    def peek(self, key: str, amount: int, seconds: int) -> float:
        """What ``hit`` would answer, without counting anything."""
        now = time.monotonic()
        with self._lock:
            times = self._hits.get(key)
            start = now - seconds
            live = [t for t in times if t > start] if times else []
            if len(live) >= amount:
                return max(live[0] - start, 1e-6)
            return 0.0

    def reset(self) -> None:
        """Forget every counter."""
        with self._lock:
            self._hits.clear()

    def _sweep(self, now: float) -> None:
        # A key whose newest hit left even the longest window in use holds nothing that counts.
        horizon = now - self._longest
        for key in [key for key, times in self._hits.items() if not times or times[-1] <= horizon]:
            del self._hits[key]
        self._next_sweep = now + SWEEP_INTERVAL_SECONDS


class RateLimiter:
    """Named limits such as ``"5/minute"`` checked per key (an IP, an email, a licence key)."""

    def __init__(self, storage_uri: str = "memory://", key_prefix: str = "facturo") -> None:
        self._items: dict[str, RateLimitItem] = {}
        self._windows: dict[str, tuple[int, int]] = {}
        self._memory: MemoryMovingWindow | None = None
        self._shared: MovingWindowRateLimiter | None = None
        if storage_uri.startswith("memory://"):
            self._memory = MemoryMovingWindow()
        else:
            self._shared = MovingWindowRateLimiter(
                storage_from_string(storage_uri, key_prefix=key_prefix)
            )

    def hit(self, limit: str, *keys: str) -> Verdict:
        """Count one hit against ``limit`` for ``keys``; say whether it is allowed and, if
        not, how many seconds until it will be."""
        return self._ask(limit, keys, count=True)

    def test(self, limit: str, *keys: str) -> Verdict:
        """What ``hit`` would answer now, without counting the hit."""
        return self._ask(limit, keys, count=False)

    def _ask(self, limit: str, keys: tuple[str, ...], count: bool) -> Verdict:
        if self._memory is not None:
            window = self._windows.get(limit)
            if window is None:
                parsed = parse(limit)
                window = self._windows[limit] = (parsed.amount, parsed.get_expiry())
            key = f"{limit}|{'|'.join(keys)}"
            wait = self._memory.hit(key, *window) if count else self._memory.peek(key, *window)
            return ALLOWED if wait == 0.0 else Verdict(False, max(1, int(wait) + 1))
        item = self._items.get(limit)
        if item is None:
            item = self._items[limit] = parse(limit)
        assert self._shared is not None
        allowed = self._shared.hit(item, *keys) if count else self._shared.test(item, *keys)
        if allowed:
            return ALLOWED
        stats = self._shared.get_window_stats(item, *keys)
        return Verdict(False, max(1, int(stats.reset_time - time.time()) + 1))

    def reset(self) -> None:
        """Forget every counter (tests)."""
        if self._memory is not None:
            self._memory.reset()
        else:
            assert self._shared is not None
            self._shared.storage.reset()
