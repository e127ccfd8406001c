"""Demo data: the demo customer's licence with add-ons active, expired and inactive."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from facturo.plugin import Context, Customer, Product, Service, add_months

from .keys import format_key, key_from_bits
from .models import Addon
from .service import create_licence, ensure_supplier, supplier_code
from .settings import DEMO_SEED_TEXT, config

#: add-on product code → (state, service status)
DEMO_ADDONS = {
    "addon-ingram": "active",
    "addon-esprinet": "expired",
    "addon-techdata": "inactive",
}


def demo_key(prefix: str = "PIG") -> str:
    """The demo licence key, derived from a fixed seed so that the README's curl call works."""
    bits = int.from_bytes(hashlib.sha256(DEMO_SEED_TEXT + b" key").digest()[:16], "big") >> 3
    return key_from_bits(bits, prefix)


def seed(ctx: Context, session: Session, customer: Customer) -> None:
    """Give ``customer`` a licence service with three supplier add-on services."""
    product = session.scalar(select(Product).where(Product.code == "prestaimport-gui"))
    if product is None or product.provisioner != "prestaimport_license":
        return
    now = ctx.now()
    today = ctx.today()
    main = Service(
        customer_id=customer.id,
        product_id=product.id,
        status="active",
        cycle="annual",
        price=product.prices[0].amount,
        currency=product.prices[0].currency,
        next_due_date=add_months(today, 9),
        provisioner_data={},
        activated_at=now - timedelta(days=90),
        label="tienda-demo.example",
    )
    session.add(main)
    session.flush()
    key = demo_key(config(ctx).prefix)
    licence = create_licence(session, ctx, customer.id, main.id, key=key)
    main.provisioner_data = {"licence_id": licence.id}
    for addon_product in product.addons:
        state = DEMO_ADDONS.get(addon_product.code)
        code = supplier_code(addon_product.provisioner_options or "")
        if state is None or code is None:
            continue
        supplier = ensure_supplier(session, code, addon_product.name_en.removeprefix("Supplier "))
        price = addon_product.prices[0]
        due = {"active": add_months(today, 9), "expired": today - timedelta(days=20)}.get(
            state, today - timedelta(days=60)
        )
        service = Service(
            customer_id=customer.id,
            product_id=addon_product.id,
            parent_id=main.id,
            status={"active": "active", "expired": "suspended"}.get(state, "terminated"),
            suspension_reason="overdue" if state == "expired" else None,
            cycle="annual",
            price=price.amount,
            currency=price.currency,
            next_due_date=due,
            provisioner_data={"licence_id": licence.id},
            activated_at=now - timedelta(days=90),
        )
        session.add(service)
        session.flush()
        expires = {
            "active": now + timedelta(days=270),
            "expired": now - timedelta(days=20),
        }.get(state, now + timedelta(days=30))
        session.add(
            Addon(
                licence_id=licence.id,
                supplier_id=supplier.id,
                service_id=service.id,
                active=state != "inactive",
                starts_at=now - timedelta(days=90),
                expires_at=expires,
                updated_at=now,
            )
        )
    session.flush()
    print(f"demo licence key: {format_key(key)}  (see the prestaimport_license README)")
