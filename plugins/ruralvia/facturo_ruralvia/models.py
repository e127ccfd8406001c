"""The plugin's tables: one row per attempt at paying a document by card, and the cards
customers saved for renewals (the Redsys reference, never card data)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from facturo.plugin import Base, Money, UTCDateTime, utcnow

ATTEMPT_STATES = ("pending", "approved", "failed")
#: ``cit``: the customer pays on the payment page; ``mit``: a renewal charged to a saved card.
ATTEMPT_KINDS = ("cit", "mit")
CARD_STATES = ("active", "unusable")


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
    #: The customer asked to save the card (the request carries the COF initial flags).
    save_card: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str] = mapped_column(String(3), default="cit")
    #: The saved card a merchant-initiated charge used.
    saved_card_id: Mapped[int | None] = mapped_column(ForeignKey("ruralvia_saved_cards.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def meaning(self, language: str) -> str:
        """The bank's answer in ``language`` (es or en)."""
        return self.response_es if language == "es" else self.response_en


class SavedCard(Base):
    """A card a customer saved for renewals: the Redsys reference (``Ds_Merchant_Identifier``)
    and the Credential-on-File transaction id of the first payment, plus what people read
    (brand, last four digits, expiry). Never the card number. Unique per customer and
    reference; a deleted card's row is gone, so it can never be charged."""

    __tablename__ = "ruralvia_saved_cards"
    __table_args__ = (UniqueConstraint("customer_id", "identifier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    identifier: Mapped[str] = mapped_column(String(40))
    cof_txnid: Mapped[str] = mapped_column(String(40), default="")
    brand: Mapped[str] = mapped_column(String(32), default="")
    last4: Mapped[str] = mapped_column(String(4), default="")
    #: ``YYMM`` as Redsys sends ``Ds_ExpiryDate`` ("" when not returned).
    expiry: Mapped[str] = mapped_column(String(4), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")
    status_reason: Mapped[str] = mapped_column(Text, default="")
    #: The order of the payment that saved it.
    order_number: Mapped[str] = mapped_column(String(12), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def label(self) -> str:
        """What people read: "Visa ····0004"."""
        return " ".join(
            part for part in (self.brand, f"····{self.last4}" if self.last4 else "") if part
        )

    @property
    def expiry_text(self) -> str:
        """The expiry as MM/YY ("" when unknown)."""
        if len(self.expiry) != 4 or not self.expiry.isdigit():
            return ""
        return f"{self.expiry[2:]}/{self.expiry[:2]}"
