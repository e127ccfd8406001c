"""Refunds visible (#16.2): the invoice's refund state from its credit notes, refund lines in
the payment history, takings net of refunds; payment methods named for people (#16.6) and
transfers recorded with only a date kept as a value date (#16.7)."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from facturo.billing.methods import card_details, method_name
from facturo.billing.movements import (
    Filters,
    customer_history,
    document_movements,
    history,
    takings_since,
)
from facturo.billing.payments import record_manual_payment, record_payment
from facturo.billing.refund_state import display_status, refund_state
from facturo.billing.refunds import refund
from facturo.models import Document, Payment
from facturo.testing import make_customer
from tests.billing.conftest import Billing
from tests.billing.test_payments import pay, proforma


def _card_payment(billing: Billing, document_id: int, txn: str, amount: str) -> None:
    with billing.ctx.db.transaction() as session:
        document = session.get(Document, document_id)
        record_payment(
            session,
            billing.ctx,
            document,
            "test",
            txn,
            Decimal(amount),
            "EUR",
            billing.ctx.now(),
            details=card_details("Visa", "454881******4242"),
        )


def test_refund_state_follows_the_credit_notes(billing: Billing) -> None:
    ctx = billing.ctx
    customer = make_customer(ctx)
    doc = proforma(billing, customer.id, "100.00")  # 121.00
    pay(billing, doc, "full", "121.00")
    with ctx.db.read_session() as session:
        invoice = session.get(Document, doc)
        assert invoice is not None
        assert refund_state(invoice) is None and display_status(invoice) == "paid"
    refund(ctx, doc, Decimal("21.00"), "discount", "staff:1")
    with ctx.db.read_session() as session:
        invoice = session.get(Document, doc)
        assert invoice is not None
        assert refund_state(invoice) == "partly_refunded"
        assert display_status(invoice) == "partly_refunded"
        assert [n.number for n in invoice.credit_notes] == ["R2026-000001"]
        note = invoice.credit_notes[0]
        assert note.original is not None and note.original.id == doc
        assert refund_state(note) is None and display_status(note) == "issued"
    refund(ctx, doc, None, "cancelled order", "staff:1")
    with ctx.db.read_session() as session:
        invoice = session.get(Document, doc)
        assert invoice is not None
        assert refund_state(invoice) == "refunded" and display_status(invoice) == "refunded"
        assert invoice.status == "paid"  # the stored state of a legal invoice does not change


def test_payment_history_has_refund_lines(billing: Billing) -> None:
    ctx = billing.ctx
    customer = make_customer(ctx)
    other = make_customer(ctx, email="otro@example.com")
    doc = proforma(billing, customer.id, "100.00")
    _card_payment(billing, doc, "card-1", "121.00")
    pay(billing, proforma(billing, other.id, "10.00"), "other", "12.10")
    outcome = refund(ctx, doc, Decimal("21.00"), "discount", "staff:1")
    assert outcome.status == "manual"
    with ctx.db.read_session() as session:
        rows = customer_history(session, customer.id)
        assert [(r.kind, r.amount) for r in rows] == [
            ("refund", Decimal("-21.00")),
            ("payment", Decimal("121.00")),
        ]
        back = rows[0]
        assert (
            back.credit_note is not None and back.credit_note.number == outcome.credit_note_number
        )
        assert back.document is not None and back.document.id == doc
        assert back.details == {"card_brand": "Visa", "card_last4": "4242"}  # the card paid
        on_invoice = document_movements(session, back.document)
        assert [m.kind for m in on_invoice] == ["payment", "refund"]
        everyone = history(session, Filters(every_refund=True), limit=None)
        assert sorted(m.amount for m in everyone) == [
            Decimal("-21.00"),
            Decimal("12.10"),
            Decimal("121.00"),
        ]
        only_refunds = history(session, Filters(kind="refund"), limit=None)
        assert [m.kind for m in only_refunds] == ["refund"]
        page_two = history(session, Filters(), limit=2, offset=2)
        assert len(page_two) == 1


def test_takings_are_net_of_refunds(billing: Billing) -> None:
    ctx = billing.ctx
    customer = make_customer(ctx)
    doc = proforma(billing, customer.id, "100.00")
    pay(billing, doc, "full", "121.00")
    refund(ctx, doc, Decimal("21.00"), "discount", "staff:1")
    month = datetime.combine(ctx.today().replace(day=1), time(), tzinfo=ctx.settings.zone)
    with ctx.db.read_session() as session:
        takings = takings_since(session, month)
    assert takings.gross == Decimal("121.00")
    assert takings.refunds == Decimal("21.00")
    assert takings.net == Decimal("100.00")


def test_method_names_for_people(billing: Billing) -> None:
    ctx = billing.ctx
    labels = {"transfer": {"es": "Transferencia bancaria", "en": "Bank transfer"}}
    visa = card_details("Visa", "454881******4242")
    assert visa == {"card_brand": "Visa", "card_last4": "4242"}
    assert card_details("", "") == {}
    assert card_details("Mastercard", "**** 5454") == {
        "card_brand": "Mastercard",
        "card_last4": "5454",
    }
    assert card_details("Mastercard", "545454******") == {"card_brand": "Mastercard"}
    assert method_name(ctx, "ruralvia", visa, "es", labels) == "Tarjeta Visa ····4242"
    assert method_name(ctx, "ruralvia", visa, "en", labels) == "Visa card ····4242"
    assert method_name(ctx, "transfer", {}, "es", labels) == "Transferencia bancaria"
    assert method_name(ctx, "transfer", None, "en", labels) == "Bank transfer"
    assert method_name(ctx, "manual", {}, "es", labels) == "Reembolso manual"
    assert method_name(ctx, "unknown", {}, "es", labels) == "unknown"


def test_transfer_with_only_a_date_keeps_the_value_date(billing: Billing) -> None:
    ctx = billing.ctx
    customer = make_customer(ctx)
    doc = proforma(billing, customer.id, "100.00")
    paid_on = ctx.today().replace(day=1)
    with ctx.db.transaction() as session:
        document = session.get(Document, doc)
        assert document is not None
        outcome = record_manual_payment(
            session,
            ctx,
            document,
            Decimal("121.00"),
            paid_on,
            "BANK-7",
            "staff:1",
            method="transfer",
        )
        payment_id = outcome.payment.id
    with ctx.db.read_session() as session:
        payment = session.get(Payment, payment_id)
        assert payment is not None
        assert payment.value_date == paid_on
        assert payment.paid_at.astimezone(ctx.settings.zone).date() == paid_on
        line = customer_history(session, customer.id)[0]
        assert line.value_date == paid_on
    template = ctx.templates.from_string("{{ p|when('es') }}|{{ p|when('en') }}")
    shown = template.render(p=line)
    assert shown == f"{paid_on:%d/%m/%Y}|{paid_on.day} {paid_on:%b %Y}"
    assert ":" not in shown  # a date, never an hour
    assert isinstance(paid_on, date)
