"""The notification endpoint: idempotent, concurrent-safe, and deaf to forgeries."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from facturo.models import Customer, Document, GatewayNotification, Payment, StaffUser
from facturo_ruralvia.currency import to_minor_units
from facturo_ruralvia.models import CardAttempt
from facturo_ruralvia.redsys import encode_parameters, signed_message
from facturo_ruralvia.service import start_attempt

from .conftest import TEST_KEY, CardApp, unpaid_proforma

OTHER_KEY = "Mk9m98IfEblmPfrpsawt7BmxObt98Jev"  # a valid key that is not the terminal's


def new_attempt(app: CardApp) -> tuple[CardAttempt, Document]:
    customer, document = unpaid_proforma(app.ctx)
    with app.ctx.db.transaction() as session:
        owner = session.get(Customer, customer.id)
        assert owner is not None
        attempt = start_attempt(session, app.ctx, owner, document.id)
    return attempt, document


def notification_fields(attempt: CardAttempt, response: str = "0000") -> dict[str, str]:
    return {
        "Ds_Date": "02%2F03%2F2026",
        "Ds_Hour": "11%3A00",
        "Ds_Amount": str(to_minor_units(attempt.amount, attempt.currency)),
        "Ds_Currency": "978",
        "Ds_Order": attempt.order_number,
        "Ds_MerchantCode": attempt.merchant_code,
        "Ds_Terminal": "001",
        "Ds_Response": response,
        "Ds_TransactionType": "0",
        "Ds_SecurePayment": "1",
        "Ds_AuthorisationCode": "123456",
        "Ds_MerchantData": "",
        "Ds_ConsumerLanguage": "1",
    }


def post(app: CardApp, body: dict[str, str]) -> httpx.Response:
    with httpx.Client(base_url=app.url, timeout=30) as http:
        return http.post("/public/ruralvia/notify", data=body)


def count(app: CardApp, model: Any) -> int:
    with app.ctx.db.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_duplicate_notifications_record_one_payment(card_app: CardApp) -> None:
    attempt, document = new_attempt(card_app)
    body = signed_message(TEST_KEY, notification_fields(attempt), urlsafe=True)
    for _ in range(3):
        response = post(card_app, body)
        assert response.status_code == 200
    # The same answer with the standard base64 alphabet is still the same payment.
    assert post(card_app, signed_message(TEST_KEY, notification_fields(attempt))).status_code == 200
    with card_app.ctx.db.read_session() as session:
        payments = list(session.scalars(select(Payment)))
        assert [(p.gateway_txn_id, p.amount) for p in payments] == [
            (attempt.order_number, Decimal(attempt.amount))
        ]
        paid = session.get(Document, document.id)
        assert paid is not None and paid.status == "paid" and paid.number
        statuses = [
            n.status
            for n in session.scalars(select(GatewayNotification).order_by(GatewayNotification.id))
        ]
        assert statuses == ["processed", "duplicate", "duplicate", "duplicate"]
    # A late denial for an approved order changes nothing.
    assert post(card_app, signed_message(TEST_KEY, notification_fields(attempt, "0190")))
    with card_app.ctx.db.read_session() as session:
        row = session.get(CardAttempt, attempt.id)
        assert row is not None and row.status == "approved"


def _tampered(attempt: CardAttempt) -> dict[str, dict[str, str]]:
    good = notification_fields(attempt)
    cases: dict[str, dict[str, str]] = {}
    # Parameters changed after signing (a higher amount pasted in): bad signature.
    signed = signed_message(TEST_KEY, good)
    forged_params = dict(good, Ds_Amount="1")
    cases["parameters"] = dict(signed, Ds_MerchantParameters=encode_parameters(forged_params))
    cases["wrong key"] = signed_message(OTHER_KEY, good)
    cases["no signature"] = {k: v for k, v in signed.items() if k != "Ds_Signature"}
    cases["garbage"] = {"Ds_MerchantParameters": "%%%", "Ds_Signature": "x"}
    # Correctly signed but not what was asked for.
    cases["amount"] = signed_message(TEST_KEY, dict(good, Ds_Amount="100"))
    cases["currency"] = signed_message(TEST_KEY, dict(good, Ds_Currency="840"))
    cases["merchant"] = signed_message(TEST_KEY, dict(good, Ds_MerchantCode="999008882"))
    cases["terminal"] = signed_message(TEST_KEY, dict(good, Ds_Terminal="002"))
    cases["transaction type"] = signed_message(TEST_KEY, dict(good, Ds_TransactionType="3"))
    cases["unknown order"] = signed_message(TEST_KEY, dict(good, Ds_Order="2603ZZZZZZZZ"))
    return cases


def test_tampered_notifications_are_rejected_and_shown_to_staff(card_app: CardApp) -> None:
    attempt, document = new_attempt(card_app)
    cases = _tampered(attempt)
    for name, body in cases.items():
        response = post(card_app, body)
        assert response.status_code == 200, name
    assert count(card_app, Payment) == 0
    with card_app.ctx.db.read_session() as session:
        rows = list(session.scalars(select(GatewayNotification).order_by(GatewayNotification.id)))
        assert [r.status for r in rows] == ["rejected"] * len(cases)
        details = " | ".join(r.detail for r in rows)
        for field_name in ("Ds_Amount", "Ds_Currency", "Ds_MerchantCode", "Ds_Terminal"):
            assert f"{field_name} mismatch" in details
        assert "unknown order" in details
        assert rows[0].body  # the raw body is kept
        unpaid = session.get(Document, document.id)
        assert unpaid is not None and unpaid.status == "unpaid"
        row = session.get(CardAttempt, attempt.id)
        assert row is not None and row.status == "pending"

    from facturo.accounts.customers import create_staff

    with card_app.ctx.db.transaction() as session:
        staff, _ = create_staff(session, "billing@example.com", "Bea", "billing", "passphrase 42")
        staff_id = staff.id
    with card_app.ctx.db.read_session() as session:
        staff_user = session.get(StaffUser, staff_id)
    with card_app.client(staff=staff_user) as http:
        page = http.get("/admin/ruralvia/notifications")
    assert page.status_code == 200
    assert page.text.count('<span class="status failed">rejected</span>') == len(cases)
    assert "Ds_Amount mismatch" in page.text

    # The genuine answer still settles the attempt afterwards.
    assert post(card_app, signed_message(TEST_KEY, notification_fields(attempt))).status_code == 200
    assert count(card_app, Payment) == 1


@pytest.mark.postgres_only
def test_concurrent_notifications_record_one_payment(card_app: CardApp) -> None:
    attempt, document = new_attempt(card_app)
    body = signed_message(TEST_KEY, notification_fields(attempt), urlsafe=True)
    barrier = threading.Barrier(8)
    codes: list[int] = []

    def deliver() -> None:
        barrier.wait()
        codes.append(post(card_app, body).status_code)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert codes == [200] * 8
    with card_app.ctx.db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(Payment)) == 1
        statuses = sorted(n.status for n in session.scalars(select(GatewayNotification)))
        assert statuses == ["duplicate"] * 7 + ["processed"]
        paid = session.get(Document, document.id)
        assert paid is not None and paid.status == "paid" and paid.amount_paid == paid.total
