"""The billing run: renewal proformas ahead of due dates, reminders, suspension, termination.

Idempotent by construction: a renewal is claimed by inserting its natural key
(service, period start) into ``billed_periods`` before its proforma is built, so a second run
for the same date, or a second worker running at the same time on PostgreSQL, finds the claim
taken and creates nothing; reminders and notices are emails with dedupe keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import groupby
from typing import TYPE_CHECKING

from sqlalchemy import and_, exists, select

from facturo.cycles import period_for
from facturo.dbutil import insert_ignore
from facturo.documents import LineSpec, cancel_proforma, create_proforma, queue_document_email
from facturo.models import BilledPeriod, Customer, Document, DocumentLine, Product, Service
from facturo.outbox import enqueue_email
from facturo.services import change_status

if TYPE_CHECKING:
    from facturo.context import Context

BATCH_SIZE = 500


@dataclass
class RunReport:
    """What a billing run did (or, with ``dry_run``, would do)."""

    on: date
    dry_run: bool = False
    renewals: list[str] = field(default_factory=list)
    services_billed: int = 0
    reminders: int = 0
    overdue_notices: int = 0
    suspended: list[int] = field(default_factory=list)
    terminated: list[int] = field(default_factory=list)

    def summary(self) -> str:
        verb = "would create" if self.dry_run else "created"
        return (
            f"{self.on}: {verb} {len(self.renewals)} renewal documents for "
            f"{self.services_billed} services; {self.reminders} reminders; "
            f"{self.overdue_notices} overdue notices; {len(self.suspended)} suspended; "
            f"{len(self.terminated)} terminated"
        )


Progress = Callable[[int], None]


def billing_run(ctx: Context, on: date | None = None, dry_run: bool = False, progress: Progress | None = None) -> RunReport:
    """Run every step of the billing run for business date ``on`` (default: today)."""
    day = on or ctx.today()
    report = RunReport(on=day, dry_run=dry_run)
    create_renewals(ctx, day, report, progress)
    send_reminders(ctx, day, report)
    suspend_overdue(ctx, day, report)
    terminate_overdue(ctx, day, report)
    return report


def due_services_query(ctx: Context, day: date):  # type: ignore[no-untyped-def]
    horizon = day + timedelta(days=ctx.settings.billing.invoice_days_before)
    already = exists().where(
        and_(BilledPeriod.service_id == Service.id, BilledPeriod.period_start == Service.next_due_date)
    )
    return (
        select(Service.id, Service.customer_id, Service.next_due_date)
        .where(Service.status == "active", Service.next_due_date.is_not(None), Service.next_due_date <= horizon, ~already)
        .order_by(Service.customer_id, Service.next_due_date, Service.id)
    )


def create_renewals(ctx: Context, day: date, report: RunReport, progress: Progress | None = None) -> None:
    """One renewal proforma per (customer, due date) grouping that customer's due services."""
    with ctx.db.read_session() as session:
        rows = list(session.execute(due_services_query(ctx, day)))
    groups = [(key, [r.id for r in items]) for key, items in groupby(rows, key=lambda r: (r.customer_id, r.next_due_date))]
    if dry_run_report(report, groups):
        return
    done = 0
    for start in range(0, len(groups), BATCH_SIZE // 5 or 1):
        batch = groups[start : start + (BATCH_SIZE // 5 or 1)]
        with ctx.db.transaction() as session:
            for (customer_id, due), service_ids in batch:
                won = [
                    sid for sid in service_ids
                    if insert_ignore(session, BilledPeriod.__table__, {"service_id": sid, "period_start": due, "document_id": None}, ("service_id", "period_start"))  # type: ignore[arg-type]
                    is not None
                ]
                if not won:
                    continue
                customer = session.get(Customer, customer_id)
                assert customer is not None
                services = list(session.scalars(select(Service).where(Service.id.in_(won)).order_by(Service.id)))
                lines = []
                for service in services:
                    product = session.get(Product, service.product_id)
                    assert product is not None
                    period_start, period_end = period_for(due, service.cycle)
                    lines.append(LineSpec(
                        description=product.name(customer.language) + (f" — {service.label}" if service.label else ""),
                        unit_price=service.price, service_id=service.id, action="renew",
                        period_start=period_start, period_end=period_end,
                    ))
                document = create_proforma(session, ctx, customer, lines, source="renewal", issue_date=day, due_date=due)
                session.execute(
                    BilledPeriod.__table__.update()
                    .where(BilledPeriod.service_id.in_(won), BilledPeriod.period_start == due)
                    .values(document_id=document.id)
                )
                report.renewals.append(document.reference)
                report.services_billed += len(won)
        done += len(batch)
        if progress:
            progress(len(batch))


def dry_run_report(report: RunReport, groups: list[tuple[tuple[int, date], list[int]]]) -> bool:
    if not report.dry_run:
        return False
    for (customer_id, due), service_ids in groups:
        report.renewals.append(f"customer {customer_id} due {due}: services {service_ids}")
        report.services_billed += len(service_ids)
    return True


def _unpaid_renewals(session, day: date):  # type: ignore[no-untyped-def]
    return session.scalars(
        select(Document).where(Document.status == "unpaid", Document.kind == "proforma").order_by(Document.id)
    )


def send_reminders(ctx: Context, day: date, report: RunReport) -> None:
    """Reminders N days before due and overdue notices N days after (each sent once)."""
    before = set(ctx.settings.billing.reminder_days_before)
    after = set(ctx.settings.billing.reminder_days_after)
    with ctx.db.transaction() as session:
        for document in _unpaid_renewals(session, day):
            days_left = (document.due_date - day).days
            if days_left in before:
                report.reminders += 1
                if not report.dry_run:
                    queue_document_email(session, ctx, document, "reminder", key=f"reminder:{document.id}:{days_left}")
            elif -days_left in after:
                report.overdue_notices += 1
                if not report.dry_run:
                    queue_document_email(session, ctx, document, "overdue", key=f"overdue:{document.id}:{-days_left}")


def _overdue_services(session, day: date, days: int, status: str) -> list[tuple[Service, Document]]:  # type: ignore[no-untyped-def]
    limit = day - timedelta(days=days)
    rows = session.execute(
        select(Service, Document)
        .join(DocumentLine, DocumentLine.service_id == Service.id)
        .join(Document, Document.id == DocumentLine.document_id)
        .where(Service.status == status, Document.status == "unpaid", Document.due_date <= limit, DocumentLine.action == "renew")
        .order_by(Service.id)
    )
    seen: set[int] = set()
    result = []
    for service, document in rows:
        if service.id not in seen:
            seen.add(service.id)
            result.append((service, document))
    return result


def suspend_overdue(ctx: Context, day: date, report: RunReport) -> None:
    """Suspend active services whose renewal is unpaid ``suspend_after_days`` after due."""
    with ctx.db.transaction() as session:
        for service, document in _overdue_services(session, day, ctx.settings.billing.suspend_after_days, "active"):
            report.suspended.append(service.id)
            if report.dry_run:
                continue
            change_status(session, ctx, service, "suspended", "suspend", reason="overdue", key=f"{document.id}")
            customer = session.get(Customer, service.customer_id)
            assert customer is not None
            enqueue_email(session, ctx, "suspension", customer.email, customer.language,
                          {"customer": customer, "service": service, "product": service.product, "document": document},
                          f"suspension:{service.id}:{document.id}", customer_id=customer.id)


def terminate_overdue(ctx: Context, day: date, report: RunReport) -> None:
    """Terminate services still unpaid ``terminate_after_days`` after due and cancel the bill
    once none of its services remain."""
    with ctx.db.transaction() as session:
        touched: dict[int, Document] = {}
        for service, document in _overdue_services(session, day, ctx.settings.billing.terminate_after_days, "suspended"):
            report.terminated.append(service.id)
            if report.dry_run:
                continue
            change_status(session, ctx, service, "terminated", "terminate", reason="overdue", key=f"{document.id}")
            customer = session.get(Customer, service.customer_id)
            assert customer is not None
            enqueue_email(session, ctx, "termination", customer.email, customer.language,
                          {"customer": customer, "service": service, "product": service.product, "document": document},
                          f"termination:{service.id}:{document.id}", customer_id=customer.id)
            touched[document.id] = document
        for document in touched.values():
            live = [line for line in document.lines if line.service_id and session.get(Service, line.service_id).status not in ("terminated", "cancelled")]  # type: ignore[union-attr]
            if not live and document.status == "unpaid" and document.amount_paid == 0:
                cancel_proforma(session, ctx, document, reason="services terminated for non-payment")


def scheduled_billing_run(ctx: Context) -> str:
    """The worker's entry: run once a day, at or after ``billing.run_hour`` local time."""
    from facturo.models import JobRun

    local_now = ctx.now().astimezone(ctx.settings.zone)
    if local_now.hour < ctx.settings.billing.run_hour:
        return "not yet time"
    with ctx.db.read_session() as session:
        row = session.get(JobRun, "billing_run_day")
        if row is not None and row.detail == local_now.date().isoformat():
            return "already ran today"
    report = billing_run(ctx, local_now.date())
    from facturo.worker import mark

    mark(ctx, "billing_run_day", "ok", local_now.date().isoformat())
    return report.summary()


