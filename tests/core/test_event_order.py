"""The order ``hookspecs`` documents for the events of a payment is the order delivered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from facturo.billing.orders import place_order
from facturo.billing.payments import record_payment
from facturo.context import Context
from facturo.hookspecs import hookimpl
from facturo.testing import drain, make_catalog, make_customer


class Recorder:
    """An in-process plugin that provisions ``recorder`` products and notes every event."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    @hookimpl
    def provision_product(self, service: Any, action: str) -> dict[str, Any] | None:
        if service.product.provisioner != "recorder":
            return None
        self.calls.append(f"provision:{action}")
        return {"done": action}

    @hookimpl
    def on_service_status_changed(self, old_status: str, new_status: str) -> None:
        self.calls.append(f"status:{old_status}->{new_status}")

    @hookimpl
    def on_invoice_paid(self) -> None:
        self.calls.append("invoice_paid")

    @hookimpl
    def on_payment_recorded(self) -> None:
        self.calls.append("payment_recorded")


def test_on_invoice_paid_comes_after_provisioning_and_before_payment_recorded(
    make_context: Callable[..., Context],
) -> None:
    recorder = Recorder()
    ctx = make_context(extra=[("recorder", recorder)])
    licence, _ = make_catalog(ctx, provisioner="recorder")
    customer = make_customer(ctx)
    with ctx.db.transaction() as session:
        _services, proforma = place_order(session, ctx, customer, licence, "annual")
    drain(ctx)
    recorder.calls.clear()
    with ctx.db.transaction() as session:
        record_payment(
            session,
            ctx,
            proforma,
            gateway="test",
            gateway_txn_id="t-1",
            amount=proforma.total,
            currency="EUR",
            paid_at=ctx.now(),
        )
    drain(ctx)
    assert recorder.calls == [
        "provision:create",
        "status:pending->active",
        "invoice_paid",
        "payment_recorded",
    ]
