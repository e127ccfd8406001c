"""Payments checked by hand: the core records them with one of the enabled manual methods
(``payment_methods`` with ``online=False``) and never names one; the bank transfer's own path
to the staff form is the transfer plugin's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from facturo.accounts import api_tokens
from facturo.context import Context
from facturo.errors import FacturoError
from facturo.gateways.methods import manual_method, manual_methods
from facturo.models import Payment, StaffUser
from facturo.plugin import PaymentMethod, hookimpl
from facturo.testing import make_customer
from tests.web.conftest import CSRF, new_proforma, new_staff, serve, staff_client

__all__ = ["serve"]  # the fixture, imported for these tests


class CashDesk:
    """A plugin offering a second manual method, cash, and an online one."""

    @hookimpl
    def payment_methods(self) -> list[PaymentMethod]:
        return [
            PaymentMethod("cash", {"es": "Efectivo", "en": "Cash"}, online=False),
            PaymentMethod("cardco", {"es": "Tarjeta", "en": "Card"}, online=True),
        ]


def _token(ctx: Context) -> str:
    staff = new_staff(ctx, "admin", "api-owner@example.com")
    with ctx.db.transaction() as session:
        row = session.get(StaffUser, staff.id)
        assert row is not None
        _made, secret = api_tokens.create_token(session, row, "erp", "read-write", "system")
    return secret


def _body(document_id: int, reference: str, **more: Any) -> dict[str, Any]:
    return {
        "document_id": document_id,
        "amount": "10.00",
        "paid_on": "2026-01-05",
        "bank_reference": reference,
        **more,
    }


def _payments(ctx: Context) -> list[tuple[str, str]]:
    with ctx.db.read_session() as session:
        rows = session.scalars(select(Payment).order_by(Payment.id))
        return [(p.gateway, p.gateway_txn_id) for p in rows]


def test_the_choice_among_manual_methods(make_context: Callable[..., Context]) -> None:
    core_only = make_context()
    assert manual_methods(core_only) == []
    with pytest.raises(FacturoError, match="no payment method recorded by hand") as none:
        manual_method(core_only, None)
    assert none.value.field == "method"
    one = make_context(plugins=("transfer", "paypal"))
    assert [m.gateway for m in manual_methods(one)] == ["transfer"]
    assert manual_method(one, None) == "transfer"  # the only one: no need to say it
    with pytest.raises(FacturoError, match="choose one"):
        manual_method(one, "paypal")  # online: recorded by its gateway, not by hand
    two = make_context(plugins=("transfer",), extra=[("cashdesk", CashDesk())])
    assert sorted(m.gateway for m in manual_methods(two)) == ["cash", "transfer"]
    assert manual_method(two, "cash") == "cash"
    for refused in (None, "", "cardco", "nope"):
        with pytest.raises(FacturoError, match="choose one") as error:
            manual_method(two, refused)
        assert error.value.field == "method"


def test_a_core_only_install_records_nothing_by_hand_and_has_no_transfer_page(
    make_context: Callable[..., Context], serve: Callable[[Context], str]
) -> None:
    ctx = make_context()
    url = serve(ctx)
    document = new_proforma(ctx, make_customer(ctx))
    secret = _token(ctx)
    with httpx.Client(base_url=f"{url}/api/v1") as api:
        refused = api.post(
            "/payments",
            json=_body(document.id, "REF-1"),
            headers={"Authorization": f"Bearer {secret}"},
        )
    assert refused.status_code == 422
    error = refused.json()["errors"][0]
    assert error["field"] == "method" and "no payment method" in error["detail"]
    with staff_client(ctx, url, new_staff(ctx, "billing")) as client:
        assert client.get("/admin/payments/transfer").status_code == 404
        form = client.get("/admin/payments/record")
        assert form.status_code == 200
        assert "No payment method to record by hand is enabled." in form.text
        spanish = client.get("/admin/payments/record", headers={"Accept-Language": "es"})
        posted = client.post(
            "/admin/payments/record",
            data={
                "document": document.reference,
                "amount": "10.00",
                "paid_on": ctx.today().isoformat(),
                "bank_reference": "REF-2",
                "csrf_token": CSRF,
            },
            headers={"Accept-Language": "es"},
        )
    assert "Payment method" not in spanish.text
    assert posted.status_code == 400
    assert "No hay ninguna forma de pago activa que se registre a mano." in posted.text
    assert _payments(ctx) == []


def test_the_api_records_with_the_method_named_or_the_only_one(
    make_context: Callable[..., Context], serve: Callable[[Context], str]
) -> None:
    ctx = make_context(plugins=("transfer",), extra=[("cashdesk", CashDesk())])
    url = serve(ctx)
    customer = make_customer(ctx)
    first, second = new_proforma(ctx, customer), new_proforma(ctx, customer)
    headers = {"Authorization": f"Bearer {_token(ctx)}"}
    with httpx.Client(base_url=f"{url}/api/v1", headers=headers) as api:
        unnamed = api.post("/payments", json=_body(first.id, "R-1"))
        online = api.post("/payments", json=_body(first.id, "R-1", method="cardco"))
        wrong_type = api.post("/payments", json=_body(first.id, "R-1", method=7))
        cash = api.post("/payments", json=_body(first.id, "R-1", method="cash"))
        again = api.post("/payments", json=_body(first.id, "R-1", method="cash"))
        bank = api.post("/payments", json=_body(second.id, "R-2", method="transfer"))
    for refused in (unnamed, online, wrong_type):
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "method"
    assert cash.status_code == 201 and again.status_code == 200
    assert cash.json()["id"] == again.json()["id"] and cash.json()["gateway"] == "cash"
    assert bank.status_code == 201 and bank.json()["gateway"] == "transfer"
    assert _payments(ctx) == [("cash", "R-1"), ("transfer", "R-2")]


def test_the_transfer_plugin_serves_its_path_to_the_staff_form(
    make_context: Callable[..., Context], serve: Callable[[Context], str]
) -> None:
    ctx = make_context(plugins=("transfer",), extra=[("cashdesk", CashDesk())])
    url = serve(ctx)
    document = new_proforma(ctx, make_customer(ctx))
    form = {
        "document": document.reference,
        "amount": "121.00",
        "paid_on": ctx.today().isoformat(),
        "bank_reference": "BANK-1",
        "csrf_token": CSRF,
    }
    with staff_client(ctx, url, new_staff(ctx, "support")) as support:
        assert support.get("/admin/payments/transfer").status_code == 403
    with staff_client(ctx, url, new_staff(ctx, "billing")) as client:
        page = client.get("/admin/payments/transfer").text
        assert '<option value="transfer" selected>' in page
        assert '<option value="cash">' in page
        # The form posts to the core's path; the plugin's path, with no method, is a transfer.
        assert 'action="/admin/payments/record"' in page
        done = client.post("/admin/payments/transfer", data=form)
        repeat = client.post("/admin/payments/transfer", data=form)
        unnamed = client.post("/admin/payments/record", data={**form, "bank_reference": "B-2"})
    assert done.status_code == 303 and repeat.status_code == 303
    assert unnamed.status_code == 400  # two manual methods: the core's form needs a choice
    assert _payments(ctx) == [("transfer", "BANK-1")]
