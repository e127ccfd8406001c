"""Payments, refunds and the raw log of gateway notifications."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from facturo.db.base import Base
from facturo.db.types import Money, UTCDateTime, utcnow
from facturo.models.documents import Document

PAYMENT_STATES = ("applied", "needs_review", "refunded", "dismissed")


class Payment(Base):
    """Money received; idempotent on (gateway, gateway_txn_id)."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("gateway", "gateway_txn_id"),
        Index("ix_payments_customer_id_paid_at", "customer_id", "paid_at"),
        Index("ix_payments_paid_at_id", "paid_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    gateway: Mapped[str] = mapped_column(String(32))
    gateway_txn_id: Mapped[str] = mapped_column(String(128))
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    credited: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    refunded: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="applied")
    review_reason: Mapped[str | None] = mapped_column(String(200))
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: ISO country of the card issuer or the payer's account, as the gateway reports it.
    payer_country: Mapped[str | None] = mapped_column(String(2))
    #: The day the money arrived when only the day is known (a bank transfer's value date):
    #: shown as a date, never as an hour; ``paid_at`` then only orders and filters it.
    value_date: Mapped[date | None] = mapped_column(Date)
    #: What the gateway told about the means of payment, shown to people: ``card_brand``
    #: ("Visa") and ``card_last4`` ("4242") when it returns them.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    document: Mapped[Document | None] = relationship()


class Refund(Base):
    """Money returned against a payment, documented by a credit note."""

    __tablename__ = "refunds"
    __table_args__ = (UniqueConstraint("gateway", "gateway_refund_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    credit_note_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    gateway: Mapped[str] = mapped_column(String(32))
    gateway_refund_id: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="completed")
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    document: Mapped[Document] = relationship(foreign_keys=[document_id])
    credit_note: Mapped[Document | None] = relationship(foreign_keys=[credit_note_id])
    payment: Mapped[Payment | None] = relationship()


class GatewayNotification(Base):
    """A gateway's server-to-server message, stored raw before it is processed."""

    __tablename__ = "gateway_notifications"
    __table_args__ = (UniqueConstraint("gateway", "event_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway: Mapped[str] = mapped_column(String(32))
    event_key: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="received")
    detail: Mapped[str] = mapped_column(Text, default="")
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
