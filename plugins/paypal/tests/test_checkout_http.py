"""The whole payment over real HTTP against the local sandbox, served by uvicorn."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from facturo.billing.refunds import refund_invoice
from facturo.models import Service
from facturo_paypal.models import CheckoutAttempt, PayPalRefund

from .helpers import (
    CSRF,
    TOTAL,
    PayPalWorld,
    capture_resource,
    client_for,
    credit_notes,
    deliver,
    document,
    notifications,
    order_proforma,
    payments,
    paypal_world,
    wait_for,
)


def _pay_until_return(world: PayPalWorld, customer: Any, document_id: int) -> tuple[Any, str]:
    """Pay page → create order → sandbox approval page → approve; returns (client, return URL)."""
    client = client_for(world, customer)
    page = client.get(f"/client/paypal/pay/{document_id}")
    assert page.status_code == 200
    assert "Continuar a PayPal" in page.text
    created = client.post(f"/client/paypal/pay/{document_id}", data={"csrf_token": CSRF})
    assert created.status_code == 303
    approval = created.headers["location"]
    assert approval.startswith(world.sandbox_url + "/checkoutnow?token=")
    order_id = approval.split("token=", 1)[1]
    approval_page = client.get(approval)
    assert approval_page.status_code == 200 and "180.29 EUR" in approval_page.text
    action = re.search(r'action="([^"]*/approve)"', approval_page.text)
    assert action is not None
    approved = client.post(action.group(1), data={"token": order_id, "action": "approve"})
    assert approved.status_code == 303
    back = approved.headers["location"]
    assert back.startswith(world.ctx.url("/client/paypal/return?token=" + order_id))
    return client, back


def test_whole_payment_over_http_and_the_sandbox_webhooks_are_deduplicated(
    make_context: Any,
) -> None:
    with paypal_world(make_context) as world:
        customer, proforma = order_proforma(world.ctx)
        client, back = _pay_until_return(world, customer, proforma.id)
        returned = client.get(back)
        assert returned.status_code == 303
        status_page = client.get(returned.headers["location"])
        paid = document(world.ctx, proforma.id)
        assert paid.status == "paid" and paid.number
        assert 'data-state="paid"' in status_page.text
        assert paid.number in status_page.text
        assert 'http-equiv="refresh"' not in status_page.text
        # The sandbox delivered CHECKOUT.ORDER.APPROVED and PAYMENT.CAPTURE.COMPLETED.
        wait_for(lambda: len(world.sandbox.deliveries) >= 2)
        assert {d.status_code for d in world.sandbox.deliveries} == {200}
        wait_for(
            lambda: (
                all(n.status not in ("received",) for n in notifications(world.ctx))
                and len(notifications(world.ctx)) >= 2
            )
        )
        recorded = payments(world.ctx)
        assert len(recorded) == 1 and recorded[0].amount == TOTAL
        with world.ctx.db.read_session() as session:
            attempt = session.scalars(select(CheckoutAttempt)).one()
        assert attempt.status == "completed" and attempt.capture_id == recorded[0].gateway_txn_id
        # Returning again (browser reload) captures nothing new.
        again = client.get(back)
        assert again.status_code == 303
        # The same COMPLETED event delivered again is a duplicate: one row, one payment.
        capture = world.sandbox.captures[attempt.capture_id]
        completed = next(
            n for n in notifications(world.ctx) if "PAYMENT.CAPTURE.COMPLETED" in n.detail
        )
        event_id = completed.event_key.removeprefix("webhook:")
        event = {
            "id": event_id,
            "event_type": "PAYMENT.CAPTURE.COMPLETED",
            "resource_type": "capture",
            "resource": capture_resource(
                capture["id"], attempt.paypal_order_id, capture["amount"]["value"]
            ),
        }
        response, _headers, _body = deliver(world, event)
        assert response.status_code == 200
        assert len(notifications(world.ctx, f"webhook:{event_id}")) == 1
        assert len(payments(world.ctx)) == 1


def test_pending_capture_waits_for_the_webhook(make_context: Any) -> None:
    with paypal_world(make_context) as world:
        world.sandbox.capture_status = "PENDING"
        customer, proforma = order_proforma(world.ctx)
        client, back = _pay_until_return(world, customer, proforma.id)
        status_url = client.get(back).headers["location"]
        waiting = client.get(status_url)
        assert 'data-state="waiting"' in waiting.text
        assert '<meta http-equiv="refresh" content="3">' in waiting.text
        assert document(world.ctx, proforma.id).status == "unpaid"
        wait_for(lambda: len(world.sandbox.deliveries) >= 2)
        assert payments(world.ctx) == []
        with world.ctx.db.read_session() as session:
            attempt = session.scalars(select(CheckoutAttempt)).one()
        assert attempt.status == "pending"
        # PayPal settles the capture later.
        event = world.sandbox.event(
            "PAYMENT.CAPTURE.COMPLETED",
            "capture",
            capture_resource(attempt.capture_id, attempt.paypal_order_id, "180.29"),
        )
        assert deliver(world, event)[0].status_code == 200
        settled = client.get(status_url)
        assert 'data-state="paid"' in settled.text
        assert document(world.ctx, proforma.id).status == "paid"


def test_cancel_on_paypal_goes_back_to_the_document(make_context: Any) -> None:
    with paypal_world(make_context) as world:
        customer, proforma = order_proforma(world.ctx)
        client = client_for(world, customer)
        approval = client.post(
            f"/client/paypal/pay/{proforma.id}", data={"csrf_token": CSRF}
        ).headers["location"]
        order_id = approval.split("token=", 1)[1]
        page = client.get(approval)
        action = re.search(r'action="([^"]*/cancel)"', page.text)
        assert action is not None
        cancelled = client.post(action.group(1), data={"token": order_id})
        back = client.get(cancelled.headers["location"])
        assert back.status_code == 303
        assert back.headers["location"] == f"/client/documents/{proforma.id}"
        assert document(world.ctx, proforma.id).status == "unpaid"


def test_staff_refund_goes_through_paypal_and_its_webhook_is_not_credited_twice(
    make_context: Any,
) -> None:
    with paypal_world(make_context) as world:
        customer, proforma = order_proforma(world.ctx)
        client, back = _pay_until_return(world, customer, proforma.id)
        client.get(back)
        assert document(world.ctx, proforma.id).status == "paid"
        wait_for(lambda: len(world.sandbox.deliveries) >= 2)
        with world.ctx.db.transaction() as session:
            invoice = session.get(type(proforma), proforma.id)
            note, refund = refund_invoice(
                session, world.ctx, invoice, None, "customer asked", actor="staff:1"
            )
            assert refund.gateway == "paypal" and refund.gateway_refund_id
            refund_id = refund.gateway_refund_id
        assert world.sandbox.refunds[refund_id]["amount"]["value"] == "180.29"
        wait_for(lambda: len(world.sandbox.deliveries) >= 3)
        assert world.sandbox.deliveries[-1].event_type == "PAYMENT.CAPTURE.REFUNDED"
        assert world.sandbox.deliveries[-1].status_code == 200
        wait_for(
            lambda: any(
                n.status == "duplicate" and "REFUNDED" in n.detail for n in notifications(world.ctx)
            )
        )
        assert credit_notes(world.ctx) == 1
        with world.ctx.db.read_session() as session:
            rows = list(session.scalars(select(PayPalRefund)))
        assert [(r.refund_id, r.source) for r in rows] == [(refund_id, "staff")]


def test_refund_on_paypal_issues_a_credit_note_and_deprovisions(make_context: Any) -> None:
    with paypal_world(make_context) as world:
        customer, proforma = order_proforma(world.ctx)
        client, back = _pay_until_return(world, customer, proforma.id)
        client.get(back)
        wait_for(lambda: len(world.sandbox.deliveries) >= 2)
        with world.ctx.db.read_session() as session:
            attempt = session.scalars(select(CheckoutAttempt)).one()
        from facturo.testing import drain

        drain(world.ctx)
        with world.ctx.db.read_session() as session:
            statuses = {s.status for s in session.scalars(select(Service))}
        assert statuses == {"active"}
        from .helpers import refund_resource

        event = world.sandbox.event(
            "PAYMENT.CAPTURE.REFUNDED",
            "refund",
            refund_resource(world, "REFUND-ON-PAYPAL-1", attempt.capture_id, "180.29"),
        )
        assert deliver(world, event)[0].status_code == 200
        assert deliver(world, event)[0].status_code == 200  # the same event again
        assert credit_notes(world.ctx) == 1
        with world.ctx.db.read_session() as session:
            statuses = {s.status for s in session.scalars(select(Service))}
            attempt = session.scalars(select(CheckoutAttempt)).one()
        assert statuses == {"terminated"}
        assert attempt.status == "refunded"
        assert document(world.ctx, proforma.id).refunded_total == TOTAL
