"""The plugin's table: one row per attempt at paying a document."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from facturo.plugin import Base, Money, UTCDateTime, utcnow


class Attempt(Base):
    """What the customer was sent to pay. ``reference`` is unique and becomes the payment's
    ``gateway_txn_id``: a repeated notification can never record a second payment."""

    __tablename__ = "examplepay_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, paid, failed
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
