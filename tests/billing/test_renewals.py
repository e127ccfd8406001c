"""The billing run: renewal proformas, idempotency, reminders, suspension and termination."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select

from facturo.billing import renewals
from facturo.billing.billing_run import billing_run
from facturo.billing.documents import queue_document_email
from facturo.billing.payments import record_payment
from facturo.models import (
    BilledPeriod,
    Customer,
    Document,
    OutboxEvent,
    OutboxMessage,
    Service,
)
from facturo.testing import Clock, drain, make_customer
from tests.billing.conftest import Billing, active_service, as_rendered, at, reload, rename


def count(ctx, model, *where) -> int:  # type: ignore[no-untyped-def]
    with ctx.db.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def emails(ctx, template: str) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    with ctx.db.read_session() as session:
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.template == template)
            .order_by(OutboxMessage.id)
        )
        return list(session.scalars(query.order_by(OutboxMessage.id)))


def test_run_creates_expected_documents_and_emails_once(billing: Billing) -> None:
    ctx = billing.ctx
    ana = make_customer(ctx)
    bob = make_customer(ctx, email="bob@example.com", language="en", country="FR", tax_id="")
    run_day = date(2026, 3, 2)
    # Ana: two services due the same day → one proforma; one due later the same window → own
    a1 = active_service(ctx, ana, billing.licence, date(2026, 3, 10))
    a2 = active_service(ctx, ana, billing.addons[0], date(2026, 3, 10), price="39.00")
    a3 = active_service(ctx, ana, billing.addons[1], date(2026, 3, 12), price="29.00")
    # Bob (France, consumer → 20 %): one due inside the window, one outside it
    b1 = active_service(ctx, bob, billing.licence, date(2026, 3, 16), label="shop.fr")
    active_service(ctx, bob, billing.licence, date(2026, 3, 17))
    # Not billed: suspended service, service already billed for that period
    suspended = active_service(ctx, ana, billing.licence, date(2026, 3, 5))
    with ctx.db.transaction() as session:
        service = session.get(Service, suspended)
        assert service is not None
        service.status = "suspended"

    report = billing_run(ctx, run_day)
    assert report.renewal_count == 3 and report.services_billed == 4
    with ctx.db.read_session() as session:
        docs = list(session.scalars(select(Document).order_by(Document.id)))
        assert [d.source for d in docs] == ["renewal"] * 3
        by_customer = {(d.customer_id, d.due_date): d for d in docs}
        ana_doc = by_customer[(ana.id, date(2026, 3, 10))]
        assert sorted(int(line.service_id or 0) for line in ana_doc.lines) == [a1, a2]
        assert ana_doc.total == Decimal("227.48")
        assert [line.action for line in ana_doc.lines] == ["renew", "renew"]
        assert ana_doc.lines[0].period_start == date(2026, 3, 10)
        assert ana_doc.lines[0].period_end == date(2027, 3, 9)
        assert ana_doc.reference == "PRO-2026-000001"
        single = by_customer[(ana.id, date(2026, 3, 12))]
        assert [line.service_id for line in single.lines] == [a3]
        bob_doc = by_customer[(bob.id, date(2026, 3, 16))]
        assert bob_doc.tax_treatment == "eu_oss" and bob_doc.tax_total == Decimal("29.80")
        assert bob_doc.language == "en"
        assert bob_doc.lines[0].description == "Licence — shop.fr"
        assert ana_doc.lines[0].description == "Licencia"
        periods = {p.service_id: p.document_id for p in session.scalars(select(BilledPeriod))}
        assert periods == {a1: ana_doc.id, a2: ana_doc.id, a3: single.id, b1: bob_doc.id}
    issued = emails(ctx, "proforma_issued")
    assert len(issued) == 3
    assert all(m.attachments and "document_id" in m.attachments[0] for m in issued)
    assert count(ctx, OutboxEvent, OutboxEvent.name == "invoice_created") == 3

    again = billing_run(ctx, run_day)
    assert again.renewal_count == 0 and again.services_billed == 0
    assert count(ctx, Document) == 3
    assert len(emails(ctx, "proforma_issued")) == 3
    assert count(ctx, OutboxEvent, OutboxEvent.name == "invoice_created") == 3


def test_bulk_email_is_exactly_what_render_email_writes(billing: Billing) -> None:
    ctx = billing.ctx
    tricky = make_customer(ctx, email="o'brien@example.com")
    english = make_customer(ctx, email="en@example.com", language="en")
    rename(ctx, tricky, 'Ñandú <&> "O\'Brien"  Ürsula', "Acme & Sons")
    active_service(ctx, tricky, billing.licence, date(2026, 3, 10))
    active_service(ctx, english, billing.licence, date(2026, 3, 11), price="15.00")
    billing_run(ctx, date(2026, 3, 2))
    rows = emails(ctx, "proforma_issued")
    assert len(rows) == 2
    with ctx.db.read_session() as session:
        for row in rows:
            who, expected = as_rendered(ctx, session, row)
            assert (row.subject, row.text_body, row.html_body) == expected
            assert row.to_address == who.email


def test_a_period_claimed_meanwhile_is_left_out_of_its_document(
    billing: Billing, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A claim lost between the run's read of the due services and its claims (here taken in
    the run's transaction just before) leaves that service out; the rest of its group is
    billed, its lines numbered from 0."""
    ctx = billing.ctx
    ana = make_customer(ctx)
    a1 = active_service(ctx, ana, billing.licence, date(2026, 3, 10))
    a2 = active_service(ctx, ana, billing.addons[0], date(2026, 3, 10), price="39.00")
    a3 = active_service(ctx, ana, billing.addons[1], date(2026, 3, 10), price="29.00")
    claim = renewals.claim_periods

    def taken_first(session, *args):  # type: ignore[no-untyped-def]
        session.execute(insert(BilledPeriod).values(service_id=a2, period_start=date(2026, 3, 10)))
        return claim(session, *args)

    monkeypatch.setattr(renewals, "claim_periods", taken_first)
    report = billing_run(ctx, date(2026, 3, 2))
    assert report.renewal_count == 1 and report.services_billed == 2
    with ctx.db.read_session() as session:
        document = session.scalars(select(Document)).one()
        assert [(line.service_id, line.position) for line in document.lines] == [(a1, 0), (a3, 1)]
        assert document.total == Decimal("215.38")
        periods = {p.service_id: p.document_id for p in session.scalars(select(BilledPeriod))}
        assert periods == {a1: document.id, a2: None, a3: document.id}


