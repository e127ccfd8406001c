"""Credit and refunds under real concurrency on PostgreSQL (issue 14, points 1 and 2), and the
constraints that refuse an impossible balance on both databases."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import partial

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from facturo.billing.documents import LineSpec, cancel_proforma, create_proforma
from facturo.billing.errors import BillingError
from facturo.billing.orders import place_order
from facturo.billing.payments import record_payment
from facturo.billing.refunds import refund, reserved_refunds, resolve_reserved_refund
from facturo.context import Context
from facturo.models import Customer, Document, Product, Refund
from facturo.testing import in_threads, make_catalog, make_customer
from tests.faults.conftest import CountingGateway, count

postgres_only = pytest.mark.postgres_only


def with_credit(ctx: Context, amount: str) -> int:
    customer = make_customer(ctx)
    with ctx.db.transaction() as session:
        session.execute(
            update(Customer)
            .where(Customer.id == customer.id)
            .values(credit_balance=Decimal(amount))
        )
    return customer.id


def credit_of(ctx: Context, customer_id: int) -> Decimal:
    with ctx.db.read_session() as session:
        customer = session.get(Customer, customer_id)
        assert customer is not None
        return customer.credit_balance


def proforma(ctx: Context, customer_id: int, amount: str) -> int:
    with ctx.db.transaction() as session:
        who = session.get(Customer, customer_id)
        assert who is not None
        lines = [LineSpec("Consultoría", Decimal(amount))]
        return create_proforma(session, ctx, who, lines, notify=False).id


def paid_invoice(ctx: Context, gateway: str = "counting", amount: str = "100.00") -> int:
    """An invoice of 121.00 (100.00 + 21 % IVA) paid through ``gateway``."""
    customer = make_customer(ctx, email=f"{gateway}-{amount}@example.com")
    doc_id = proforma(ctx, customer.id, amount)
    with ctx.db.transaction() as session:
        document = session.get(Document, doc_id)
        assert document is not None
        record_payment(
            session, ctx, document, gateway, f"T-{doc_id}", document.total, "EUR", ctx.now()
        )
    return doc_id


@postgres_only
def test_same_order_twice_at_once_spends_the_credit_once(
    make_context: Callable[..., Context],
) -> None:
    ctx = make_context()
    licence, _ = make_catalog(ctx)
    customer_id = with_credit(ctx, "100.00")
    contexts = [make_context() for _ in range(2)]

    def order(c: Context) -> Decimal:
        with c.db.transaction() as session:
            who = session.get(Customer, customer_id)
            product = session.get(Product, licence.id)
            assert who is not None and product is not None
            _, document = place_order(session, c, who, product, "annual", [])
            return document.credit_applied

    applied = in_threads([partial(order, c) for c in contexts])
    assert sum(applied, Decimal("0")) == Decimal("100.00")
    assert sorted(applied) == [Decimal("0.00"), Decimal("100.00")]
    assert credit_of(ctx, customer_id) == Decimal("0.00")


@postgres_only
def test_two_overpayments_at_once_both_become_credit(
    make_context: Callable[..., Context],
) -> None:
    ctx = make_context()
    customer = make_customer(ctx)
    docs = [proforma(ctx, customer.id, "100.00") for _ in range(2)]  # 121.00 each
    contexts = [make_context() for _ in range(2)]

    def overpay(c: Context, doc_id: int) -> None:
        with c.db.transaction() as session:
            document = session.get(Document, doc_id)
            record_payment(
                session, c, document, "test", f"over-{doc_id}", Decimal("131.00"), "EUR", c.now()
            )

    in_threads([partial(overpay, c, d) for c, d in zip(contexts, docs, strict=True)])
    assert credit_of(ctx, customer.id) == Decimal("20.00")


@postgres_only
def test_cancelling_one_proforma_twice_at_once_returns_its_credit_once(
    make_context: Callable[..., Context],
) -> None:
    ctx = make_context()
    customer_id = with_credit(ctx, "50.00")
    doc_id = proforma(ctx, customer_id, "100.00")
    assert credit_of(ctx, customer_id) == Decimal("0.00")
    contexts = [make_context() for _ in range(2)]

    def cancel(c: Context) -> str:
        try:
            with c.db.transaction() as session:
                document = session.get(Document, doc_id)
                assert document is not None
                cancel_proforma(session, c, document, reason="twice")
            return "cancelled"
        except BillingError:
            return "refused"

    assert sorted(in_threads([partial(cancel, c) for c in contexts])) == ["cancelled", "refused"]
    assert credit_of(ctx, customer_id) == Decimal("50.00")


@postgres_only
def test_two_full_refunds_at_once_issue_one_credit_note_and_pay_once(
    make_context: Callable[..., Context], gateway: CountingGateway
) -> None:
    ctx = make_context(extra=[("counting", gateway)])
    doc_id = paid_invoice(ctx)
    contexts = [make_context(extra=[("counting", gateway)]) for _ in range(2)]

    def full_refund(c: Context) -> str:
        try:
            return refund(c, doc_id, None, "duplicate order", "staff:1").status
        except BillingError:
            return "refused"

    outcomes = in_threads([partial(full_refund, c) for c in contexts])
    assert sorted(outcomes) == ["completed", "refused"]
    assert gateway.calls == [(gateway.calls[0][0], Decimal("121.00"))]
    assert count(ctx, Document, Document.kind == "credit_note") == 1
    with ctx.db.read_session() as session:
        invoice = session.get(Document, doc_id)
        assert invoice is not None and invoice.refunded_total == Decimal("121.00")


@postgres_only
def test_two_partial_card_refunds_beyond_the_total_pay_out_only_one(
    make_context: Callable[..., Context], gateway: CountingGateway
) -> None:
    ctx = make_context(extra=[("counting", gateway)])
    doc_id = paid_invoice(ctx)
    contexts = [make_context(extra=[("counting", gateway)]) for _ in range(4)]

    def partial_refund(c: Context) -> str:
        try:
            return refund(c, doc_id, Decimal("70.00"), "goodwill", "staff:1").status
        except BillingError:
            return "refused"

    outcomes = in_threads([partial(partial_refund, c) for c in contexts])
    assert sorted(outcomes) == ["completed", "refused", "refused", "refused"]
    assert len(gateway.calls) == 1
    assert count(ctx, Refund) == 1
    with ctx.db.read_session() as session:
        invoice = session.get(Document, doc_id)
        assert invoice is not None and invoice.refunded_total == Decimal("70.00")


def test_a_declined_gateway_refund_releases_the_reservation(
    pg_ctx: Context, gateway: CountingGateway
) -> None:
    doc_id = paid_invoice(pg_ctx)
    gateway.refuse = True
    outcome = refund(pg_ctx, doc_id, Decimal("50.00"), "goodwill", "staff:1")
    assert outcome.status == "failed" and "declined by the bank" in outcome.error
    assert outcome.credit_note_number is None
    with pg_ctx.db.read_session() as session:
        invoice = session.get(Document, doc_id)
        assert invoice is not None and invoice.refunded_total == Decimal("0.00")
        row = session.scalars(select(Refund)).one()
        assert row.status == "failed" and "declined" in row.reason
    gateway.refuse = False
    assert refund(pg_ctx, doc_id, None, "full", "staff:1").status == "completed"
    assert len(gateway.calls) == 2


def test_a_crash_after_the_gateway_paid_leaves_a_reserved_refund_staff_can_confirm(
    pg_ctx: Context, gateway: CountingGateway
) -> None:
    doc_id = paid_invoice(pg_ctx)
    gateway.die_after_paying = True
    with pytest.raises(SystemExit):
        refund(pg_ctx, doc_id, Decimal("21.00"), "price correction", "staff:1")
    gateway.die_after_paying = False
    with pg_ctx.db.read_session() as session:
        in_doubt = reserved_refunds(session, doc_id)
        assert [r.amount for r in in_doubt] == [Decimal("21.00")]
        invoice = session.get(Document, doc_id)
        assert invoice is not None and invoice.refunded_total == Decimal("21.00")  # still held
    # the reservation still counts: what is left cannot be refunded twice over
    with pytest.raises(BillingError):
        refund(pg_ctx, doc_id, Decimal("101.00"), "too much", "staff:1")
    outcome = resolve_reserved_refund(pg_ctx, in_doubt[0].id, True, "staff:2", "CNT-1")
    assert outcome.status == "completed" and outcome.credit_note_number == "R2026-000001"
    assert len(gateway.calls) == 1  # confirming never asks the gateway again
    with pytest.raises(BillingError):
        resolve_reserved_refund(pg_ctx, in_doubt[0].id, False, "staff:2")
    with pg_ctx.db.read_session() as session:
        note = session.scalars(select(Document).where(Document.kind == "credit_note")).one()
        assert note.total == Decimal("-21.00")
        invoice = session.get(Document, doc_id)
        assert invoice is not None and invoice.refunded_total == Decimal("21.00")


def test_a_reserved_refund_the_gateway_did_not_pay_is_released(
    pg_ctx: Context, gateway: CountingGateway
) -> None:
    doc_id = paid_invoice(pg_ctx)
    gateway.die_after_paying = True
    with pytest.raises(SystemExit):
        refund(pg_ctx, doc_id, None, "duplicate", "staff:1")
    with pg_ctx.db.read_session() as session:
        refund_id = reserved_refunds(session)[0].id
    outcome = resolve_reserved_refund(pg_ctx, refund_id, False, "staff:2")
    assert outcome.status == "failed"
    with pg_ctx.db.read_session() as session:
        invoice = session.get(Document, doc_id)
        assert invoice is not None and invoice.refunded_total == Decimal("0.00")
    assert count(pg_ctx, Document, Document.kind == "credit_note") == 0


def test_database_refuses_negative_credit_and_over_refund(pg_ctx: Context) -> None:
    customer_id = with_credit(pg_ctx, "10.00")
    with pytest.raises(IntegrityError), pg_ctx.db.transaction() as session:
        session.execute(
            update(Customer)
            .where(Customer.id == customer_id)
            .values(credit_balance=Customer.credit_balance - Decimal("10.01"))
        )
    doc_id = paid_invoice(pg_ctx, gateway="test")
    for bad in ("121.01", "-0.01"):
        with pytest.raises(IntegrityError), pg_ctx.db.transaction() as session:
            session.execute(
                update(Document).where(Document.id == doc_id).values(refunded_total=Decimal(bad))
            )
    with pg_ctx.db.transaction() as session:  # the edge itself is allowed
        session.execute(
            update(Document).where(Document.id == doc_id).values(refunded_total=Decimal("121.00"))
        )
    assert credit_of(pg_ctx, customer_id) == Decimal("10.00")
