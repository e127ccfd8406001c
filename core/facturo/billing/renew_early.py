"""The renewal proforma of one service, on demand (ahead of the billing run).

A renewal is identified by its natural key (service, period start) in ``billed_periods``, the
same claim the billing run makes: whoever claims the period first bills it, and everyone else
gets that proforma back. So asking for a service's renewal never duplicates one the run made,
nor does the run duplicate one made here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from facturo.billing.cycles import period_for
from facturo.billing.documents import LineSpec, create_proforma
from facturo.db.util import insert_ignore
from facturo.models import BilledPeriod, Customer, Document, Product, Service

if TYPE_CHECKING:
    from facturo.context import Context

PERIODS = cast(Table, BilledPeriod.__table__)


def renewal_proforma(
    session: Session, ctx: Context, service_id: int, actor: str = "system"
) -> Document | None:
    """Return the unpaid proforma renewing ``service_id``'s next period, creating it when no
    one has billed that period yet. None when the service is not active, has no next due date,
    or its period was billed on a document that is no longer payable."""
    service = session.scalar(select(Service).where(Service.id == service_id).with_for_update())
    if service is None or service.status != "active" or service.next_due_date is None:
        return None
    due = service.next_due_date
    claimed = insert_ignore(
        session,
        PERIODS,
        {"service_id": service.id, "period_start": due, "document_id": None},
        ["service_id", "period_start"],
    )
    if claimed is None:
        document_id = session.scalar(
            select(BilledPeriod.document_id).where(
                BilledPeriod.service_id == service.id, BilledPeriod.period_start == due
            )
        )
        document = session.get(Document, document_id) if document_id is not None else None
        return document if document is not None and document.status == "unpaid" else None
    customer = session.get(Customer, service.customer_id)
    product = session.get(Product, service.product_id)
    assert customer is not None and product is not None
    start, end = period_for(due, service.cycle)
    document = create_proforma(
        session,
        ctx,
        customer,
        [
            LineSpec(
                description=product.name(customer.language)
                + (f" — {service.label}" if service.label else ""),
                unit_price=service.price,
                service_id=service.id,
                action="renew",
                period_start=start,
                period_end=end,
            )
        ],
        source="renewal",
        due_date=due,
        actor=actor,
    )
    session.execute(
        update(PERIODS)
        .where(PERIODS.c.service_id == service.id, PERIODS.c.period_start == due)
        .values(document_id=document.id)
    )
    return document
