"""What a billing run did (or, with ``dry_run``, would do)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from facturo.billing.collection import CollectionReport

REPORT_SAMPLE = 200


@dataclass
class RunReport:
    """What a billing run did (or, with ``dry_run``, would do)."""

    on: date
    dry_run: bool = False
    renewals: list[str] = field(default_factory=list)  # the first REPORT_SAMPLE of them
    renewal_count: int = 0
    services_billed: int = 0
    reminders: int = 0
    overdue_notices: int = 0
    suspended: list[int] = field(default_factory=list)
    terminated: list[int] = field(default_factory=list)
    #: What charging renewals to saved payment methods did (None on a dry run).
    collection: CollectionReport | None = None

    def add_renewal(self, description: str, services: int) -> None:
        """Count one renewal document (keeping only a sample of descriptions in memory)."""
        self.renewal_count += 1
        self.services_billed += services
        if len(self.renewals) < REPORT_SAMPLE:
            self.renewals.append(description)

    def add_renewals(self, descriptions: list[str], services: int) -> None:
        """Count renewal documents in bulk: one per description, ``services`` in all."""
        self.renewal_count += len(descriptions)
        self.services_billed += services
        room = REPORT_SAMPLE - len(self.renewals)
        if room > 0:
            self.renewals.extend(descriptions[:room])

    def summary(self) -> str:
        verb = "would create" if self.dry_run else "created"
        return (
            f"{self.on}: {verb} {self.renewal_count} renewal documents for "
            f"{self.services_billed} services; {self.reminders} reminders; "
            f"{self.overdue_notices} overdue notices; {len(self.suspended)} suspended; "
            f"{len(self.terminated)} terminated"
        ) + (
            f"; {self.collection.summary()}"
            if self.collection is not None and self.collection.charged
            else ""
        )


Progress = Callable[[int], None]
