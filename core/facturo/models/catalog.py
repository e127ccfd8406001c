"""What is sold: products (and add-ons, which are products with a parent) and their prices."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from facturo.db.base import Base
from facturo.db.types import Money, UTCDateTime, utcnow

CYCLES = {
    "monthly": 1,
    "quarterly": 3,
    "semiannual": 6,
    "annual": 12,
    "biennial": 24,
}


class Product(Base):
    """A product or, when ``parent_id`` is set, an add-on of that product."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_es: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_es: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    provisioner: Mapped[str | None] = mapped_column(String(64))
    provisioner_options: Mapped[str] = mapped_column(Text, default="")
    tax_category: Mapped[str] = mapped_column(String(32), default="digital_service")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    prices: Mapped[list[ProductPrice]] = relationship(
        back_populates="product", order_by="ProductPrice.months", cascade="all, delete-orphan"
    )
    parent: Mapped[Product | None] = relationship(remote_side=[id], back_populates="addons")
    addons: Mapped[list[Product]] = relationship(
        back_populates="parent", order_by="Product.position"
    )

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_es

    def description(self, language: str) -> str:
        return self.description_en if language == "en" else self.description_es

    def price_for(self, cycle: str, currency: str) -> ProductPrice | None:
        """Return the price row for ``cycle`` in ``currency``, or None."""
        for price in self.prices:
            if price.cycle == cycle and price.currency == currency:
                return price
        return None


class ProductPrice(Base):
    """The price of a product for one billing cycle in one currency."""

    __tablename__ = "product_prices"
    __table_args__ = (UniqueConstraint("product_id", "cycle", "currency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    cycle: Mapped[str] = mapped_column(String(16))
    months: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    amount: Mapped[Decimal] = mapped_column(Money())

    product: Mapped[Product] = relationship(back_populates="prices")
