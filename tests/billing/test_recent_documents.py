"""The dashboard's short document list (the overview): the same order as the full list, cut
in SQL."""

from __future__ import annotations

from decimal import Decimal

from facturo.billing.documents import LineSpec, create_proforma, customer_documents
from facturo.billing.overview import RECENT_DOCUMENTS, read_overview
from facturo.billing.payments import record_payment
from facturo.db.reader import SessionReader
from facturo.models import Customer
from facturo.testing import make_customer
from tests.billing.conftest import Billing


def test_recent_documents_match_the_full_list(billing: Billing) -> None:
    ctx = billing.ctx
    customer = make_customer(ctx, email="recent@example.com")
    other = make_customer(ctx, email="someone-else@example.com")
    with ctx.db.transaction() as session:
        who = session.get(Customer, customer.id)
        stranger = session.get(Customer, other.id)
        assert who is not None and stranger is not None
        create_proforma(session, ctx, stranger, [LineSpec("Other", Decimal("5.00"))])
        for number in range(7):
            document = create_proforma(
                session, ctx, who, [LineSpec(f"Month {number}", Decimal("15.00"))], notify=False
            )
            if number % 3 != 1:  # paid ones between the unpaid
                record_payment(
                    session, ctx, document, "test", f"r-{number}", document.total, "EUR",
                    ctx.now(), {},
                )  # fmt: skip
    with ctx.db.read_session() as session:
        full = [document.id for document in customer_documents(session, customer.id)]
        assert len(full) == 7
        overview = read_overview(SessionReader(session), customer.id)
    assert overview is not None
    shown = [document.id for document in overview.documents]
    assert shown == full[:RECENT_DOCUMENTS]
    assert [d.status for d in overview.documents[:2]] == ["unpaid", "unpaid"]
    assert all(d.credit_notes == () for d in overview.documents)
