"""People who log in: customers and staff users."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from facturo.db.base import Base
from facturo.db.types import Money, UTCDateTime, utcnow
from facturo.text import fold

STAFF_ROLES = ("admin", "billing", "support")


class Customer(Base):
    """A customer account: contact and billing data, login, credit balance."""

    __tablename__ = "customers"
    # Declared for readers; migration 0004 creates it (a trigger on SQLite).
    __table_args__ = (CheckConstraint("credit_balance >= 0", name="credit_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    language: Mapped[str] = mapped_column(String(5), default="es")
    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str] = mapped_column(String(200), default="")
    tax_id: Mapped[str] = mapped_column(String(32), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    region: Mapped[str] = mapped_column(String(100), default="")
    country: Mapped[str] = mapped_column(String(2), default="ES")
    phone: Mapped[str] = mapped_column(String(40), default="")
    credit_balance: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)
    recovery_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Name, company, email, tax id and city folded (no accents, no case), kept by the ORM on
    # every insert and update, so that staff search finds "Lucía" by typing "lucia".
    search_text: Mapped[str] = mapped_column(Text, default="")

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def display_name(self) -> str:
        return self.company or self.name

    def snapshot(self) -> dict[str, Any]:
        """The customer data frozen on a document when it is issued."""
        return {
            "id": self.id,
            "name": self.name,
            "company": self.company,
            "tax_id": self.tax_id,
            "email": self.email,
            "address": self.address,
            "postal_code": self.postal_code,
            "city": self.city,
            "region": self.region,
            "country": self.country,
        }


class StaffUser(Base):
    """A member of staff with one role: admin, billing or support."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)
    recovery_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    notes: Mapped[str] = mapped_column(Text, default="")


SEARCHED_FIELDS = ("name", "company", "email", "tax_id", "city")


def customer_search_text(customer: Customer) -> str:
    """What staff search matches a customer by (see ``facturo.text.fold``)."""
    return fold(" | ".join(str(getattr(customer, name) or "") for name in SEARCHED_FIELDS))


@event.listens_for(Customer, "before_insert")
@event.listens_for(Customer, "before_update")
def _keep_search_text(_mapper: Any, _connection: Any, customer: Customer) -> None:
    customer.search_text = customer_search_text(customer)