def test_dry_run_changes_nothing(billing: Billing) -> None:
    ctx = billing.ctx
    ana = make_customer(ctx)
    active_service(ctx, ana, billing.licence, date(2026, 3, 10))
    report = billing_run(ctx, date(2026, 3, 2), dry_run=True)
    assert report.renewal_count == 1 and report.services_billed == 1
    assert "would create" in report.summary()
    assert count(ctx, Document) == 0 and count(ctx, BilledPeriod) == 0


def test_progress_reports_every_service(billing: Billing) -> None:
    ctx = billing.ctx
    ana = make_customer(ctx)
    for offset in range(5):
        active_service(ctx, ana, billing.licence, date(2026, 3, 3) + timedelta(days=offset))
    seen: list[int] = []
    billing_run(ctx, date(2026, 3, 2), progress=seen.append)
    assert sum(seen) == 5


def test_credit_pays_renewal_in_full_and_settles(billing: Billing) -> None:
    ctx = billing.ctx
    ana = make_customer(ctx)
    with ctx.db.transaction() as session:
        customer = session.get(Customer, ana.id)
        assert customer is not None
        customer.credit_balance = Decimal("500.00")
    sid = active_service(ctx, ana, billing.licence, date(2026, 3, 10))
    billing_run(ctx, date(2026, 3, 2))
    with ctx.db.read_session() as session:
        document = session.scalars(select(Document)).one()
        assert document.status == "paid" and document.number == "F2026-000001"
        assert document.credit_applied == Decimal("180.29")
        assert session.get(Customer, ana.id).credit_balance == Decimal("319.71")  # type: ignore[union-attr]
        service = session.get(Service, sid)
        assert service is not None and service.next_due_date == date(2027, 3, 10)
    assert emails(ctx, "proforma_issued") == []
    assert len(emails(ctx, "payment_receipt")) == 1


