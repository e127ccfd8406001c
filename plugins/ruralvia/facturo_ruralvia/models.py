"""The plugin's table: one row per attempt at paying a document by card."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from facturo.plugin import Base, Money, UTCDateTime, utcnow

ATTEMPT_STATES = ("pending", "approved", "failed")


class CardAttempt(Base):
    """A Redsys order: what the customer was asked to pay and what the bank answered.

    ``order_number`` is unique: it is the Redsys ``Ds_Order`` and the payment's
    ``gateway_txn_id``, so a repeated notification can never record a second payment.
    """

    __tablename__ = "ruralvia_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_number: Mapped[str] = mapped_column(String(12), unique=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    merchant_code: Mapped[str] = mapped_column(String(9))
    terminal: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    response_code: Mapped[str | None] = mapped_column(String(8))
    response_es: Mapped[str] = mapped_column(Text, default="")
    response_en: Mapped[str] = mapped_column(Text, default="")
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def meaning(self, language: str) -> str:
        """The bank's answer in ``language`` (es or en)."""
        return self.response_es if language == "es" else self.response_en
