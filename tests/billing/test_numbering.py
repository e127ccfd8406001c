"""Number series: yearly, gap-free, configurable formats."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from facturo.billing import numbering
from facturo.billing.documents import LineSpec, create_proforma
from facturo.billing.payments import record_payment
from facturo.context import Context
from facturo.models import Customer, Document
from facturo.testing import Clock, make_customer


def test_series_are_yearly_and_independent(ctx: Context) -> None:
    with ctx.db.transaction() as session:
        assert numbering.allocate(session, "invoice", 2026, "F{year}-{seq:06}") == "F2026-000001"
        assert numbering.allocate(session, "invoice", 2026, "F{year}-{seq:06}") == "F2026-000002"
        assert numbering.allocate(session, "invoice", 2027, "F{year}-{seq:06}") == "F2027-000001"
        assert numbering.allocate(session, "credit_note", 2026, "R{year}-{seq:06}") == (
            "R2026-000001"
        )
        block = numbering.allocate_block(session, "proforma", 2026, "P{seq}", 3)
        assert block == ["P1", "P2", "P3"]
        assert numbering.allocate(session, "proforma", 2026, "P{seq}") == "P4"
        assert numbering.allocate_block(session, "proforma", 2026, "P{seq}", 0) == []
        with pytest.raises(ValueError):
            numbering.allocate(session, "other", 2026, "{seq}")


def test_rolled_back_allocation_leaves_no_gap(ctx: Context) -> None:
    with pytest.raises(RuntimeError), ctx.db.transaction() as session:
        numbering.allocate(session, "invoice", 2026, "F{year}-{seq:06}")
        raise RuntimeError("payment failed")
    with ctx.db.transaction() as session:
        assert numbering.allocate(session, "invoice", 2026, "F{year}-{seq:06}") == "F2026-000001"


def test_configured_format_and_year_from_payment_date(
    make_context: Callable[..., Context], clock: Clock
) -> None:
    ctx = make_context(overrides={"billing.invoice_format": "FAC/{year}/{seq:04}"})
    customer = make_customer(ctx)
    clock.set(datetime(2026, 12, 31, 23, 30, tzinfo=UTC))  # already 2027 in Madrid
    with ctx.db.transaction() as session:
        who = session.get(Customer, customer.id)
        assert who is not None
        doc = create_proforma(session, ctx, who, [LineSpec("Licencia", Decimal("10.00"))])
        record_payment(session, ctx, doc, "test", "ny", doc.total, "EUR", ctx.now())
        invoice = session.get(Document, doc.id)
        assert invoice is not None
        assert invoice.number == "FAC/2027/0001"
        assert str(invoice.invoice_date) == "2027-01-01"
