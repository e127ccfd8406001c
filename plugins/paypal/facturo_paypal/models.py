"""The plugin's tables: one row per PayPal order (checkout attempt) and per PayPal refund."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from facturo.plugin import Base, Money, UTCDateTime, utcnow

ATTEMPT_STATES = ("created", "approved", "completed", "pending", "denied", "refunded")


class CheckoutAttempt(Base):
    """A PayPal order created for one document; unique on the order id and the capture id."""

    __tablename__ = "paypal_checkout_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    paypal_order_id: Mapped[str] = mapped_column(String(64), unique=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="created")
    capture_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PayPalRefund(Base):
    """A refund or reversal PayPal reported or we requested; unique on PayPal's id so that a
    staff refund and its webhook produce one credit note."""

    __tablename__ = "paypal_refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[str] = mapped_column(String(80), unique=True)
    capture_id: Mapped[str] = mapped_column(String(64), index=True)
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    source: Mapped[str] = mapped_column(String(16))  # staff, webhook
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
