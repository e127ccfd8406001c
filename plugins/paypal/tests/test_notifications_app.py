"""Webhooks and IPN through the app: out of order, duplicates, mismatches, forgeries, staff view."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select

from facturo.models import StaffUser
from facturo.testing import logged_in_cookies
from facturo_paypal.models import CheckoutAttempt
from facturo_paypal.sandbox import SandboxSigner
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
    refund_resource,
)


def _attempt(world: PayPalWorld, order_id: str = "ORDER-1") -> Any:
    customer, proforma = order_proforma(world.ctx)
    with world.ctx.db.transaction() as session:
        doc = session.get(type(proforma), proforma.id)
        save_attempt(session, world.ctx, doc, order_id, TOTAL)
    return customer, proforma


def _staff_page(world: PayPalWorld) -> str:
    from facturo.accounts.customers import create_staff

    with world.ctx.db.transaction() as session:
        create_staff(session, "billing@example.com", "Bea", "billing", "long-password-1")
        staff = session.scalars(select(StaffUser)).one()
        session.expunge(staff)
    with world.http(cookies=logged_in_cookies(world.ctx, staff=staff)) as http:
        page = http.get("/admin/paypal/notifications")
    assert page.status_code == 200
    return str(page.text)


def test_refunded_before_completed_and_the_same_event_twice(make_context: Any) -> None:
    with paypal_world(make_context) as world:
        _customer, proforma = _attempt(world)
        refunded = world.sandbox.event(
            "PAYMENT.CAPTURE.REFUNDED", "refund", refund_resource(world, "R-1", "CAP-1", "180.29")
        )
        completed = world.sandbox.event(
            "PAYMENT.CAPTURE.COMPLETED", "capture", capture_resource("CAP-1", "ORDER-1", "180.29")
        )
        assert deliver(world, refunded)[0].status_code == 200
        assert deliver(world, completed)[0].status_code == 200
        assert deliver(world, completed)[0].status_code == 200
        assert payments(world.ctx) == []
        assert document(world.ctx, proforma.id).status == "unpaid"
        assert len(notifications(world.ctx, f"webhook:{completed['id']}")) == 1
        with world.ctx.db.read_session() as session:
            attempt = session.scalars(select(CheckoutAttempt)).one()
        assert attempt.status == "refunded" and attempt.capture_id == "CAP-1"


def test_completed_twice_records_one_payment(make_context: Any) -> None:
    with paypal_world(make_context) as world:
        _customer, proforma = _attempt(world)
        completed = world.sandbox.event(
            "PAYMENT.CAPTURE.COMPLETED", "capture", capture_resource("CAP-2", "ORDER-1", "180.29")
        )
        first, headers, body = deliver(world, completed)
        assert first.status_code == 200
        with world.http() as http:  # PayPal redelivers the very same transmission
            assert (
                http.post("/public/paypal/webhook", content=body, headers=headers).status_code
                == 200
            )
        assert len(payments(world.ctx)) == 1
        assert document(world.ctx, proforma.id).status == "paid"
        assert [n.status for n in notifications(world.ctx)] == ["processed"]


def test_amount_or_currency_mismatch_records_nothing_and_is_shown_to_staff(
    make_context: Any,
) -> None:
    with paypal_world(make_context) as world:
        _customer, proforma = _attempt(world)
        cheap = world.sandbox.event(
            "PAYMENT.CAPTURE.COMPLETED", "capture", capture_resource("CAP-3", "ORDER-1", "1.00")
        )
        dollars = world.sandbox.event(
            "PAYMENT.CAPTURE.COMPLETED",
            "capture",
            capture_resource("CAP-4", "ORDER-1", "180.29", currency="USD"),
        )
        assert deliver(world, cheap)[0].status_code == 200
        assert deliver(world, dollars)[0].status_code == 200
        assert payments(world.ctx) == []
        assert document(world.ctx, proforma.id).status == "unpaid"
        assert [n.status for n in notifications(world.ctx)] == ["rejected", "rejected"]
        page = _staff_page(world)
        assert "PayPal reported 1.00 EUR" in page and "180.29 USD" in page


def test_dispute_events_are_shown_to_staff(make_context: Any) -> None:
    with paypal_world(make_context) as world:
        event = world.sandbox.event(
            "CUSTOMER.DISPUTE.CREATED",
            "dispute",
            {"dispute_id": "PP-D-27803", "reason": "MERCHANDISE_OR_SERVICE_NOT_RECEIVED"},
        )
        assert deliver(world, event)[0].status_code == 200
        assert "PP-D-27803" in _staff_page(world)


def test_forged_certificate_url_bad_signature_and_stale_are_refused(
    make_context: Any, clock: Any
) -> None:
    with paypal_world(make_context) as world:
        _customer, proforma = _attempt(world)
        event = world.sandbox.event(
            "PAYMENT.CAPTURE.COMPLETED", "capture", capture_resource("CAP-5", "ORDER-1", "180.29")
        )
        headers, body = world.sandbox.signed_webhook(event, world.sandbox_url)
        with world.http() as http:
            forged = dict(headers, **{"PAYPAL-CERT-URL": "https://evil.example/certs/CERT-1"})
            assert (
                http.post("/public/paypal/webhook", content=body, headers=forged).status_code == 400
            )
            lookalike = dict(
                headers,
                **{"PAYPAL-CERT-URL": world.live.url + "/public/paypal/sandboxevil/cert"},
            )
            assert (
                http.post("/public/paypal/webhook", content=body, headers=lookalike).status_code
                == 400
            )
            other_key = SandboxSigner.generate()
            resigned = dict(headers)
            from facturo_paypal.webhooks import signed_message

            resigned["PAYPAL-TRANSMISSION-SIG"] = other_key.sign(
                signed_message(
                    headers["PAYPAL-TRANSMISSION-ID"],
                    headers["PAYPAL-TRANSMISSION-TIME"],
                    world.rt.settings.webhook_id,
                    body,
                )
            )
            assert (
                http.post("/public/paypal/webhook", content=body, headers=resigned).status_code
                == 400
            )
            clock.advance(days=2)
            assert (
                http.post("/public/paypal/webhook", content=body, headers=headers).status_code
                == 400
            )
        assert payments(world.ctx) == []
        log = notifications(world.ctx)
        assert [n.status for n in log] == ["rejected"] * 4
        assert all(n.event_key is None for n in log)  # forgeries cannot squat on an event id
        assert "certificate URL refused" in log[0].detail
        assert "invalid signature" in log[2].detail and "stale" in log[3].detail
        assert document(world.ctx, proforma.id).status == "unpaid"


def test_verification_through_the_api(make_context: Any) -> None:
    from facturo_paypal.settings import DEMO

    with paypal_world(make_context, dict(DEMO, verify_mode="api")) as world:
        _customer, proforma = _attempt(world)
        event = world.sandbox.event(
            "PAYMENT.CAPTURE.COMPLETED", "capture", capture_resource("CAP-6", "ORDER-1", "180.29")
        )
        response, headers, body = deliver(world, event)
        assert response.status_code == 200
        assert document(world.ctx, proforma.id).status == "paid"
        tampered = body.replace(b"180.29", b"180.30")
        with world.http() as http:
            refused = http.post("/public/paypal/webhook", content=tampered, headers=headers)
        assert refused.status_code == 400


# --- IPN ----------------------------------------------------------------------------------


def _post_ipn(world: PayPalWorld, body: bytes) -> None:
    with world.http() as http:
        response = http.post(
            "/public/paypal/ipn",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 200


def test_ipn_samples(make_context: Any, ipn_samples: dict[str, Any]) -> None:
    with paypal_world(make_context) as world:
        _customer, proforma = order_proforma(world.ctx)
        # The simulator's sample, verified by the sandbox but for no document of ours.
        sample = ipn_samples["simulator_web_accept_completed"].encode()
        _post_ipn(world, world.sandbox.issue_ipn(sample))
        # The same bytes never issued by PayPal: INVALID.
        declined = ipn_samples["simulator_web_accept_declined"].encode()
        _post_ipn(world, declined)
        log = notifications(world.ctx)
        assert [n.status for n in log] == ["rejected", "rejected"]
        assert "abc1234" in log[0].detail and "Invalid postback. (INVALID)" in log[1].detail
        # The production-style windows-1252 message, for our document: recorded once.
        params = dict(ipn_samples["express_checkout_completed_params_windows1252"])
        params.update(
            first_name="Jörg",
            invoice=proforma.reference,
            mc_gross=str(TOTAL),
            mc_currency="EUR",
        )
        body = urlencode(params, encoding="cp1252").encode()
        _post_ipn(world, world.sandbox.issue_ipn(body))
        _post_ipn(world, body)  # the same txn_id and payment_status: a duplicate
        assert len(payments(world.ctx)) == 1
        assert payments(world.ctx)[0].gateway_txn_id == "51403485VH153354B"
        assert document(world.ctx, proforma.id).status == "paid"
        assert len(notifications(world.ctx, "ipn:51403485VH153354B:Completed")) == 1


def test_ipn_wrong_receiver_amount_or_currency_records_nothing(
    make_context: Any, ipn_samples: dict[str, Any]
) -> None:
    with paypal_world(make_context) as world:
        _customer, proforma = order_proforma(world.ctx)
        base = dict(ipn_samples["express_checkout_completed_params_windows1252"])
        base.update(invoice=proforma.reference, mc_gross=str(TOTAL), mc_currency="EUR")
        variants = [
            dict(base, txn_id="T-RECEIVER", receiver_email="someone@else.example"),
            dict(base, txn_id="T-AMOUNT", mc_gross="18.29"),
            dict(base, txn_id="T-CURRENCY", mc_currency="USD"),
        ]
        for params in variants:
            _post_ipn(world, world.sandbox.issue_ipn(urlencode(params, encoding="cp1252").encode()))
        assert payments(world.ctx) == []
        details = [n.detail for n in notifications(world.ctx)]
        assert [n.status for n in notifications(world.ctx)] == ["rejected"] * 3
        assert "receiver_email" in details[0] and "mc_gross" in details[1]
        assert "mc_currency" in details[2]
