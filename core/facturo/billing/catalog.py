"""The catalog: products (and add-ons) with their prices, created, changed, retired. Audited."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from facturo import audit
from facturo.errors import FacturoError
from facturo.models import (
    Product,
    ProductPrice,
    Service,
)
from facturo.models.catalog import CYCLES

if TYPE_CHECKING:
    pass

PRODUCT_FIELDS = (
    "code",
    "name_es",
    "name_en",
    "description_es",
    "description_en",
    "provisioner",
    "provisioner_options",
    "tax_category",
    "parent_id",
    "retired",
)


class CatalogError(FacturoError):
    """A catalog change was refused; ``field`` names the offending input."""


@dataclass(frozen=True)
class PriceSpec:
    cycle: str
    amount: Decimal
    currency: str = "EUR"


def save_product(
    session: Session,
    product: Product | None,
    values: dict[str, Any],
    prices: list[PriceSpec],
    actor: str,
) -> Product:
    """Create (``product`` None) or update a product with its prices; CatalogError on bad input."""
    code = str(values.get("code") or "").strip()
    if not code:
        raise CatalogError("the code is required", field="code")
    if not str(values.get("name_es") or "").strip() or not str(values.get("name_en") or "").strip():
        raise CatalogError("the name is required in both languages", field="name_es")
    clash = session.scalar(select(Product).where(Product.code == code))
    if clash is not None and (product is None or clash.id != product.id):
        raise CatalogError("another product has that code", field="code")
    parent_id = values.get("parent_id")
    if parent_id is not None:
        parent = session.get(Product, parent_id)
        if parent is None or parent.parent_id is not None or (product and parent.id == product.id):
            raise CatalogError(
                "the parent must be an existing top-level product", field="parent_id"
            )
    for price in prices:
        if price.cycle not in CYCLES:
            raise CatalogError(f"unknown cycle {price.cycle}", field="prices")
    before = audit.snapshot(product, PRODUCT_FIELDS) if product is not None else None
    if before is not None and product is not None:
        before["prices"] = {p.cycle: str(p.amount) for p in product.prices}
    target = product or Product(code=code, name_es="", name_en="")
    for key in PRODUCT_FIELDS:
        if key in values:
            setattr(target, key, values[key])
    target.code = code
    wanted = {(p.cycle, p.currency): p for p in prices}
    for existing in list(target.prices):
        if (existing.cycle, existing.currency) not in wanted:
            target.prices.remove(existing)
    for (cycle, currency), spec in wanted.items():
        row = target.price_for(cycle, currency)
        if row is None:
            target.prices.append(
                ProductPrice(
                    cycle=cycle, months=CYCLES[cycle], currency=currency, amount=spec.amount
                )
            )
        else:
            row.amount = spec.amount
    if product is None:
        session.add(target)
    session.flush()
    after = audit.snapshot(target, PRODUCT_FIELDS)
    after["prices"] = {p.cycle: str(p.amount) for p in target.prices}
    audit.record(
        session,
        actor,
        "product.create" if product is None else "product.update",
        target,
        before=before,
        after=after,
    )
    return target


def product_in_use(session: Session, product: Product) -> bool:
    """True when a service, a document line or an add-on refers to ``product``."""
    if session.scalar(
        select(func.count()).select_from(Service).where(Service.product_id == product.id)
    ):
        return True
    if session.scalar(
        select(func.count()).select_from(Product).where(Product.parent_id == product.id)
    ):
        return True
    return False


def delete_product(session: Session, product: Product, actor: str) -> None:
    """Delete an unused product; CatalogError when in use (retire it instead)."""
    if product_in_use(session, product):
        raise CatalogError("the product is in use: retire it instead")
    audit.record(
        session, actor, "product.delete", product, before=audit.snapshot(product, PRODUCT_FIELDS)
    )
    session.delete(product)
    session.flush()


def set_retired(session: Session, product: Product, retired: bool, actor: str) -> None:
    """Retire (no new orders) or bring back a product."""
    before = {"retired": product.retired}
    product.retired = retired
    audit.record(
        session,
        actor,
        "product.retire" if retired else "product.unretire",
        product,
        before=before,
        after={"retired": retired},
    )
