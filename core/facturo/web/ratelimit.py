"""Rate limits with the ``limits`` library: Redis when configured, else in memory."""

from __future__ import annotations

from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int


class RateLimiter:
    """Named limits such as ``"5/minute"`` checked per key (an IP, an email, a licence key)."""

    def __init__(self, storage_uri: str = "memory://") -> None:
        self.storage = storage_from_string(storage_uri)
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
        import time

        return Verdict(False, max(1, int(stats.reset_time - time.time()) + 1))

    def reset(self) -> None:
        """Forget every counter (tests)."""
        self.storage.reset()
