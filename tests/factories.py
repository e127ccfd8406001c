"""Builders for test data that read like the domain: a catalog, a customer, an order."""

from __future__ import annotations

from decimal import Decimal

from facturo.accounts import NewCustomer, create_customer
from facturo.context import Context
from facturo.models import Customer, Product, ProductPrice


def make_catalog(ctx: Context, provisioner: str | None = None) -> tuple[Product, list[Product]]:
    """A yearly licence product (149.00) with two supplier add-ons (39.00 and 29.00)."""
    with ctx.db.transaction() as session:
        licence = Product(code="licence", name_es="Licencia", name_en="Licence", provisioner=provisioner)
        licence.prices.append(ProductPrice(cycle="annual", months=12, currency="EUR", amount=Decimal("149.00")))
        licence.prices.append(ProductPrice(cycle="monthly", months=1, currency="EUR", amount=Decimal("15.00")))
        session.add(licence)
        session.flush()
        addons = []
        for code, price in (("addon-a", "39.00"), ("addon-b", "29.00")):
            addon = Product(code=code, name_es=f"Proveedor {code}", name_en=f"Supplier {code}", parent_id=licence.id, provisioner=provisioner, provisioner_options=f"supplier={code}")
            addon.prices.append(ProductPrice(cycle="annual", months=12, currency="EUR", amount=Decimal(price)))
            session.add(addon)
            addons.append(addon)
        session.flush()
    return licence, addons


def make_customer(
    ctx: Context,
    email: str = "ana@example.com",
    country: str = "ES",
    tax_id: str = "12345678Z",
    postal_code: str = "28001",
    language: str = "es",
    verified: bool = True,
) -> Customer:
    """A verified customer in Madrid unless told otherwise."""
    with ctx.db.transaction() as session:
        return create_customer(
            session,
            ctx,
            NewCustomer(
                email=email, password="correct horse battery", name="Ana García", country=country,
                tax_id=tax_id, postal_code=postal_code, address="Calle Mayor 1", city="Madrid",
                language=language,
            ),
            verified=verified,
        )
