"""Dunning: reminders before and after due, then suspension and termination of overdue
services (each step idempotent: emails carry dedupe keys, status changes are keyed on the bill)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from facturo.billing.documents import cancel_proforma, queue_document_email
from facturo.billing.run_report import RunReport
from facturo.billing.services import change_status
from facturo.delivery.outbox import enqueue_email
from facturo.models import Customer, Document, DocumentLine, Service

if TYPE_CHECKING:
    from facturo.context import Context

_ENDED = ("terminated", "cancelled")


def _reminder_candidates(session: Session, day: date, offsets: set[int]) -> list[Document]:
    """Unpaid proformas due ``offset`` days from ``day`` for each offset (negative: overdue),
    excluding those issued on ``day`` itself (their proforma email has just gone out)."""
    if not offsets:
        return []
    due_dates = [day + timedelta(days=offset) for offset in sorted(offsets)]
    return list(
        session.scalars(
            select(Document)
            .where(
                Document.status == "unpaid",
                Document.kind == "proforma",
                Document.due_date.in_(due_dates),
                Document.issue_date < day,
            )
            .order_by(Document.id)
        )
    )


def send_reminders(ctx: Context, day: date, report: RunReport) -> None:
    """Reminders N days before due and overdue notices N days after (each sent once); a
    proforma issued on ``day`` gets no reminder that day (its own email has just been queued)."""
    before = set(ctx.settings.billing.reminder_days_before)
    after = set(ctx.settings.billing.reminder_days_after)
    offsets = before | {-days for days in after}
    with ctx.db.transaction() as session:
        for document in _reminder_candidates(session, day, offsets):
            days_left = (document.due_date - day).days
            if days_left in before:
                report.reminders += 1
                if not report.dry_run:
                    queue_document_email(
                        session,
                        ctx,
                        document,
                        "reminder",
                        key=f"reminder:{document.id}:{days_left}",
                    )
            elif -days_left in after:
                report.overdue_notices += 1
                if not report.dry_run:
                    queue_document_email(
                        session, ctx, document, "overdue", key=f"overdue:{document.id}:{-days_left}"
                    )


def _overdue_services(
    session: Session, day: date, days: int, status: str
) -> list[tuple[Service, Document]]:
    limit = day - timedelta(days=days)
    rows = session.execute(
        select(Service, Document)
        .join(DocumentLine, DocumentLine.service_id == Service.id)
        .join(Document, Document.id == DocumentLine.document_id)
        .where(
            Service.status == status,
            Document.status == "unpaid",
            Document.due_date <= limit,
            DocumentLine.action == "renew",
        )
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
        _end_overdue(
            session,
            ctx,
            day,
            ctx.settings.billing.suspend_after_days,
            "active",
            "suspended",
            "suspend",
            "suspension",
            report.suspended,
            report.dry_run,
        )


def terminate_overdue(ctx: Context, day: date, report: RunReport) -> None:
    """Terminate services still unpaid ``terminate_after_days`` after due and cancel the bill
    once none of its services remain."""
    with ctx.db.transaction() as session:
        touched = _end_overdue(
            session,
            ctx,
            day,
            ctx.settings.billing.terminate_after_days,
            "suspended",
            "terminated",
            "terminate",
            "termination",
            report.terminated,
            report.dry_run,
        )
        for document in touched:
            billed = [
                session.get(Service, line.service_id) for line in document.lines if line.service_id
            ]
            live = [s for s in billed if s is not None and s.status not in _ENDED]
            if not live and document.status == "unpaid" and document.amount_paid == 0:
                cancel_proforma(
                    session, ctx, document, reason="services terminated for non-payment"
                )


def _end_overdue(
    session: Session,
    ctx: Context,
    day: date,
    days: int,
    from_status: str,
    to_status: str,
    action: str,
    template: str,
    done: list[int],
    dry_run: bool,
) -> list[Document]:
    """Move services in ``from_status`` whose renewal is unpaid ``days`` after due to
    ``to_status`` and tell the customer; return the bills concerned (each once)."""
    touched: dict[int, Document] = {}
    for service, document in _overdue_services(session, day, days, from_status):
        done.append(service.id)
        if dry_run:
            continue
        change_status(
            session, ctx, service, to_status, action, reason="overdue", key=f"{document.id}"
        )
        customer = session.get(Customer, service.customer_id)
        assert customer is not None
        enqueue_email(
            session,
            ctx,
            template,
            customer.email,
            customer.language,
            {
                "customer": customer,
                "service": service,
                "product": service.product,
                "document": document,
            },
            f"{template}:{service.id}:{document.id}",
            customer_id=customer.id,
        )
        touched[document.id] = document
    return list(touched.values())


@dataclass(frozen=True)
class ManualReminders:
    """What a staff "send reminders" action did: documents reminded and documents skipped
    (not unpaid, or already reminded by hand that day)."""

    sent: tuple[Document, ...]
    skipped: tuple[Document, ...]


def remind_now(
    session: Session, ctx: Context, document_ids: Sequence[int], day: date
) -> ManualReminders:
    """Queue a payment reminder (or, past due, an overdue notice) for each unpaid proforma
    among ``document_ids``; other documents are skipped. Each document is reminded by hand at
    most once a day (the email's dedupe key carries the day), so a double submit sends once."""
    documents = session.scalars(
        select(Document).where(Document.id.in_(list(document_ids))).order_by(Document.id)
    )
    sent: list[Document] = []
    skipped: list[Document] = []
    for document in documents:
        if not document.is_payable:
            skipped.append(document)
            continue
        template = "overdue" if document.due_date < day else "reminder"
        key = f"manual-reminder:{document.id}:{day.isoformat()}"
        (
            sent if queue_document_email(session, ctx, document, template, key=key) else skipped
        ).append(document)
    return ManualReminders(tuple(sent), tuple(skipped))
