"""Builders and helpers for HTTP tests of the licence plugin (used by its own tests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from facturo.plugin import Context

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Live:
    ctx: Context
    http: httpx.Client
    app: Any

    def validate(self, body: Any, **kwargs: Any) -> httpx.Response:
        if isinstance(body, dict | list):
            return self.http.post("/api/v1/licenses/validate", json=body, **kwargs)
        return self.http.post("/api/v1/licenses/validate", content=body, **kwargs)


@dataclass
class Seeded:
    licence_id: int
    key: str
    customer_id: int
    addons: dict[str, int]


def seed_licence(
    ctx: Context,
    addons: dict[str, dict[str, Any]] | None = None,
    email: str = "ana@example.com",
) -> Seeded:
    """A customer with a licence (no service) and add-on rows as given: code → column values."""
    from facturo.testing import make_customer
    from facturo_prestaimport_license.keys import format_key, generate_key
    from facturo_prestaimport_license.models import Addon
    from facturo_prestaimport_license.service import create_licence, ensure_supplier

    customer = make_customer(ctx, email=email)
    key = generate_key()
    ids: dict[str, int] = {}
    with ctx.db.transaction() as session:
        licence = create_licence(session, ctx, customer.id, None, key=key)
        for code, values in (addons or {}).items():
            supplier = ensure_supplier(session, code, code.title())
            row = Addon(
                licence_id=licence.id, supplier_id=supplier.id, updated_at=ctx.now(), **values
            )
            session.add(row)
            session.flush()
            ids[code] = row.id
        licence_id = licence.id
    return Seeded(licence_id, format_key(key), customer.id, ids)


SHOP = {"platform": "prestashop", "url": "https://www.example-shop.com/"}
OTHER_SHOP = {"platform": "prestashop", "url": "https://other-shop.example/"}


def body(key: str, shop: dict[str, Any] | None = SHOP, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"key": key, "install_id": "install-1", "nonce": "nonce-1", **extra}
    if shop is not None:
        data["shop"] = shop
    return data


def payload(response: httpx.Response) -> dict[str, Any]:
    """The decoded payload of a signed envelope (signature checked)."""
    from facturo_prestaimport_license.client import public_keys_from_jwks, verify_envelope

    assert response.status_code == 200, response.text
    keys = public_keys_from_jwks(
        httpx.get(str(response.request.url).replace("validate", "keys")).json()
    )
    return dict(verify_envelope(response.json(), keys))


def pay(ctx: Context, document_id: int, txn: str) -> None:
    """Pay ``document_id`` in full through record_payment and run the queued events."""
    from facturo.plugin import Document, record_payment

    with ctx.db.transaction() as session:
        document = session.get(Document, document_id)
        assert document is not None
        record_payment(
            session,
            ctx,
            document,
            gateway="transfer",
            gateway_txn_id=txn,
            amount=document.total,
            currency=document.currency,
            paid_at=ctx.now(),
        )
    from facturo.testing import drain

    drain(ctx)


def order(ctx: Context, customer: Any, with_addon: bool = True) -> tuple[int, int]:
    """Order the test catalog's licence (and add-on A); return (licence service, bill)."""
    from sqlalchemy import select

    from facturo.plugin import Customer, Product, place_order

    with ctx.db.transaction() as session:
        licence = session.scalar(select(Product).where(Product.code == "licence"))
        addon = session.scalar(select(Product).where(Product.code == "addon-a"))
        me = session.get(Customer, customer.id)
        assert licence is not None and addon is not None and me is not None
        services, document = place_order(
            session, ctx, me, licence, "annual", [(addon, "annual")] if with_addon else []
        )
        return services[0].id, document.id
