"""Proformas, invoices and credit notes, their lines, number series and billed periods.

One row is one bill: it is born a *proforma* (``kind="proforma"``, a ``reference`` such as
``PRO-2026-000123``) and, on full payment, becomes an *invoice* (``kind="invoice"``, a gap-free
``number`` such as ``F2026-000001``). Credit notes are their own rows. Once a document has a
number it is immutable: see :mod:`facturo.immutability`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from facturo.db.base import Base
from facturo.db.types import Money, Rate, UTCDateTime, utcnow
from facturo.models.accounts import Customer

DOCUMENT_KINDS = ("proforma", "invoice", "credit_note")
DOCUMENT_STATES = ("unpaid", "paid", "cancelled", "issued")


class Document(Base):
    """A bill (proforma, later invoice) or a credit note."""

    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_customer_id_status", "customer_id", "status"),
        Index("ix_documents_status_due_date", "status", "due_date"),
        # Partial: almost every document has no original, and a full index would tell
        # SQLite's planner that each lookup returns them all (it then scans the table).
        Index(
            "ix_documents_original_id",
            "original_id",
            sqlite_where=text("original_id IS NOT NULL"),
            postgresql_where=text("original_id IS NOT NULL"),
        ),
        # Declared for readers; migration 0004 creates it (a trigger on SQLite).
        CheckConstraint(
            "refunded_total >= 0 AND (refunded_total = 0 OR refunded_total <= total)",
            name="refunded_within_total",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="proforma")
    status: Mapped[str] = mapped_column(String(16), default="unpaid")
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    invoice_date: Mapped[date | None] = mapped_column(Date)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    subtotal: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    tax_total: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    total: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    amount_paid: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    credit_applied: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    refunded_total: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    tax_treatment: Mapped[str] = mapped_column(String(32), default="domestic")
    tax_breakdown: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    legends: Mapped[list[str]] = mapped_column(JSON, default=list)
    seller: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    customer_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    original_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16), default="order")
    language: Mapped[str] = mapped_column(String(5), default="es")
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    customer: Mapped[Customer] = relationship()
    lines: Mapped[list[DocumentLine]] = relationship(
        back_populates="document", order_by="DocumentLine.position", cascade="all, delete-orphan"
    )
    original: Mapped[Document | None] = relationship(remote_side=[id])
    #: The credit notes that correct this invoice, oldest first (read-only: a credit note is
    #: linked by setting its ``original_id``).
    credit_notes: Mapped[list[Document]] = relationship(
        foreign_keys=[original_id], viewonly=True, order_by=id
    )

    @property
    def is_issued(self) -> bool:
        """True once the document carries a number of a legal series."""
        return self.number is not None

    @property
    def balance(self) -> Decimal:
        """What is still owed: total less payments and applied credit (never negative)."""
        owed = self.total - self.amount_paid - self.credit_applied
        return owed if owed > 0 else Decimal("0.00")

    @property
    def is_payable(self) -> bool:
        """True when a customer may pay this document now: an unpaid proforma with a balance.
        The single "payable" check for the core, gateways and templates."""
        return self.kind == "proforma" and self.status == "unpaid" and self.balance > 0

    @property
    def display_number(self) -> str:
        return self.number or self.reference


class DocumentLine(Base):
    """One line of a document; ``service_id`` and ``action`` say what paying it provisions."""

    __tablename__ = "document_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"), index=True)
    action: Mapped[str | None] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("1"))
    unit_price: Mapped[Decimal] = mapped_column(Money())
    amount: Mapped[Decimal] = mapped_column(Money())
    tax_rate: Mapped[Decimal] = mapped_column(Rate(), default=Decimal("0.00"))
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)

    document: Mapped[Document] = relationship(back_populates="lines")


class NumberSeries(Base):
    """The counter of one yearly series (``kind`` proforma, invoice or credit_note)."""

    __tablename__ = "number_series"
    __table_args__ = (UniqueConstraint("kind", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class BilledPeriod(Base):
    """The natural key of a renewal: one bill per (service, period start)."""

    __tablename__ = "billed_periods"
    __table_args__ = (UniqueConstraint("service_id", "period_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    period_start: Mapped[date] = mapped_column(Date)
    # Deferrable (migration 0014): the renewal run claims a period before writing its document.
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", deferrable=True, initially="IMMEDIATE"), index=True
    )
