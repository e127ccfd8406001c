"""The plugin's tables: mandates, pre-notifications, collections and their items."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from facturo.plugin import Base, Money, UTCDateTime, utcnow

SCHEMES = ("CORE", "B2B")
MANDATE_STATES = ("active", "revoked")
COLLECTION_STATES = ("open", "sent", "settled")
ITEM_STATES = ("pending", "collected", "returned")


class Mandate(Base):
    """A SEPA direct debit mandate a customer signed in the client area."""

    __tablename__ = "sepa_mandates"
    __table_args__ = (
        CheckConstraint("scheme IN ('CORE', 'B2B')", name="scheme"),
        CheckConstraint("status IN ('active', 'revoked')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    reference: Mapped[str] = mapped_column(String(35), unique=True)
    debtor_name: Mapped[str] = mapped_column(String(70))
    iban: Mapped[str] = mapped_column(String(34))
    bic: Mapped[str] = mapped_column(String(11), default="")
    scheme: Mapped[str] = mapped_column(String(4))
    signed_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def masked_iban(self) -> str:
        """The IBAN with all but its country and last four characters hidden."""
        return f"{self.iban[:4]} •••• {self.iban[-4:]}"


class PreNotification(Base):
    """The pre-notification sent for a proforma: once per proforma (unique)."""

    __tablename__ = "sepa_prenotifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), unique=True)
    mandate_id: Mapped[int] = mapped_column(ForeignKey("sepa_mandates.id"))
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    collect_on: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Collection(Base):
    """A pain.008 file: the due proformas of one scheme collected on one date."""

    __tablename__ = "sepa_collections"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'sent', 'settled')", name="status"),
        CheckConstraint("scheme IN ('CORE', 'B2B')", name="scheme"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(35), unique=True)
    scheme: Mapped[str] = mapped_column(String(4))
    collection_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8), default="open")
    total: Mapped[Decimal] = mapped_column(Money())
    count: Mapped[int] = mapped_column(Integer)
    xml: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    items: Mapped[list[CollectionItem]] = relationship(
        back_populates="collection", order_by="CollectionItem.id"
    )


class CollectionItem(Base):
    """One debit of a collection. ``open_document_id`` equals ``document_id`` while the debit
    stands and is cleared when it is returned: its unique index keeps a proforma in at most
    one live collection, whatever the code does."""

    __tablename__ = "sepa_collection_items"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'collected', 'returned')", name="status"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "(status = 'returned' AND open_document_id IS NULL)"
            " OR (status <> 'returned' AND open_document_id = document_id)",
            name="open_document",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("sepa_collections.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    open_document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id"), unique=True, nullable=True
    )
    mandate_id: Mapped[int] = mapped_column(ForeignKey("sepa_mandates.id"))
    end_to_end_id: Mapped[str] = mapped_column(String(35), unique=True)
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    return_reason: Mapped[str] = mapped_column(String(8), default="")
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))

    collection: Mapped[Collection] = relationship(back_populates="items")
    mandate: Mapped[Mandate] = relationship()
