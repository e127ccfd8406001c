"""Reverse charge only with a recorded valid VIES consultation; VIES down → VAT charged, asked
again, decided when the invoice is numbered, with what was paid conserved to the cent."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from facturo.billing.orders import place_order
from facturo.billing.payments import record_payment
from facturo.context import Context
from facturo.models import AuditEvent, Customer, Document, OutboxMessage, Payment, Product
from facturo.plugin import recheck_pending
from facturo.testing import Clock, make_customer
from facturo_vies.models import Consultation

from .conftest import DOWN_DE, INVALID_DE, VALID_DE, StandIn

NET = Decimal("149.00")  # the annual licence of make_catalog
WITH_DE_VAT = Decimal("177.31")  # 149.00 + 19 % (Germany, OSS)


def order(ctx: Context, tax_id: str, email: str = "kunde@example.de") -> tuple[int, int]:
    """A verified German business orders the annual licence; (customer id, document id)."""
    customer = make_customer(ctx, email=email, country="DE", tax_id=tax_id, postal_code="10115")
    with ctx.db.transaction() as session:
        owner = session.get(Customer, customer.id)
        product = session.scalar(select(Product).where(Product.code == "licence"))
        assert owner is not None and product is not None
        _, document = place_order(session, ctx, owner, product, "annual")
        return customer.id, document.id


def pay(ctx: Context, document_id: int, amount: Decimal, txn: str) -> None:
    with ctx.db.transaction() as session:
        document = session.get(Document, document_id)
        record_payment(session, ctx, document, "manual", txn, amount, "EUR", ctx.now())


def doc(ctx: Context, document_id: int) -> Document:
    with ctx.db.read_session() as session:
        found = session.get(Document, document_id)
        assert found is not None
        _ = found.lines
        session.expunge_all()
        return found


def emails(ctx: Context, template: str) -> list[OutboxMessage]:
    with ctx.db.read_session() as session:
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.template == template)
            .order_by(OutboxMessage.id)
        )
        return list(session.scalars(query.order_by(OutboxMessage.id)))


def test_valid_consultation_gives_reverse_charge_with_its_number_on_the_invoice(
    vies_ctx: Context,
) -> None:
    _customer_id, document_id = order(vies_ctx, VALID_DE)
    proforma = doc(vies_ctx, document_id)
    assert (proforma.tax_treatment, proforma.total, proforma.tax_total) == (
        "eu_reverse_charge",
        NET,
        Decimal("0.00"),
    )
    with vies_ctx.db.read_session() as session:
        (consultation,) = session.scalars(select(Consultation))
    assert consultation.status == "valid" and consultation.request_identifier
    assert any("Inversión del sujeto pasivo" in legend for legend in proforma.legends)
    assert any(consultation.request_identifier in legend for legend in proforma.legends)
    pay(vies_ctx, document_id, NET, "t-1")
    invoice = doc(vies_ctx, document_id)
    assert invoice.kind == "invoice" and invoice.number and invoice.total == NET
    assert invoice.tax_breakdown == [{"rate": "0.00", "base": "149.00", "tax": "0.00"}]
    assert any(consultation.request_identifier in legend for legend in invoice.legends)


def test_invalid_answer_means_vat_of_the_customer_country(vies_ctx: Context) -> None:
    _customer_id, document_id = order(vies_ctx, INVALID_DE)
    proforma = doc(vies_ctx, document_id)
    assert (proforma.tax_treatment, proforma.total) == ("eu_oss", WITH_DE_VAT)


def test_vies_down_charges_vat_tells_why_and_a_later_answer_reprices(
    vies_ctx: Context, standin: StandIn
) -> None:
    standin.state.down.add("DE")
    _customer_id, document_id = order(vies_ctx, VALID_DE)
    proforma = doc(vies_ctx, document_id)
    assert (proforma.tax_treatment, proforma.total) == ("eu_oss", WITH_DE_VAT)
    (email,) = emails(vies_ctx, "proforma_issued")
    assert "VIES" in email.text_body and "IVA" in email.text_body  # Spanish customer language
    # Still down: the retry changes nothing.
    assert recheck_pending(vies_ctx) == 0
    standin.state.down.clear()
    assert recheck_pending(vies_ctx) == 1
    repriced = doc(vies_ctx, document_id)
    assert (repriced.tax_treatment, repriced.total, repriced.status) == (
        "eu_reverse_charge",
        NET,
        "unpaid",
    )
    assert len(emails(vies_ctx, "proforma_issued")) == 2  # the new amount, with the reason
    assert recheck_pending(vies_ctx) == 0  # nothing left to ask


def test_paid_with_vat_while_down_then_valid_at_numbering_credits_the_vat(
    vies_ctx: Context, standin: StandIn
) -> None:
    standin.state.down.add("DE")
    customer_id, document_id = order(vies_ctx, VALID_DE)
    standin.state.down.clear()  # VIES is back, the job has not run yet
    pay(vies_ctx, document_id, WITH_DE_VAT, "t-2")
    invoice = doc(vies_ctx, document_id)
    assert (invoice.kind, invoice.tax_treatment, invoice.total) == (
        "invoice",
        "eu_reverse_charge",
        NET,
    )
    with vies_ctx.db.read_session() as session:
        customer = session.get(Customer, customer_id)
        (payment,) = session.scalars(select(Payment))
        assert customer is not None
        # Conserved to the cent: 177.31 paid = 149.00 invoiced + 28.31 credit.
        assert payment.amount == WITH_DE_VAT and payment.credited == Decimal("28.31")
        assert invoice.amount_paid == NET
        assert customer.credit_balance == Decimal("28.31")
        retax = session.scalar(select(AuditEvent).where(AuditEvent.action == "document.retax"))
        assert retax is not None
    (receipt,) = emails(vies_ctx, "payment_receipt")
    assert "28,31" in receipt.text_body


def test_number_no_longer_valid_at_numbering_keeps_the_payment_and_asks_for_the_vat(
    vies_ctx: Context, standin: StandIn, clock: Clock
) -> None:
    _customer_id, document_id = order(vies_ctx, VALID_DE)
    assert doc(vies_ctx, document_id).total == NET
    clock.advance(days=31)  # the valid answer is too old to reuse
    standin.state.forced[VALID_DE] = "invalid"
    pay(vies_ctx, document_id, NET, "t-3")
    after = doc(vies_ctx, document_id)
    assert (after.kind, after.status, after.number) == ("proforma", "unpaid", None)
    assert (after.total, after.amount_paid, after.balance) == (
        WITH_DE_VAT,
        NET,
        Decimal("28.31"),
    )
    assert len(emails(vies_ctx, "proforma_issued")) == 2
    pay(vies_ctx, document_id, Decimal("28.31"), "t-4")
    assert doc(vies_ctx, document_id).number is not None


def test_vies_still_down_at_numbering_keeps_the_vat(vies_ctx: Context, standin: StandIn) -> None:
    standin.state.down.add("DE")
    _customer_id, document_id = order(vies_ctx, VALID_DE)
    pay(vies_ctx, document_id, WITH_DE_VAT, "t-5")
    invoice = doc(vies_ctx, document_id)
    assert (invoice.kind, invoice.tax_treatment, invoice.total) == (
        "invoice",
        "eu_oss",
        WITH_DE_VAT,
    )
    # Asked at order time and again at numbering: both recorded as proof.
    with vies_ctx.db.read_session() as session:
        statuses = [c.status for c in session.scalars(select(Consultation))]
    assert statuses == ["unavailable", "unavailable"]


def test_down_number_never_gets_reverse_charge_without_a_valid_consultation(
    vies_ctx: Context,
) -> None:
    _customer_id, document_id = order(vies_ctx, DOWN_DE)
    assert doc(vies_ctx, document_id).tax_treatment == "eu_oss"
