"""Provisioning keyed on the paid line (issue 16, point 3): the service's next due date, the
licence's expiry and the add-on's expiry are the same instant whatever the payment timing.
Runs on SQLite and, with FACTURO_TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from facturo.billing.billing_run import billing_run
from facturo.models import OutboxEvent
from facturo.plugin import Context, Document, Service, period_end_instant
from facturo.testing import Clock, drain, make_catalog, make_customer
from facturo_prestaimport_license.models import Addon, Licence
from facturo_prestaimport_license.testing import T0, order

PLUGIN = "prestaimport_license"


def pay_without_worker(ctx: Context, document_id: int, txn: str) -> None:
    """Pay in full; the queued events are NOT delivered (the worker has not run yet)."""
    from facturo.plugin import record_payment

    with ctx.db.transaction() as session:
        document = session.get(Document, document_id)
        assert document is not None
        record_payment(
            session, ctx, document, "transfer", txn, document.total, document.currency, ctx.now()
        )


def unpaid_renewal(ctx: Context) -> int:
    with ctx.db.read_session() as session:
        return session.scalars(
            select(Document.id).where(Document.status == "unpaid", Document.source == "renewal")
        ).one()


def dates(ctx: Context, service_id: int) -> tuple[date, datetime, datetime, str]:
    """(service's next due date as an instant's day, the licence's expiry, the add-on's
    expiry, the service status)."""
    with ctx.db.read_session() as session:
        service = session.get(Service, service_id)
        licence = session.scalars(select(Licence)).one()
        addon = session.scalars(select(Addon)).one()
        assert service is not None and service.next_due_date is not None
        assert licence.expires_at is not None and addon.expires_at is not None
        return service.next_due_date, licence.expires_at, addon.expires_at, service.status


def assert_same_end(ctx: Context, service_id: int, expected_due: date) -> None:
    due, licence_expiry, addon_expiry, _status = dates(ctx, service_id)
    assert due == expected_due
    end = period_end_instant(due - timedelta(days=1), ctx.settings.zone)
    assert licence_expiry == end, (licence_expiry, end)
    assert addon_expiry == end, (addon_expiry, end)


def started(ctx: Context) -> int:
    make_catalog(ctx, provisioner=PLUGIN)
    customer = make_customer(ctx)
    licence_service_id, document_id = order(ctx, customer)
    pay_without_worker(ctx, document_id, "first")
    drain(ctx)
    return licence_service_id


def test_paid_on_time_the_expiries_are_the_due_date(lctx: Context, clock: Clock) -> None:
    ctx = lctx
    service_id = started(ctx)
    assert_same_end(ctx, service_id, date(2027, 3, 2))  # paid 2 March 2026
    clock.set(T0 + timedelta(days=365 - 14))
    billing_run(ctx)
    clock.set(T0 + timedelta(days=365 - 10))
    pay_without_worker(ctx, unpaid_renewal(ctx), "renewal")
    drain(ctx)
    assert_same_end(ctx, service_id, date(2028, 3, 2))


def test_two_renewals_paid_before_the_worker_runs_extend_twice(lctx: Context, clock: Clock) -> None:
    ctx = lctx
    service_id = started(ctx)
    clock.set(T0 + timedelta(days=365 - 14))
    billing_run(ctx)
    pay_without_worker(ctx, unpaid_renewal(ctx), "renewal-1")
    clock.set(T0 + timedelta(days=2 * 365 - 13))
    billing_run(ctx)
    pay_without_worker(ctx, unpaid_renewal(ctx), "renewal-2")
    with ctx.db.read_session() as session:
        pending = session.scalars(
            select(OutboxEvent).where(
                OutboxEvent.name == "provision", OutboxEvent.status == "pending"
            )
        ).all()
        renewals = [event.payload for event in pending if event.payload["action"] == "renew"]
    # One event per paid line (licence and add-on, twice), each naming its line and period.
    assert len(renewals) == 4
    assert len({event["line_id"] for event in renewals}) == 4
    assert {event["period_end"] for event in renewals} == {"2028-03-01", "2029-03-01"}
    drain(ctx)
    assert_same_end(ctx, service_id, date(2029, 3, 2))
    # Delivering every provisioning again (a retry) changes nothing.
    with ctx.db.transaction() as session:
        for event in session.scalars(select(OutboxEvent).where(OutboxEvent.name == "provision")):
            event.status = "pending"
    drain(ctx)
    assert_same_end(ctx, service_id, date(2029, 3, 2))


def test_paid_late_after_suspension_the_period_keeps_its_anchor(
    lctx: Context, clock: Clock
) -> None:
    ctx = lctx
    service_id = started(ctx)
    clock.set(T0 + timedelta(days=365 - 14))
    billing_run(ctx)
    drain(ctx)
    renewal = unpaid_renewal(ctx)
    clock.set(T0 + timedelta(days=365 + 9))  # overdue: the billing run suspends it
    billing_run(ctx)
    drain(ctx)
    assert dates(ctx, service_id)[3] == "suspended"
    clock.set(T0 + timedelta(days=365 + 20))  # paid 20 days late
    pay_without_worker(ctx, renewal, "late")
    drain(ctx)
    assert dates(ctx, service_id)[3] == "active"
    # The period printed on the invoice (2 March 2027 – 1 March 2028), not a year from the
    # payment: the core's due date and both expiries agree.
    assert_same_end(ctx, service_id, date(2028, 3, 2))
    with ctx.db.read_session() as session:
        addon = session.scalars(select(Addon)).one()
        assert addon.active is True
