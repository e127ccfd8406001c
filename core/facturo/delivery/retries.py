"""When the outbox tries again: exponential backoff, capped, for a configured number of hours.

The number of attempts follows from the settings (``[delivery]``): with the defaults (60 s
doubling up to one hour, for 96 hours) a message is tried about a hundred times over four
days before it is kept as ``failed``; a staff retry starts the count again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from facturo.context import Context


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff ``base_seconds · 2^(n-1)`` capped at ``max_delay_seconds``, for ``retry_for``."""

    base_seconds: int
    max_delay_seconds: int
    retry_for: timedelta

    def delay(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed attempt (1 for the first)."""
        exponent = min(max(attempts - 1, 0), 40)
        return timedelta(seconds=min(self.base_seconds * 2**exponent, self.max_delay_seconds))

    @property
    def max_attempts(self) -> int:
        """Attempts whose waits add up to ``retry_for``: after that many, give up."""
        waited, attempts = timedelta(0), 1
        cap = timedelta(seconds=self.max_delay_seconds)
        while waited < self.retry_for and self.delay(attempts) < cap:  # the doubling part
            waited += self.delay(attempts)
            attempts += 1
        if waited < self.retry_for:  # then one capped wait after another
            attempts += math.ceil((self.retry_for - waited) / cap)
        return attempts

    def gives_up(self, attempts: int) -> bool:
        """True when a message that failed ``attempts`` times is kept as failed."""
        return attempts >= self.max_attempts


def retry_policy(ctx: Context) -> RetryPolicy:
    """The installation's policy, from ``[delivery]``."""
    settings = ctx.settings.delivery
    return RetryPolicy(
        base_seconds=settings.retry_base_seconds,
        max_delay_seconds=settings.retry_max_delay_seconds,
        retry_for=timedelta(hours=settings.retry_for_hours),
    )
