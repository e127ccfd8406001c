"""Place-of-supply evidence on each invoice: the billing country and the payer's country the
gateway reported; a consumer's invoice where they disagree is flagged for staff review."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from facturo.billing.documents import LineSpec, create_proforma
from facturo.billing.errors import BillingError
from facturo.billing.evidence import iso_country, open_conflicts, review_conflict
from facturo.billing.payments import record_payment
from facturo.models import AuditEvent, Customer, Document, Payment, TaxEvidence
from facturo.testing import make_customer
from tests.billing.conftest import Billing


def paid_invoice(
    billing: Billing, customer: Customer, payer_country: str | None, txn: str = "t-1"
) -> int:
    ctx = billing.ctx
    with ctx.db.transaction() as session:
        owner = session.get(Customer, customer.id)
        assert owner is not None
        document = create_proforma(session, ctx, owner, [LineSpec("Licencia", Decimal("100"))])
        record_payment(
            session,
            ctx,
            document,
            "ruralvia",
            txn,
            document.total,
            "EUR",
            ctx.now(),
            payer_country=payer_country,
        )
        assert document.number is not None
        return document.id


def evidence(billing: Billing, document_id: int) -> TaxEvidence:
    with billing.ctx.db.read_session() as session:
        row = session.scalar(select(TaxEvidence).where(TaxEvidence.document_id == document_id))
        assert row is not None
        return row


def test_gateway_country_codes_are_read_as_iso_alpha2() -> None:
    assert iso_country("724") == "ES"  # Redsys Ds_Card_Country is numeric
    assert iso_country("250") == "FR"
    assert iso_country("40") == "AT"  # leading zeros may be missing
    assert iso_country("de") == "DE"
    assert iso_country("") is None and iso_country("999") is None and iso_country("XYZ") is None


def test_agreeing_evidence_is_recorded_and_not_flagged(billing: Billing) -> None:
    customer = make_customer(billing.ctx)
    document_id = paid_invoice(billing, customer, "724")
    row = evidence(billing, document_id)
    assert (row.billing_country, row.payment_country, row.payment_source) == (
        "ES",
        "ES",
        "ruralvia",
    )
    assert row.conflict is False
    with billing.ctx.db.read_session() as session:
        payment = session.scalar(select(Payment))
        assert payment is not None and payment.payer_country == "ES"


def test_disagreeing_evidence_flags_the_invoice_until_reviewed_with_a_note(
    billing: Billing,
) -> None:
    ctx = billing.ctx
    customer = make_customer(ctx)
    document_id = paid_invoice(billing, customer, "250")  # a French card, a Spanish address
    row = evidence(billing, document_id)
    assert (row.billing_country, row.payment_country, row.conflict) == ("ES", "FR", True)
    with ctx.db.read_session() as session:
        assert [doc.id for _row, doc in open_conflicts(session)] == [document_id]
    with pytest.raises(BillingError), ctx.db.transaction() as session:
        document = session.get(Document, document_id)
        assert document is not None
        review_conflict(session, ctx, document, "staff:1", "  ")
    with ctx.db.transaction() as session:
        document = session.get(Document, document_id)
        assert document is not None
        review_conflict(session, ctx, document, "staff:1", "Vive en Madrid: DNI y factura de luz")
    with ctx.db.read_session() as session:
        assert open_conflicts(session) == []
        audit = session.scalar(select(AuditEvent).where(AuditEvent.action == "evidence.review"))
        assert audit is not None and audit.after["payment_country"] == "FR"


def test_business_reverse_charge_is_not_flagged(billing: Billing) -> None:
    customer = make_customer(
        billing.ctx, email="firma@example.de", country="DE", tax_id="DE136695976"
    )
    document_id = paid_invoice(billing, customer, "250")
    row = evidence(billing, document_id)
    assert row.payment_country == "FR" and row.conflict is False


def test_no_reported_country_is_no_conflict(billing: Billing) -> None:
    customer = make_customer(billing.ctx)
    row = evidence(billing, paid_invoice(billing, customer, None))
    assert (row.billing_country, row.payment_country, row.conflict) == ("ES", "", False)
