"""Rate limits with the ``limits`` library: Redis when configured, else in memory."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

EXPIRY_INTERVAL_SECONDS = 1.0


class InlineExpiryMemoryStorage(MemoryStorage):
    """The ``limits`` in-memory storage, expiring old entries inline at most once a second.

    The stock storage starts a 10 ms timer thread on every hit whose previous timer has ended;
    under load that is ~100 thread starts a second per process, stalling the event loop of
    hot endpoints (licence validation). Expiring inline keeps memory bounded without threads.
    """

    def __init__(self, uri: str | None = None, **options: Any) -> None:
        super().__init__(uri, **options)
        self._last_expiry = time.monotonic()

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the private hook
        now = time.monotonic()
        if now - self._last_expiry >= EXPIRY_INTERVAL_SECONDS:
            self._last_expiry = now
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int


class RateLimiter:
    """Named limits such as ``"5/minute"`` checked per key (an IP, an email, a licence key)."""

    def __init__(self, storage_uri: str = "memory://", key_prefix: str = "facturo") -> None:
        self.storage = (
            InlineExpiryMemoryStorage()
            if storage_uri.startswith("memory://")
            else storage_from_string(storage_uri, key_prefix=key_prefix)
        )
        self.limiter = MovingWindowRateLimiter(self.storage)
        self._items: dict[str, RateLimitItem] = {}

    def hit(self, limit: str, *keys: str) -> Verdict:
        """Count one hit against ``limit`` for ``keys``; say whether it is allowed and, if
        not, how many seconds until it will be."""
        item = self._items.get(limit)
        if item is None:
            item = self._items[limit] = parse(limit)
        if self.limiter.hit(item, *keys):
            return Verdict(True, 0)
        stats = self.limiter.get_window_stats(item, *keys)
        return Verdict(False, max(1, int(stats.reset_time - time.time()) + 1))

    def reset(self) -> None:
        """Forget every counter (tests)."""
        self.storage.reset()
