"""Owner dispatch: ``refund_payment`` goes to the payment's gateway plugin only,
``provision_product`` to the product's provisioner only; the product form offers only
plugins that provision."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from facturo.billing.refunds import refund_through_gateway
from facturo.context import Context
from facturo.contributions import RefundResult
from facturo.delivery.events import _provision
from facturo.models import Payment, Service
from facturo.plugin import hookimpl
from facturo.plugins import call_owner, implementers
from facturo.testing import make_catalog, make_customer
from tests.web.conftest import CSRF, new_staff, serve, staff_client

__all__ = ["serve"]  # the fixture, imported for these tests


class Greedy:
    """A plugin that answers every refund and every provisioning, whoever owns it (the
    mistake owner dispatch protects against)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.refunds: list[str] = []
        self.provisioned: list[str] = []

    @hookimpl
    def refund_payment(self, payment: Payment, amount: Decimal) -> RefundResult:
        self.refunds.append(payment.gateway)
        return RefundResult(gateway_refund_id=f"{self.name}-1", status="completed", amount=amount)

    @hookimpl
    def provision_product(self, service: Service, action: str) -> dict[str, Any]:
        self.provisioned.append(f"{service.id}:{action}")
        return {"by": self.name}


class Quiet:
    """A plugin that implements neither hook."""

    @hookimpl
    def payment_methods(self) -> list[Any]:
        return []


def test_refunds_go_to_the_payment_gateway_only(make_context: Callable[..., Context]) -> None:
    alpha, beta = Greedy("alpha"), Greedy("beta")
    ctx = make_context(extra=[("alpha", alpha), ("beta", beta), ("quiet", Quiet())])
    payment = Payment(gateway="beta", gateway_txn_id="T-1", currency="EUR")
    result = refund_through_gateway(ctx, None, payment, Decimal("5.00"))  # type: ignore[arg-type]
    assert result is not None and result.gateway_refund_id == "beta-1"
    assert (alpha.refunds, beta.refunds) == ([], ["beta"])
    nobody = Payment(gateway="quiet", gateway_txn_id="T-2", currency="EUR")
    assert refund_through_gateway(ctx, None, nobody, Decimal("1.00")) is None  # type: ignore[arg-type]
    assert call_owner(ctx.plugins, "refund_payment", "missing", payment=payment) is None
    assert implementers(ctx.plugins, "refund_payment") == ["alpha", "beta"]


def test_provisioning_goes_to_the_product_provisioner_only(
    make_context: Callable[..., Context],
) -> None:
    alpha, beta = Greedy("alpha"), Greedy("beta")
    ctx = make_context(extra=[("alpha", alpha), ("beta", beta)])
    licence, _addons = make_catalog(ctx, provisioner="alpha")
    customer = make_customer(ctx)
    from facturo.billing.orders import place_order

    with ctx.db.transaction() as session:
        services, _document = place_order(
            session, ctx, session.merge(customer), session.merge(licence), "annual"
        )
        service_id = services[0].id
    with ctx.db.transaction() as session:
        _provision(ctx, session, {"service_id": service_id, "action": "create"})
        service = session.get(Service, service_id)
        assert service is not None and service.provisioner_data.get("by") == "alpha"
    assert alpha.provisioned == [f"{service_id}:create"] and beta.provisioned == []


def test_the_product_form_offers_only_provisioners(
    make_context: Callable[..., Context], serve: Callable[[Context], str]
) -> None:
    ctx = make_context(extra=[("alpha", Greedy("alpha")), ("quiet", Quiet())])
    url = serve(ctx)
    billing = new_staff(ctx, "billing")
    with staff_client(ctx, url, billing) as client:
        form = client.get("/admin/products/new").text
        assert "<option>alpha</option>" in form and "<option>quiet</option>" not in form
        refused = client.post(
            "/admin/products/new",
            data={
                "code": "x",
                "name_es": "X",
                "name_en": "X",
                "provisioner": "quiet",
                "csrf_token": CSRF,
            },
        )
        assert refused.status_code == 400
        assert "no enabled plugin provisions products by that name" in refused.text


def test_owner_dispatch_works_with_unhashable_plugins(make_context: Callable[..., Context]) -> None:
    from tests.faults.conftest import CountingGateway

    counting = CountingGateway()  # a dataclass: not hashable
    ctx = make_context(extra=[("counting", counting)])
    payment = Payment(id=7, gateway="counting", gateway_txn_id="T-3", currency="EUR")
    result = refund_through_gateway(ctx, None, payment, Decimal("2.00"))  # type: ignore[arg-type]
    assert result is not None and counting.calls == [(7, Decimal("2.00"))]
