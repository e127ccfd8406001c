"""The whole billing path in one test: order → proforma → payments → invoice → provisioning."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from facturo.billing.orders import place_order
from facturo.billing.payments import record_payment
from facturo.context import Context
from facturo.models import Document, OutboxMessage, Service
from facturo.testing import drain
from tests.factories import make_catalog, make_customer


def test_order_paid_in_two_parts_becomes_numbered_invoice(ctx: Context) -> None:
    licence, addons = make_catalog(ctx)
    customer = make_customer(ctx)
    with ctx.db.transaction() as session:
        services, document = place_order(
            session, ctx, customer, licence, "annual", [(addons[0], "annual")]
        )
        document_id = document.id
    assert document.reference == "PRO-2026-000001"
    assert document.total == Decimal("227.48")  # (149 + 39) * 1.21
    with ctx.db.transaction() as session:
        doc = session.get(Document, document_id)
        record_payment(session, ctx, doc, "manual", "bank-1", Decimal("100.00"), "EUR", ctx.now())
    with ctx.db.transaction() as session:
        doc = session.get(Document, document_id)
        assert doc.status == "unpaid" and doc.balance == Decimal("127.48")
        record_payment(session, ctx, doc, "manual", "bank-2", Decimal("127.48"), "EUR", ctx.now())
    with ctx.db.transaction() as session:
        doc = session.get(Document, document_id)
        assert doc.kind == "invoice" and doc.number == "F2026-000001"
        statuses = {s.status for s in session.scalars(select(Service))}
        assert statuses == {"active"}
    drain(ctx)
    with ctx.db.read_session() as session:
        sent = session.scalars(
            select(OutboxMessage.template).where(OutboxMessage.status == "sent")
        ).all()
    assert sorted(sent) == ["payment_receipt", "proforma_issued"]
    assert len(list((ctx.settings.mail_dir).glob("*.eml"))) == 2
