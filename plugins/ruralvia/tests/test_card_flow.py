"""Paying a proforma by card over real HTTP through the sandbox: approved, denied, refunded."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import func, select

from facturo.models import Document, GatewayNotification, Payment
from facturo_ruralvia.models import CardAttempt
from facturo_ruralvia.responses import describe_response
from facturo_ruralvia.service import RuralviaRefundError, refund_card_payment

from .conftest import CSRF_TOKEN, CardApp, forms_of, unpaid_proforma

APPROVE = "4548810000000003"
DENY = "5576440022788500"


def pay_through_sandbox(http: httpx.Client, document_id: int, card: str) -> httpx.Response:
    """POST pay → follow the form to the sandbox → submit ``card``; return the 303 back."""
    page = http.get(f"/client/ruralvia/pay/{document_id}")
    assert page.status_code == 200
    assert f'action="/client/ruralvia/pay/{document_id}"' in page.text
    started = http.post(f"/client/ruralvia/pay/{document_id}", data={"csrf_token": CSRF_TOKEN})
    assert started.status_code == 200, started.text
    assert "/public/ruralvia/static/autosubmit.js" in started.text
    (form,) = [f for f in forms_of(started.text) if "Ds_Signature" in f.fields]
    assert form.action.endswith("/public/ruralvia/sandbox/sis/realizarPago")
    assert set(form.fields) == {"Ds_SignatureVersion", "Ds_MerchantParameters", "Ds_Signature"}
    sandbox = http.post(form.action, data=form.fields)
    assert sandbox.status_code == 200, sandbox.text
    (card_form,) = forms_of(sandbox.text)
    target = httpx.URL(form.action).join(card_form.action)
    data = dict(card_form.fields, card_number=card, action="pay")
    back = http.post(target, data=data)
    assert back.status_code == 303
    return back


def test_pay_by_card_end_to_end_and_refund(card_app: CardApp) -> None:
    ctx = card_app.ctx
    customer, document = unpaid_proforma(ctx)
    assert document.status == "unpaid" and document.number is None
    with card_app.client(customer) as http:
        back = pay_through_sandbox(http, document.id, APPROVE)
        location = back.headers["location"]
        assert urlsplit(location).path.startswith("/client/ruralvia/return/")
        result = http.get(location)
    assert result.status_code == 200
    assert 'data-state="paid"' in result.text
    assert "Pago recibido" in result.text  # the customer's language is Spanish
    with card_app.client(customer) as http:
        history = http.get("/client/payments").text
    assert "Tarjeta Visa ····0003" in history and ">ruralvia<" not in history
    with ctx.db.read_session() as session:
        paid = session.get(Document, document.id)
        assert paid is not None
        assert paid.status == "paid" and paid.kind == "invoice" and paid.number
        assert paid.number in result.text
        attempt = session.scalar(select(CardAttempt).where(CardAttempt.document_id == document.id))
        assert attempt is not None and attempt.status == "approved"
        assert attempt.response_code == "0000"
        assert location.endswith(f"/return/{attempt.order_number}")
        payments = list(session.scalars(select(Payment).where(Payment.document_id == document.id)))
        assert [(p.gateway, p.gateway_txn_id, p.amount) for p in payments] == [
            ("ruralvia", attempt.order_number, paid.total)
        ]
        log = list(session.scalars(select(GatewayNotification)))
        assert [n.status for n in log] == ["processed"]
        # The card's brand and last four digits, as the notification reported them (#16.6).
        assert payments[0].details == {"card_brand": "Visa", "card_last4": "0003"}

    # The staff refund (core refund_invoice → refund_payment hook) goes back through the
    # sandbox's REST endpoint; more than what is left is refused with a clear error.
    with ctx.db.transaction() as session:
        payment = session.get(Payment, payments[0].id)
        assert payment is not None
        result = ctx.hook.refund_payment(
            ctx=ctx, session=session, payment=payment, amount=Decimal("50.00")
        )
        assert result is not None
        assert (result.status, result.amount) == ("completed", Decimal("50.00"))
        assert result.gateway_refund_id.startswith(attempt.order_number + "/")
        assert result.raw["Ds_Response"] == "0900"
        with pytest.raises(RuralviaRefundError, match="SIS0057"):
            refund_card_payment(ctx, payment, paid.total)


def test_denied_card_leaves_document_unpaid_with_reason(card_app: CardApp) -> None:
    ctx = card_app.ctx
    customer, document = unpaid_proforma(ctx)
    with card_app.client(customer) as http:
        back = pay_through_sandbox(http, document.id, DENY)
        assert "result=ko" in back.headers["location"]
        result = http.get(back.headers["location"])
        http.get("/lang/en")
        english = http.get(back.headers["location"])
    assert 'data-state="failed"' in result.text
    assert describe_response("0190").es in result.text
    assert describe_response("0190").en in english.text
    assert "0190" in result.text
    with ctx.db.read_session() as session:
        unpaid = session.get(Document, document.id)
        assert unpaid is not None and unpaid.status == "unpaid" and unpaid.number is None
        assert session.scalar(select(func.count()).select_from(Payment)) == 0
        attempt = session.scalar(select(CardAttempt))
        assert attempt is not None
        assert (attempt.status, attempt.response_code) == ("failed", "0190")


def test_waiting_page_refreshes_until_the_bank_confirms(card_app: CardApp) -> None:
    customer, document = unpaid_proforma(card_app.ctx)
    with card_app.client(customer) as http:
        http.post(f"/client/ruralvia/pay/{document.id}", data={"csrf_token": CSRF_TOKEN})
        with card_app.ctx.db.read_session() as session:
            attempt = session.scalar(select(CardAttempt))
            assert attempt is not None and attempt.status == "pending"
        page = http.get(f"/client/ruralvia/return/{attempt.order_number}")
    assert page.status_code == 200
    assert 'data-state="waiting"' in page.text
    assert 'src="/static/refresh.js" data-seconds="3"' in page.text
    with card_app.ctx.db.read_session() as session:
        still = session.get(Document, document.id)
        assert still is not None and still.status == "unpaid"


def test_only_the_owner_pays_an_unpaid_proforma(card_app: CardApp) -> None:
    ctx = card_app.ctx
    owner, document = unpaid_proforma(ctx)
    other, _ = unpaid_proforma(ctx, email="luis@example.com")
    form = {"csrf_token": CSRF_TOKEN}
    with card_app.client(other) as http:
        assert http.post(f"/client/ruralvia/pay/{document.id}", data=form).status_code == 404
        assert http.get(f"/client/ruralvia/pay/{document.id}").status_code == 404
    with card_app.client(owner) as http:
        assert http.post(f"/client/ruralvia/pay/{document.id}", data={}).status_code == 403
        assert http.post("/client/ruralvia/pay/999999", data=form).status_code == 404
    with card_app.client() as anonymous:
        response = anonymous.get(f"/client/ruralvia/pay/{document.id}")
        assert response.status_code == 303 and "/client/login" in response.headers["location"]
    from facturo.models import Customer

    with ctx.db.transaction() as session:
        row = session.get(Customer, owner.id)
        assert row is not None
        row.email_verified_at = None
    with card_app.client(owner) as http:
        refused = http.post(f"/client/ruralvia/pay/{document.id}", data=form)
        assert refused.status_code == 403
        assert "correo" in refused.text  # Spanish: verify your email first
    with ctx.db.transaction() as session:
        row = session.get(Customer, owner.id)
        assert row is not None
        row.email_verified_at = ctx.now()
        doc = session.get(Document, document.id)
        assert doc is not None
        doc.status = "cancelled"
    with card_app.client(owner) as http:
        assert http.post(f"/client/ruralvia/pay/{document.id}", data=form).status_code == 409
    with ctx.db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(CardAttempt)) == 0
