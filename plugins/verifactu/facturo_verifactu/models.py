"""Tables of the VERI*FACTU plugin: the append-only record ledger and one chain head per issuer.

A record row is never deleted and its chained fields never change; only the submission state
(status, AEAT answer, attempts) moves. Amounts, dates and the generation timestamp are kept as
the exact strings that went into the huella, so the chain can be recomputed byte for byte.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from facturo.plugin import Base, UTCDateTime, utcnow

RECORD_KINDS = ("alta", "anulacion")
RECORD_STATUSES = ("pending", "accepted", "accepted_with_errors", "rejected", "retry")


class ChainHead(Base):
    """The end of one issuer's chain; its row is locked while a record is appended."""

    __tablename__ = "verifactu_chain_heads"

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_nif: Mapped[str] = mapped_column(String(9), unique=True)
    last_sequence: Mapped[int] = mapped_column(Integer, default=0)
    last_record_id: Mapped[int | None] = mapped_column(Integer)
    last_hash: Mapped[str | None] = mapped_column(String(64))
    next_send_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_wait_seconds: Mapped[int | None] = mapped_column(Integer)


class ChainRecord(Base):
    """One registro de alta or de anulación, in the issuer's chain at ``sequence``."""

    __tablename__ = "verifactu_records"
    __table_args__ = (
        UniqueConstraint("issuer_nif", "sequence"),
        UniqueConstraint("issuer_nif", "kind", "number", "revision"),
        Index("ix_verifactu_records_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_nif: Mapped[str] = mapped_column(String(9))
    sequence: Mapped[int] = mapped_column(Integer)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    invoice_type: Mapped[str | None] = mapped_column(String(2))
    number: Mapped[str] = mapped_column(String(60))
    #: 0 for the first record of an invoice and kind; re-sends (subsanación) count up.
    revision: Mapped[int] = mapped_column(Integer, default=0)
    issue_date: Mapped[date] = mapped_column(Date)
    tax_total: Mapped[str | None] = mapped_column(String(20))
    total: Mapped[str | None] = mapped_column(String(20))
    previous_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    generated_at: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(24), default="pending")
    error_code: Mapped[int | None] = mapped_column(Integer)
    error_description: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    csv: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Reconciliation(Base):
    """One comparison of a month's records at the AEAT (query service) with the local chain.

    ``status`` is ok, differences or error (the query failed; ``error`` says why).
    """

    __tablename__ = "verifactu_reconciliations"
    __table_args__ = (
        Index("ix_verifactu_reconciliations_period", "issuer_nif", "year", "month"),
        CheckConstraint("month BETWEEN 1 AND 12", name="month_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_nif: Mapped[str] = mapped_column(String(9))
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[str] = mapped_column(String(16))
    aeat_records: Mapped[int] = mapped_column(Integer, default=0)
    local_records: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")


class Difference(Base):
    """A difference a reconciliation found for one invoice (``problem`` names its kind)."""

    __tablename__ = "verifactu_differences"

    id: Mapped[int] = mapped_column(primary_key=True)
    reconciliation_id: Mapped[int] = mapped_column(
        # Named here: the conventional name is longer than PostgreSQL's 63 characters.
        ForeignKey(
            "verifactu_reconciliations.id", name="fk_verifactu_differences_reconciliation_id"
        ),
        index=True,
    )
    number: Mapped[str] = mapped_column(String(60))
    issue_date: Mapped[str] = mapped_column(String(10))
    problem: Mapped[str] = mapped_column(String(32))
    local_value: Mapped[str] = mapped_column(Text, default="")
    aeat_value: Mapped[str] = mapped_column(Text, default="")
