"""First-response targets: how long a ticket of each priority may wait for its first reply,
and whether a ticket in the queue is within that time ("due") or past it ("overdue").

Targets are counted in calendar hours from when the ticket was opened (⚠ no business-hours
calendar yet); a target of 0 hours means "no target" for that priority.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from .models import Ticket

DEFAULT_HOURS = {"urgent": 1, "high": 4, "medium": 8, "low": 24}


@dataclass(frozen=True)
class ResponseTarget:
    """The first-response deadline of one ticket and where it stands at ``now``."""

    due_at: datetime
    overdue: bool

    @property
    def state(self) -> str:
        """``overdue`` or ``due`` (a CSS class and a label key)."""
        return "overdue" if self.overdue else "due"


def first_response_target(
    ticket: Ticket, hours: Mapping[str, int], now: datetime
) -> ResponseTarget | None:
    """The first-response target of ``ticket``, or None when it has had its first reply, is
    closed, or its priority has no target."""
    if ticket.first_response_at is not None or ticket.status == "closed":
        return None
    limit = hours.get(ticket.priority, 0)
    if limit <= 0:
        return None
    due_at = ticket.created_at + timedelta(hours=limit)
    return ResponseTarget(due_at=due_at, overdue=now > due_at)
