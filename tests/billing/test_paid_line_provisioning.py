"""The provision event carries the paid line; a first period starts on the payment date
(issue 16, point 3)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from facturo.billing.orders import place_order
from facturo.billing.payments import record_payment
from facturo.context import Context
from facturo.models import Customer, Document, OutboxEvent, Product, Service
from facturo.plugin import hookimpl
from facturo.testing import Clock, drain, make_customer
from tests.billing.conftest import Billing, at


class LineRecorder:
    """A provisioner that takes the new, optional arguments."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    @hookimpl
    def provision_product(
        self,
        service: Service,
        action: str,
        document_id: int | None,
        line_id: int | None,
        period_start: date | None,
        period_end: date | None,
    ) -> dict[str, Any] | None:
        if service.product.provisioner != "lines":
            return None
        self.calls.append(
            {
                "service": service.id,
                "action": action,
                "document": document_id,
                "line": line_id,
                "period": (period_start, period_end),
            }
        )
        return {}


def test_the_paid_line_reaches_old_and_new_provisioners(
    billing: Billing, clock: Clock, make_context: Any
) -> None:
    clock.set(at(2026, 5, 4))
    ctx: Context = billing.ctx
    customer = make_customer(ctx)
    with ctx.db.transaction() as session:
        who = session.get(Customer, customer.id)
        licence = session.get(Product, billing.licence.id)
        assert who is not None and licence is not None
        services, proforma = place_order(session, ctx, who, licence, "annual")
        service_id, document_id = services[0].id, proforma.id
    clock.set(at(2026, 5, 11))  # paid a week after the order
    with ctx.db.transaction() as session:
        document = session.get(Document, document_id)
        assert document is not None
        record_payment(session, ctx, document, "test", "p1", document.total, "EUR", ctx.now())
    with ctx.db.read_session() as session:
        invoice = session.get(Document, document_id)
        service = session.get(Service, service_id)
        assert invoice is not None and service is not None
        (line,) = invoice.lines
        # The invoice's period, the service's due date and the event agree: from the payment.
        assert (line.period_start, line.period_end) == (date(2026, 5, 11), date(2027, 5, 10))
        assert service.next_due_date == line.period_end + timedelta(days=1)
        event = session.scalars(select(OutboxEvent).where(OutboxEvent.name == "provision")).one()
        assert event.payload == {
            "service_id": service_id,
            "action": "create",
            "document_id": document_id,
            "line_id": line.id,
            "period_start": "2026-05-11",
            "period_end": "2027-05-10",
        }
        assert event.dedupe_key == f"provision:{service_id}:create:line{line.id}"
        line_id = line.id
    drain(ctx)
    # The older provisioner (ctx, session, service, action only) still answered.
    assert billing.recorder.calls == [(service_id, "create")]

    newer = LineRecorder()
    other = make_context(extra=[("lines", newer)])
    with other.db.transaction() as session:
        session.add(Product(code="lines", name_es="L", name_en="L", provisioner="lines"))
    with other.db.transaction() as session:
        service = session.get(Service, service_id)
        assert service is not None
        service.product = session.scalars(select(Product).where(Product.code == "lines")).one()
        event = session.scalars(select(OutboxEvent).where(OutboxEvent.name == "provision")).one()
        event.status = "pending"
    drain(other)
    assert newer.calls == [
        {
            "service": service_id,
            "action": "create",
            "document": document_id,
            "line": line_id,
            "period": (date(2026, 5, 11), date(2027, 5, 10)),
        }
    ]
