"""Credit notes, cancellation and the immutability of issued documents."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from facturo.billing.documents import LineSpec, cancel_proforma, create_credit_note, create_proforma
from facturo.billing.errors import BillingError, ImmutableDocumentError
from facturo.billing.payments import record_payment
from facturo.models import Customer, Document
from facturo.testing import make_customer
from tests.billing.conftest import Billing


def paid_invoice(billing: Billing, email: str = "ana@example.com") -> int:
    ctx = billing.ctx
    customer = make_customer(ctx, email=email)
    with ctx.db.transaction() as session:
        who = session.get(Customer, customer.id)
        assert who is not None
        document = create_proforma(
            session,
            ctx,
            who,
            [
                LineSpec(description="Licencia", unit_price=Decimal("149.00")),
                LineSpec(description="Proveedor", unit_price=Decimal("39.00")),
            ],
        )
        record_payment(
            session, ctx, document, "test", f"t-{email}", document.total, "EUR", ctx.now(), {}
        )
        assert document.number is not None
        return document.id


def test_full_credit_note(billing: Billing) -> None:
    ctx = billing.ctx
    invoice_id = paid_invoice(billing)
    with ctx.db.transaction() as session:
        invoice = session.get(Document, invoice_id)
        assert invoice is not None
        note = create_credit_note(session, ctx, invoice, None, "duplicate order")
        assert note.number == "R2026-000001" and note.kind == "credit_note"
        assert note.original_id == invoice.id and note.reason == "duplicate order"
        assert note.total == Decimal("-227.48")
        assert [line.amount for line in note.lines] == [Decimal("-149.00"), Decimal("-39.00")]
        assert invoice.refunded_total == Decimal("227.48")
        with pytest.raises(BillingError):
            create_credit_note(session, ctx, invoice, Decimal("1.00"), "nothing left")


def test_partial_credit_note_and_reason_required(billing: Billing) -> None:
    ctx = billing.ctx
    invoice_id = paid_invoice(billing)
    with ctx.db.transaction() as session:
        invoice = session.get(Document, invoice_id)
        assert invoice is not None
        with pytest.raises(BillingError):
            create_credit_note(session, ctx, invoice, Decimal("50.00"), "   ")
        note = create_credit_note(session, ctx, invoice, Decimal("50.00"), "price correction")
        assert note.total == Decimal("-50.00")
        assert note.subtotal + note.tax_total == Decimal("-50.00")
        assert note.number == "R2026-000001"
        second = create_credit_note(session, ctx, invoice, Decimal("10.00"), "more")
        assert second.number == "R2026-000002"
        assert invoice.refunded_total == Decimal("60.00")
        with pytest.raises(BillingError):
            create_credit_note(session, ctx, invoice, Decimal("500.00"), "too much")


def test_cancelled_proforma_consumes_no_invoice_number(billing: Billing) -> None:
    ctx = billing.ctx
    customer = make_customer(ctx)
    with ctx.db.transaction() as session:
        who = session.get(Customer, customer.id)
        assert who is not None
        doc = create_proforma(session, ctx, who, [LineSpec("Licencia", Decimal("10.00"))])
        cancel_proforma(session, ctx, doc, reason="changed mind")
        assert doc.status == "cancelled"
        with pytest.raises(BillingError):
            cancel_proforma(session, ctx, doc)
    invoice_id = paid_invoice(billing, "bob@example.com")
    with ctx.db.read_session() as session:
        invoice = session.get(Document, invoice_id)
        assert invoice is not None and invoice.number == "F2026-000001"


def test_issued_invoice_refuses_orm_changes(billing: Billing) -> None:
    ctx = billing.ctx
    invoice_id = paid_invoice(billing)
    for change in ("total", "number", "delete", "line", "line_delete"):
        with pytest.raises(ImmutableDocumentError), ctx.db.transaction() as session:
            invoice = session.get(Document, invoice_id)
            assert invoice is not None
            if change == "total":
                invoice.total = Decimal("1.00")
            elif change == "number":
                invoice.number = "F2026-999999"
            elif change == "delete":
                session.delete(invoice)
            elif change == "line":
                invoice.lines[0].amount = Decimal("1.00")
            else:
                session.delete(invoice.lines[0])
            session.flush()
    with ctx.db.read_session() as session:
        invoice = session.get(Document, invoice_id)
        assert invoice is not None
        assert invoice.total == Decimal("227.48") and invoice.number == "F2026-000001"
        assert len(invoice.lines) == 2


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE documents SET total = 1 WHERE id = :doc",
        "UPDATE documents SET customer_data = NULL WHERE id = :doc",
        "UPDATE documents SET number = 'F2026-000099' WHERE id = :doc",
        "DELETE FROM documents WHERE id = :doc",
        "UPDATE document_lines SET amount = 1 WHERE document_id = :doc",
        "DELETE FROM document_lines WHERE document_id = :doc",
        "INSERT INTO document_lines (document_id, position, description, quantity, unit_price,"
        " amount, tax_rate) VALUES (:doc, 9, 'x', 1, 1, 1, 0)",
    ],
    ids=["total", "customer", "number", "delete", "line", "delete-line", "insert-line"],
)
def test_database_trigger_refuses_raw_sql(billing: Billing, sql: str) -> None:
    ctx = billing.ctx
    invoice_id = paid_invoice(billing)
    with pytest.raises(DatabaseError, match="immutable"), ctx.db.engine.begin() as connection:
        connection.execute(text(sql), {"doc": invoice_id})
    with ctx.db.read_session() as session:
        invoice = session.get(Document, invoice_id)
        assert invoice is not None
        assert invoice.total == Decimal("227.48") and invoice.number == "F2026-000001"
        assert invoice.customer_data is not None and len(invoice.lines) == 2


def test_raw_sql_may_still_record_a_payment_state_on_unissued_proformas(billing: Billing) -> None:
    ctx = billing.ctx
    customer = make_customer(ctx)
    with ctx.db.transaction() as session:
        who = session.get(Customer, customer.id)
        assert who is not None
        doc = create_proforma(session, ctx, who, [LineSpec("Licencia", Decimal("10.00"))])
    with ctx.db.engine.begin() as connection:
        connection.execute(text("UPDATE documents SET reason = 'x' WHERE id = :i"), {"i": doc.id})
