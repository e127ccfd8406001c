"""The billing run asks VIES for each EU business it renews and keeps the answer as proof."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from facturo.billing.billing_run import billing_run
from facturo.context import Context
from facturo.models import Customer, Document, Product, Service, TaxEvidence
from facturo.plugin import recheck_pending
from facturo.testing import make_customer

from .conftest import DOWN_DE, VALID_DE, StandIn


def active_licence(ctx: Context, customer: Customer, due: date) -> None:
    with ctx.db.transaction() as session:
        product = session.scalar(select(Product).where(Product.code == "licence"))
        assert product is not None
        session.add(
            Service(
                customer_id=customer.id,
                product_id=product.id,
                status="active",
                cycle="annual",
                price=Decimal("149.00"),
                currency="EUR",
                next_due_date=due,
                provisioner_data={},
                label="",
                activated_at=ctx.now(),
            )
        )


def test_renewals_carry_the_vies_answer_and_unknown_ones_are_asked_again(
    vies_ctx: Context, standin: StandIn
) -> None:
    today = vies_ctx.today()
    valid = make_customer(vies_ctx, email="a@example.de", country="DE", tax_id=VALID_DE)
    down = make_customer(vies_ctx, email="b@example.de", country="DE", tax_id=DOWN_DE)
    for customer in (valid, down):
        active_licence(vies_ctx, customer, today + timedelta(days=10))
    billing_run(vies_ctx, today)
    with vies_ctx.db.read_session() as session:
        query = select(Document, TaxEvidence).join(
            TaxEvidence, TaxEvidence.document_id == Document.id
        )
        rows = {
            row.Document.customer_id: (row.Document, row.TaxEvidence)
            for row in session.execute(query)
        }
    valid_doc, valid_evidence = rows[valid.id]
    assert (valid_doc.tax_treatment, valid_doc.total) == ("eu_reverse_charge", Decimal("149.00"))
    assert valid_evidence.vat_status == "valid" and valid_evidence.vat_reference.startswith("WAPI")
    assert any(valid_evidence.vat_reference in legend for legend in valid_doc.legends)
    down_doc, down_evidence = rows[down.id]
    assert (down_doc.tax_treatment, down_evidence.vat_status) == ("eu_oss", "unknown")
    standin.state.forced[DOWN_DE] = "valid"
    assert recheck_pending(vies_ctx) == 1
    with vies_ctx.db.read_session() as session:
        repriced = session.get(Document, down_doc.id)
        assert repriced is not None and repriced.total == Decimal("149.00")
