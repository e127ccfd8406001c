"""One service's renewal proforma on demand (``renewal_proforma``): made once per period by
the same natural key as the billing run's, reused by both, refused for a service that is not
active."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import func, select

from facturo.billing.orders import place_order
from facturo.billing.renew_early import renewal_proforma
from facturo.billing.services import change_status
from facturo.context import Context
from facturo.models import BilledPeriod, Customer, Document, DocumentLine, Service
from facturo.testing import drain, make_catalog, make_customer, pay, run_billing


def _active_service(ctx: Context) -> int:
    licence, _addons = make_catalog(ctx)
    customer = make_customer(ctx)
    with ctx.db.transaction() as session:
        owner = session.get(Customer, customer.id)
        assert owner is not None
        services, proforma = place_order(session, ctx, owner, licence, "annual")
        service_id, proforma_id = services[0].id, proforma.id
    pay(ctx, proforma_id)
    drain(ctx)
    return service_id


def _renewals(ctx: Context, service_id: int) -> list[int]:
    with ctx.db.read_session() as session:
        return list(
            session.scalars(
                select(DocumentLine.document_id).where(
                    DocumentLine.service_id == service_id, DocumentLine.action == "renew"
                )
            )
        )


def test_made_once_then_reused_and_the_run_bills_nothing_more(
    make_context: Callable[..., Context],
) -> None:
    ctx = make_context()
    service_id = _active_service(ctx)
    with ctx.db.transaction() as session:
        first = renewal_proforma(session, ctx, service_id)
        assert first is not None and first.status == "unpaid" and first.source == "renewal"
        first_id = first.id
        service = session.get(Service, service_id)
        assert service is not None
        [line] = first.lines
        assert line.period_start == service.next_due_date and line.unit_price == service.price
    with ctx.db.transaction() as session:
        again = renewal_proforma(session, ctx, service_id)
        assert again is not None and again.id == first_id
    run_billing(ctx, ctx.today() + timedelta(days=360))
    assert _renewals(ctx, service_id) == [first_id]
    with ctx.db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(BilledPeriod)) == 1


def test_reuses_the_billing_runs_proforma(make_context: Callable[..., Context]) -> None:
    ctx = make_context()
    service_id = _active_service(ctx)
    run_billing(ctx, ctx.today() + timedelta(days=360))
    [made_by_run] = _renewals(ctx, service_id)
    with ctx.db.transaction() as session:
        found = renewal_proforma(session, ctx, service_id)
        assert found is not None and found.id == made_by_run
    with ctx.db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 2


def test_none_for_a_service_that_is_not_active(make_context: Callable[..., Context]) -> None:
    ctx = make_context()
    service_id = _active_service(ctx)
    with ctx.db.transaction() as session:
        service = session.get(Service, service_id)
        assert service is not None
        change_status(session, ctx, service, "suspended", "suspend", actor="staff:1")
    with ctx.db.transaction() as session:
        assert renewal_proforma(session, ctx, service_id) is None
        assert renewal_proforma(session, ctx, 999_999) is None
    assert _renewals(ctx, service_id) == []
