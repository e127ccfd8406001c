"""The dashboard's short document list: the same order as the full list, cut in SQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.exc import InvalidRequestError

from facturo.billing.documents import (
    LineSpec,
    create_proforma,
    customer_documents,
    recent_documents,
)
from facturo.billing.payments import record_payment
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
        for limit in (1, 3, 5, 10):
            recent = recent_documents(session, customer.id, limit)
            assert [document.id for document in recent] == full[:limit]
        first = recent_documents(session, customer.id, 10)
        assert [d.status for d in first[:2]] == ["unpaid", "unpaid"]
        assert all(d.customer_id == customer.id for d in first)
        assert first[0].credit_notes == []  # loaded with the rows
        with pytest.raises(InvalidRequestError):
            _ = first[0].seller  # the snapshot is not read for a list
