"""The gateway protocol and the single "payable" check."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from facturo.context import Context
from facturo.gateways.protocol import BaseGateway, Gateway, NotificationRejected
from facturo.gateways.reconcile import gateways_of
from facturo.models import Document


def test_bundled_gateways_follow_the_protocol(make_context: Callable[..., Context]) -> None:
    ctx = make_context(plugins=("ruralvia", "paypal", "transfer"))
    found = {gateway.name: gateway for gateway in gateways_of(ctx)}
    assert set(found) == {"ruralvia", "paypal"}
    for gateway in found.values():
        assert isinstance(gateway, Gateway)
        assert isinstance(gateway.form_action_hosts(ctx), list)
    assert found["ruralvia"].form_action_hosts(ctx) == [ctx.url("")]  # the local sandbox


def test_the_base_gateway_refuses_what_it_does_not_implement(ctx: Context) -> None:
    base = BaseGateway()
    assert isinstance(base, Gateway)
    with pytest.raises(NotificationRejected):
        base.verify_notification(ctx, "body", {})
    assert base.query_payment(ctx, None) is None  # type: ignore[arg-type]
    assert base.form_action_hosts(ctx) == []


@pytest.mark.parametrize(
    ("kind", "status", "total", "paid", "payable"),
    [
        ("proforma", "unpaid", "10.00", "0.00", True),
        ("proforma", "unpaid", "10.00", "4.00", True),
        ("proforma", "unpaid", "10.00", "10.00", False),
        ("proforma", "paid", "10.00", "0.00", False),
        ("proforma", "cancelled", "10.00", "0.00", False),
        ("invoice", "unpaid", "10.00", "0.00", False),
        ("credit_note", "unpaid", "10.00", "0.00", False),
    ],
)
def test_is_payable(kind: str, status: str, total: str, paid: str, payable: bool) -> None:
    document = Document(
        kind=kind,
        status=status,
        total=Decimal(total),
        amount_paid=Decimal(paid),
        credit_applied=Decimal("0.00"),
    )
    assert document.is_payable is payable
