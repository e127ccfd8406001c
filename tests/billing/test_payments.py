"""Payments: overpayment credit, review cases, refunds and history."""

from __future__ import annotations

from decimal import Decimal

import pytest

from facturo.billing.documents import LineSpec, create_proforma
from facturo.billing.errors import BillingError
from facturo.billing.payments import (
    apply_reviewed_payment,
    dismiss_reviewed_payment,
    payment_history,
    record_payment,
)
from facturo.billing.refunds import refund_invoice
from facturo.models import Customer, Document, Payment
from facturo.testing import make_customer
from tests.billing.conftest import Billing, reload


def proforma(billing: Billing, customer_id: int, amount: str) -> int:
    with billing.ctx.db.transaction() as session:
        who = session.get(Customer, customer_id)
        assert who is not None
        doc = create_proforma(session, billing.ctx, who, [LineSpec("Licencia", Decimal(amount))])
        return doc.id


def pay(billing: Billing, document_id: int | None, txn: str, amount: str, currency: str = "EUR"):  # type: ignore[no-untyped-def]
    with billing.ctx.db.transaction() as session:
        document = session.get(Document, document_id) if document_id else None
        return record_payment(
            session,
            billing.ctx,
            document,
            "test",
            txn,
            Decimal(amount),
            currency,
            billing.ctx.now(),
            {},
        )


def test_overpayment_becomes_credit_applied_to_next_proforma(billing: Billing) -> None:
    ctx = billing.ctx
    customer = make_customer(ctx)
    first = proforma(billing, customer.id, "100.00")  # 121.00
    outcome = pay(billing, first, "over", "150.00")
    assert outcome.payment.credited == Decimal("29.00")
    assert reload(ctx, Document, first).status == "paid"
    assert reload(ctx, Customer, customer.id).credit_balance == Decimal("29.00")
    second = proforma(billing, customer.id, "50.00")  # 60.50
    doc = reload(ctx, Document, second)
    assert doc.credit_applied == Decimal("29.00") and doc.balance == Decimal("31.50")
    assert reload(ctx, Customer, customer.id).credit_balance == Decimal("0.00")
    pay(billing, second, "rest", "31.50")
    paid = reload(ctx, Document, second)
    assert paid.status == "paid" and paid.number == "F2026-000002"


def test_payment_without_document_and_staff_review(billing: Billing) -> None:
    ctx = billing.ctx
    customer = make_customer(ctx)
    doc = proforma(billing, customer.id, "10.00")
    orphan = pay(billing, None, "orphan", "12.10")
    assert orphan.payment.status == "needs_review"
    with ctx.db.transaction() as session:
        payment = session.get(Payment, orphan.payment.id)
        document = session.get(Document, doc)
        assert payment is not None and document is not None
        apply_reviewed_payment(session, ctx, payment, document, "staff:1")
        assert document.status == "paid"
        with pytest.raises(BillingError):
            dismiss_reviewed_payment(session, payment, "staff:1", "already applied")
    other = pay(billing, None, "other", "5.00")
    with ctx.db.transaction() as session:
        payment = session.get(Payment, other.payment.id)
        assert payment is not None
        dismiss_reviewed_payment(session, payment, "staff:1", "refunded by bank")
        assert payment.status == "dismissed"


def test_invalid_payments_are_refused(billing: Billing) -> None:
    customer = make_customer(billing.ctx)
    doc = proforma(billing, customer.id, "10.00")
    with pytest.raises(BillingError):
        pay(billing, doc, "zero", "0.00")
    with pytest.raises(BillingError):
        pay(billing, doc, "  ", "1.00")
    assert reload(billing.ctx, Document, doc).amount_paid == 0


def test_refund_issues_credit_note_and_history(billing: Billing) -> None:
    ctx = billing.ctx
    customer = make_customer(ctx)
    doc = proforma(billing, customer.id, "100.00")
    pay(billing, doc, "full", "121.00")
    with ctx.db.transaction() as session:
        invoice = session.get(Document, doc)
        assert invoice is not None
        note, refund = refund_invoice(
            session, ctx, invoice, Decimal("21.00"), "discount", "staff:1"
        )
        assert note.number == "R2026-000001" and note.total == Decimal("-21.00")
        assert refund.amount == Decimal("21.00") and refund.gateway == "manual"
        history = payment_history(session, customer.id)
        assert [p.gateway_txn_id for p in history] == ["full"]
        assert history[0].refunded == Decimal("21.00")
