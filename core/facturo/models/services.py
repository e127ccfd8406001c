"""A customer's instance of a product, billed on its own cycle."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from facturo.db.base import Base
from facturo.db.types import Money, UTCDateTime, utcnow
from facturo.models.accounts import Customer
from facturo.models.catalog import Product

SERVICE_STATES = ("pending", "active", "suspended", "terminated", "cancelled")


class Service(Base):
    """A service: status ``pending → active ⇄ suspended → terminated`` (or ``cancelled``)."""

    __tablename__ = "services"
    __table_args__ = (Index("ix_services_status_next_due_date", "status", "next_due_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    cycle: Mapped[str] = mapped_column(String(16))
    price: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    next_due_date: Mapped[date | None] = mapped_column(Date)
    provisioner_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    suspension_reason: Mapped[str | None] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    terminated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    customer: Mapped[Customer] = relationship()
    product: Mapped[Product] = relationship()
    parent: Mapped[Service | None] = relationship(remote_side=[id], back_populates="addons")
    addons: Mapped[list[Service]] = relationship(back_populates="parent")
