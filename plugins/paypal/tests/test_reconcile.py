"""Reconciliation: checkout attempts left pending are looked up with
GET /v2/checkout/orders/{id} (served by the local sandbox) and recorded once."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from facturo.config import GatewaySettings
from facturo.gateways.reconcile import reconcile
from facturo_paypal.models import CheckoutAttempt
from facturo_paypal.sandbox import _capture_json
from facturo_paypal.service import save_attempt

from .helpers import (
    TOTAL,
    PayPalWorld,
    capture_resource,
    deliver,
    document,
    notifications,
    order_proforma,
    payments,
    paypal_world,
)


def _proforma(world: PayPalWorld, email: str) -> Any:
    from sqlalchemy import select

    from facturo.billing.orders import place_order
    from facturo.models import Product
    from facturo.testing import make_customer

    ctx = world.ctx
    with ctx.db.read_session() as session:
        licence = session.scalar(select(Product).where(Product.code == "licence"))
    if licence is None:
        return order_proforma(ctx, email=email)[1]
    customer = make_customer(ctx, email=email)
    with ctx.db.transaction() as session:
        product = session.merge(licence)
        _services, proforma = place_order(session, ctx, session.merge(customer), product, "annual")
        session.flush()
        session.expunge(proforma)
    return proforma


def _pending(world: PayPalWorld, order_id: str, email: str) -> Any:
    proforma = _proforma(world, email)
    with world.ctx.db.transaction() as session:
        save_attempt(session, world.ctx, session.get(type(proforma), proforma.id), order_id, TOTAL)
    return proforma


def _paid_at_paypal(world: PayPalWorld, order_id: str, capture_id: str) -> None:
    """PayPal captured the order, but neither the return page nor a webhook told us."""
    base = world.ctx.url("/public/paypal/sandbox")
    capture = {
        "id": capture_id,
        "status": "COMPLETED",
        "amount": {"value": str(TOTAL), "currency_code": "EUR"},
        "final_capture": True,
        "supplementary_data": {"related_ids": {"order_id": order_id}},
        "_order_id": order_id,
        "_refunded": "0.00",
    }
    world.sandbox.captures[capture_id] = capture
    world.sandbox.orders[order_id] = {
        "id": order_id,
        "status": "COMPLETED",
        "create_time": "2026-03-02T10:00:00Z",
        "purchase_unit": {"amount": {"value": str(TOTAL), "currency_code": "EUR"}},
        "experience_context": {},
        "captures": {capture_id: _capture_json(capture, base)},
        "capture_id": capture_id,
        "payer_id": "PAYER-1",
    }


def test_a_capture_nobody_told_us_about_is_recorded_once(make_context: Any) -> None:
    with paypal_world(make_context) as world:
        settings = world.ctx.settings
        world.ctx.settings = replace(settings, gateways=GatewaySettings(reconcile_after_seconds=0))
        paid = _pending(world, "ORDER-R1", "ana@example.com")
        unpaid = _pending(world, "ORDER-R2", "bea@example.com")  # PayPal never saw it
        _paid_at_paypal(world, "ORDER-R1", "CAP-R1")
        report = reconcile(world.ctx)
        assert (report.queried, report.recorded, report.failures) == (2, 1, 0)
        assert [p.gateway_txn_id for p in payments(world.ctx)] == ["CAP-R1"]
        assert document(world.ctx, paid.id).status == "paid"
        assert document(world.ctx, unpaid.id).status == "unpaid"
        # The capture's webhook arrives late: authentic, answered 200, nothing booked twice.
        late = world.sandbox.event(
            "PAYMENT.CAPTURE.COMPLETED", "capture", capture_resource("CAP-R1", "ORDER-R1", "180.29")
        )
        assert deliver(world, late)[0].status_code == 200
        assert reconcile(world.ctx).recorded == 0
        assert len(payments(world.ctx)) == 1
        with world.ctx.db.read_session() as session:
            states = {a.paypal_order_id: a.status for a in session.query(CheckoutAttempt)}
        assert states == {"ORDER-R1": "completed", "ORDER-R2": "created"}
        rows = notifications(world.ctx)
        assert [(r.remote_addr, r.status) for r in rows][0] == ("reconcile", "processed")
        assert "GET /v2/checkout/orders/ORDER-R1" in rows[0].body
