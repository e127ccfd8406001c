"""Evidence kept for the tax authority and the consumer: how each document's VAT was decided
and where its customer is (place of supply), the consumer's consent to immediate supply, and
withdrawals from a contract."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from facturo.db.base import Base
from facturo.db.types import Money, UTCDateTime, utcnow

VAT_STATES = ("", "valid", "invalid", "unknown")


class TaxEvidence(Base):
    """Why a document carries its VAT treatment, one row per document.

    The VAT-number check (``vat_*``: status, proof number, when, who answered) is refreshed
    while the document is a proforma and frozen when it is numbered. The place-of-supply
    evidence (billing country, and the country the paying card or PayPal account belongs to)
    is recorded at numbering; ``conflict`` flags an invoice whose two disagree for staff review
    (``reviewed_*``).
    """

    __tablename__ = "tax_evidence"
    __table_args__ = (
        CheckConstraint(
            "vat_status IN ('', 'valid', 'invalid', 'unknown')", name="vat_status_known"
        ),
        CheckConstraint("NOT conflict OR payment_country <> billing_country", name="conflict"),
        Index("ix_tax_evidence_conflict_reviewed", "conflict", "reviewed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), unique=True)
    vat_number: Mapped[str] = mapped_column(String(32), default="")
    vat_status: Mapped[str] = mapped_column(String(16), default="")
    vat_reference: Mapped[str] = mapped_column(String(64), default="")
    vat_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    vat_detail: Mapped[str] = mapped_column(Text, default="")
    vat_source: Mapped[str] = mapped_column(String(32), default="")
    billing_country: Mapped[str] = mapped_column(String(2), default="")
    payment_country: Mapped[str] = mapped_column(String(2), default="")
    payment_source: Mapped[str] = mapped_column(String(32), default="")
    conflict: Mapped[bool] = mapped_column(Boolean, default=False)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by: Mapped[str] = mapped_column(String(64), default="")
    review_note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OrderTerms(Base):
    """What the consumer agreed to when ordering: the request for immediate supply and the
    acknowledgement of losing the right of withdrawal (TRLGDCU art. 103 m), or not."""

    __tablename__ = "order_terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    immediate_supply: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    text_version: Mapped[str] = mapped_column(String(32), default="")
    statement: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(5), default="es")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Withdrawal(Base):
    """A consumer's withdrawal from a contract (one per order): cancelled before payment, or
    refunded through the gateway with a credit note."""

    __tablename__ = "withdrawals"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("outcome IN ('cancelled', 'refunded')", name="outcome_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    outcome: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    credit_note_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id"))
    statement: Mapped[str] = mapped_column(Text, default="")
