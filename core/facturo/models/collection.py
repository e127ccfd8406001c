"""Collecting renewals without the customer acting: who collects for a customer (a saved
card, later a direct-debit mandate) and every charge attempt made on a renewal proforma."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from facturo.db.base import Base
from facturo.db.types import UTCDateTime, utcnow

#: ``charging`` is claimed and at the gateway; ``unknown`` means the answer was lost (the
#: gateway's reconciliation settles it); the others are final for that attempt.
ATTEMPT_STATES = ("charging", "paid", "declined", "unusable", "error", "unknown", "skipped")


class CollectionMethod(Base):
    """The plugin (gateway) that collects a customer's renewals, with a label people read
    ("Visa ····0004"). One per customer; the plugin sets and clears it."""

    __tablename__ = "collection_methods"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    gateway: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(80), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CollectionAttempt(Base):
    """One charge of a renewal proforma: ``attempt`` 1 is the first charge, later numbers the
    retries of the dunning schedule. Unique on (document, attempt), so two billing runs can
    never charge the same attempt twice; an attempt is claimed (inserted) before the gateway
    is called."""

    __tablename__ = "collection_attempts"
    __table_args__ = (
        UniqueConstraint("document_id", "attempt"),
        CheckConstraint("attempt >= 1", name="attempt_positive"),
        CheckConstraint(
            "status IN ('charging', 'paid', 'declined', 'unusable', 'error', 'unknown', 'skipped')",
            name="status_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    gateway: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="charging")
    #: The gateway's own reference of the charge (a Redsys order number).
    reference: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    #: The business date on which the next attempt is due (None: no more attempts).
    retry_on: Mapped[date | None] = mapped_column(Date)
    charged_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
