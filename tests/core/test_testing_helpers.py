"""The helpers an integrator's end-to-end test uses: pay a document, run the billing run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from facturo.billing.orders import place_order
from facturo.context import Context
from facturo.models import Customer, Document, Payment
from facturo.testing import make_catalog, make_customer, pay, run_billing


def test_pay_issues_the_invoice_and_run_billing_renews(
    make_context: Callable[..., Context],
) -> None:
    ctx = make_context()
    licence, _addons = make_catalog(ctx)
    customer = make_customer(ctx)
    with ctx.db.transaction() as session:
        owner = session.get(Customer, customer.id)
        assert owner is not None
        _services, proforma = place_order(session, ctx, owner, licence, "annual")
        proforma_id = proforma.id
    payment_id = pay(ctx, proforma_id)
    with ctx.db.read_session() as session:
        assert session.get(Payment, payment_id) is not None
        document = session.get(Document, proforma_id)
        assert document is not None and document.number and document.status == "paid"
    report = run_billing(ctx, ctx.today() + timedelta(days=360))
    with ctx.db.read_session() as session:
        renewals = session.scalars(
            select(Document).where(Document.kind == "proforma", Document.id != proforma_id)
        ).all()
    assert report.on == ctx.today() + timedelta(days=360)
    assert len(renewals) == 1  # the renewal proforma, ahead of the due date
