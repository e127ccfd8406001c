"""Order → proforma → partial and final payment → numbered invoice → provisioning."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from facturo.billing.cycles import add_months
from facturo.billing.orders import OrderError, order_addon, place_order
from facturo.billing.payments import payment_history, record_payment
from facturo.models import Customer, Document, OutboxMessage, Payment, Product, Service
from facturo.testing import Clock, drain, make_customer
from tests.billing.conftest import Billing, at, reload


def order(billing: Billing, customer: Customer) -> tuple[list[int], Document]:
    with billing.ctx.db.transaction() as session:
        who = session.get(Customer, customer.id)
        licence = session.get(Product, billing.licence.id)
        addon = session.get(Product, billing.addons[0].id)
        assert who and licence and addon
        services, document = place_order(
            session, billing.ctx, who, licence, "annual", [(addon, "annual")]
        )
        return [s.id for s in services], document


def pay(billing: Billing, document_id: int, txn: str, amount: str, currency: str = "EUR"):  # type: ignore[no-untyped-def]
    with billing.ctx.db.transaction() as session:
        document = session.get(Document, document_id)
        return record_payment(
            session,
            billing.ctx,
            document,
            "test",
            txn,
            Decimal(amount),
            currency,
            billing.ctx.now(),
            {"n": txn},
        )


def test_order_partial_then_final_payment_issues_invoice_and_provisions(
    billing: Billing, clock: Clock
) -> None:
    ctx = billing.ctx
    customer = make_customer(ctx)
    service_ids, proforma = order(billing, customer)
    assert proforma.kind == "proforma" and proforma.status == "unpaid"
    assert proforma.number is None and proforma.reference
    # 149 + 39 = 188 base, 21 % IVA = 39.48 → 227.48
    assert proforma.subtotal == Decimal("188.00")
    assert proforma.tax_total == Decimal("39.48")
    assert proforma.total == Decimal("227.48")
    with ctx.db.read_session() as session:
        states = {s.status for s in session.scalars(select(Service))}
    assert states == {"pending"}

    pay(billing, proforma.id, "t1", "100.00")
    partial = reload(ctx, Document, proforma.id)
    assert partial.status == "unpaid" and partial.number is None
    assert partial.balance == Decimal("127.48")
    drain(ctx)
    assert billing.recorder.calls == []

    clock.set(at(2026, 3, 5))
    pay(billing, proforma.id, "t2", "127.48")
    invoice = reload(ctx, Document, proforma.id)
    assert invoice.kind == "invoice" and invoice.status == "paid"
    assert invoice.number == "F2026-000001"
    assert invoice.invoice_date == date(2026, 3, 5)
    assert invoice.customer_data["name"] == "Ana García"
    assert invoice.seller["legal_name"] == "Facturo Test S.L."

    drain(ctx)
    assert sorted(billing.recorder.calls) == sorted((sid, "create") for sid in service_ids)
    assert billing.recorder.paid == ["F2026-000001"]
    for sid in service_ids:
        service = reload(ctx, Service, sid)
        assert service.status == "active"
        assert service.next_due_date == add_months(date(2026, 3, 5), 12)
    with ctx.db.read_session() as session:
        templates = sorted(m.template for m in session.scalars(select(OutboxMessage)))
        assert len(payment_history(session, customer.id)) == 2
        assert len(payment_history(session)) == 2
    assert templates.count("proforma_issued") == 1
    assert templates.count("payment_receipt") == 1


def test_repeated_payment_notification_is_recorded_once(billing: Billing) -> None:
    customer = make_customer(billing.ctx)
    _, proforma = order(billing, customer)
    first = pay(billing, proforma.id, "dup", "10.00")
    again = pay(billing, proforma.id, "dup", "10.00")
    assert first.created and not again.created
    assert again.payment.id == first.payment.id
    assert reload(billing.ctx, Document, proforma.id).amount_paid == Decimal("10.00")


def test_wrong_currency_and_cancelled_proforma_need_review(billing: Billing) -> None:
    from facturo.billing.documents import cancel_proforma

    ctx = billing.ctx
    customer = make_customer(ctx)
    _, proforma = order(billing, customer)
    outcome = pay(billing, proforma.id, "usd", "227.48", currency="USD")
    assert outcome.payment.status == "needs_review"
    assert reload(ctx, Document, proforma.id).amount_paid == 0
    with ctx.db.transaction() as session:
        document = session.get(Document, proforma.id)
        assert document is not None
        cancel_proforma(session, ctx, document, reason="customer asked")
    outcome = pay(billing, proforma.id, "late", "227.48")
    assert outcome.payment.status == "needs_review"
    cancelled = reload(ctx, Document, proforma.id)
    assert cancelled.status == "cancelled" and cancelled.number is None
    with ctx.db.read_session() as session:
        assert session.scalar(select(Payment).where(Payment.gateway_txn_id == "late")) is not None


def test_addon_ordered_later_is_its_own_service_and_bill(billing: Billing) -> None:
    ctx = billing.ctx
    customer = make_customer(ctx)
    service_ids, proforma = order(billing, customer)
    pay(billing, proforma.id, "licence", "227.48")  # add-ons are ordered for a paid licence
    with ctx.db.transaction() as session:
        who = session.get(Customer, customer.id)
        parent = session.get(Service, service_ids[0])
        addon = session.get(Product, billing.addons[1].id)
        assert who and parent and addon
        service, document = order_addon(session, ctx, who, parent, addon, "annual")
        assert service.parent_id == parent.id and document.id != proforma.id
        assert document.total == Decimal("35.09")  # 29.00 + 21 %
        licence = session.get(Product, billing.licence.id)
        assert licence is not None
        with pytest.raises(OrderError):
            order_addon(session, ctx, who, parent, licence, "annual")