def _pay_all(ctx, document_id: int, txn: str) -> None:  # type: ignore[no-untyped-def]
    with ctx.db.transaction() as session:
        document = session.get(Document, document_id)
        assert document is not None
        record_payment(session, ctx, document, "test", txn, document.balance, "EUR", ctx.now(), {})


def test_overdue_suspended_then_paid_unsuspends_from_previous_due_date(
    billing: Billing, clock: Clock
) -> None:
    ctx = billing.ctx
    ana = make_customer(ctx)
    due = date(2026, 3, 10)
    sid = active_service(ctx, ana, billing.licence, due)
    billing_run(ctx, date(2026, 3, 2))
    document = emails(ctx, "proforma_issued")[0].attachments[0]["document_id"]
    # reminders before due (default days) and an overdue notice after it, each once
    report = billing_run(ctx, due + timedelta(days=3))
    billing_run(ctx, due + timedelta(days=3))
    assert report.renewal_count == 0
    assert len(emails(ctx, "overdue")) == 1
    # suspension after 7 days
    report = billing_run(ctx, due + timedelta(days=7))
    assert report.suspended == [sid]
    assert reload(ctx, Service, sid).status == "suspended"
    assert billing_run(ctx, due + timedelta(days=8)).suspended == []
    assert len(emails(ctx, "suspension")) == 1
    drain(ctx)
    assert (sid, "suspend") in billing.recorder.calls
    # paid late: unsuspended, next due date one cycle after the previous due date
    clock.set(at(2026, 3, 25))
    _pay_all(ctx, document, "late")
    service = reload(ctx, Service, sid)
    assert service.status == "active"
    assert service.next_due_date == date(2027, 3, 10)
    drain(ctx)
    assert (sid, "unsuspend") in billing.recorder.calls
    assert (sid, "renew") in billing.recorder.calls
    assert billing_run(ctx, date(2026, 4, 20)).terminated == []


def test_overdue_terminated_and_proforma_cancelled(billing: Billing) -> None:
    ctx = billing.ctx
    ana = make_customer(ctx)
    due = date(2026, 3, 10)
    sid = active_service(ctx, ana, billing.licence, due)
    billing_run(ctx, date(2026, 3, 2))
    billing_run(ctx, due + timedelta(days=7))
    report = billing_run(ctx, due + timedelta(days=30))
    assert report.terminated == [sid]
    assert reload(ctx, Service, sid).status == "terminated"
    with ctx.db.read_session() as session:
        document = session.scalars(select(Document)).one()
        assert document.status == "cancelled" and document.number is None
    assert len(emails(ctx, "termination")) == 1
    drain(ctx)
    assert (sid, "terminate") in billing.recorder.calls
    assert billing_run(ctx, due + timedelta(days=31)).terminated == []


def test_reminder_queued_with_document_email(billing: Billing) -> None:
    ctx = billing.ctx
    ana = make_customer(ctx)
    active_service(ctx, ana, billing.licence, date(2026, 3, 10))
    billing_run(ctx, date(2026, 3, 2))
    days = sorted(ctx.settings.billing.reminder_days_before)
    assert days, "a reminder day is configured by default"
    day = date(2026, 3, 10) - timedelta(days=days[0])
    billing_run(ctx, day)
    billing_run(ctx, day)
    assert len(emails(ctx, "reminder")) == 1
    with ctx.db.transaction() as session:
        document = session.scalars(select(Document)).one()
        assert not queue_document_email(
            session, ctx, document, "reminder", key=f"reminder:{document.id}:{days[0]}"
        )
