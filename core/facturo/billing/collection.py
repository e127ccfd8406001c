"""Collecting renewal proformas from a customer's saved payment method (a saved card, later a
direct-debit mandate), without the customer acting.

The billing run (and the ``renewal_collection`` periodic job) call :func:`collect_renewals`:
for every unpaid renewal proforma of a customer with a collection method it claims the next
attempt number (a row unique on document and attempt, inserted under the document's lock,
committed BEFORE the gateway is called), then asks the owning plugin through the
``collect_renewal`` hook. Two runs at once, or a run repeated, therefore charge each attempt
once. A declined charge is retried on ``billing.collection_retry_days`` (days after the first
attempt) with an email that links to paying by hand; after the last retry, or when the method
is unusable, the proforma is left to the customer (email) and the usual reminders follow.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from facturo.billing.credit import lock_document
from facturo.billing.documents import queue_document_email
from facturo.contributions import CollectionResult
from facturo.models import CollectionAttempt, CollectionMethod, Document
from facturo.plugins import call_owner

if TYPE_CHECKING:
    from facturo.context import Context

log = logging.getLogger(__name__)

__all__ = [
    "CollectionReport",
    "clear_collection_method",
    "collect_renewals",
    "collection_method",
    "renewal_collection_job",
    "set_collection_method",
]

#: Statuses after which a later attempt may follow (on its ``retry_on`` date).
RETRYABLE = ("declined", "error")


@dataclass
class CollectionReport:
    """What one collection pass did."""

    charged: int = 0
    paid: int = 0
    declined: int = 0
    unusable: int = 0
    errors: int = 0
    handed_over: int = 0
    #: Wall-clock seconds the pass took.
    seconds: float = 0.0

    def summary(self) -> str:
        """One line for the job log."""
        return (
            f"{self.charged} charges: {self.paid} paid, {self.declined} declined, "
            f"{self.unusable} unusable, {self.errors} errors; {self.handed_over} handed over "
            f"in {self.seconds:.1f} s"
        )


def set_collection_method(
    session: Session, ctx: Context, customer_id: int, gateway: str, label: str
) -> None:
    """Make plugin ``gateway`` collect the renewals of ``customer_id`` (``label`` is shown to
    people, e.g. "Visa ····0004"). Replaces any earlier method of that customer."""
    method = session.get(CollectionMethod, customer_id, with_for_update=not ctx.db.is_sqlite)
    if method is None:
        session.add(
            CollectionMethod(
                customer_id=customer_id, gateway=gateway, label=label[:80], updated_at=ctx.now()
            )
        )
    else:
        method.gateway, method.label, method.updated_at = gateway, label[:80], ctx.now()
    session.flush()


def clear_collection_method(session: Session, customer_id: int, gateway: str) -> None:
    """Stop collecting the renewals of ``customer_id`` through ``gateway`` (no-op when another
    plugin collects them)."""
    session.execute(
        delete(CollectionMethod).where(
            CollectionMethod.customer_id == customer_id, CollectionMethod.gateway == gateway
        )
    )


def collection_method(session: Session, customer_id: int) -> CollectionMethod | None:
    """The customer's collection method, if any."""
    return session.get(CollectionMethod, customer_id)


def _candidates(session: Session, day: date) -> list[tuple[int, int, str]]:
    """(document id, next attempt number, gateway) of every unpaid renewal proforma of a
    customer with a collection method whose next attempt is due on ``day``."""
    last = (
        select(
            CollectionAttempt.document_id,
            func.max(CollectionAttempt.attempt).label("attempt"),
        )
        .group_by(CollectionAttempt.document_id)
        .subquery()
    )
    rows = session.execute(
        select(Document.id, last.c.attempt, CollectionMethod.gateway)
        .join(CollectionMethod, CollectionMethod.customer_id == Document.customer_id)
        .outerjoin(last, last.c.document_id == Document.id)
        .where(
            Document.kind == "proforma",
            Document.status == "unpaid",
            Document.source == "renewal",
            Document.issue_date <= day,
        )
        .order_by(Document.id)
    ).all()
    due: list[tuple[int, int, str]] = []
    for document_id, attempt, gateway in rows:
        if attempt is None:
            due.append((document_id, 1, gateway))
            continue
        previous = session.scalar(
            select(CollectionAttempt).where(
                CollectionAttempt.document_id == document_id, CollectionAttempt.attempt == attempt
            )
        )
        if (
            previous is not None
            and previous.status in RETRYABLE
            and previous.retry_on is not None
            and previous.retry_on <= day
        ):
            due.append((document_id, attempt + 1, gateway))
    return due


def _claim(ctx: Context, document_id: int, attempt: int, gateway: str, day: date) -> bool:
    """Insert attempt ``attempt`` of the document (its own committed transaction) when the
    document is still payable; False when it is not or another run claimed it first."""
    try:
        with ctx.db.transaction() as session:
            document = lock_document(session, document_id)
            if not document.is_payable:
                return False
            session.add(
                CollectionAttempt(
                    document_id=document_id,
                    attempt=attempt,
                    gateway=gateway,
                    status="charging",
                    reference="",
                    detail="",
                    charged_on=day,
                    created_at=ctx.now(),
                )
            )
            session.flush()
    except IntegrityError:
        return False
    return True


def _retry_on(session: Session, ctx: Context, document_id: int, attempt: int) -> date | None:
    """The date of attempt ``attempt + 1`` on the schedule, counted from the first attempt;
    None when ``attempt`` was the last."""
    schedule = sorted(set(ctx.settings.billing.collection_retry_days))
    if attempt > len(schedule):
        return None
    first = session.scalar(
        select(CollectionAttempt.charged_on).where(
            CollectionAttempt.document_id == document_id, CollectionAttempt.attempt == 1
        )
    )
    assert first is not None
    return first + timedelta(days=schedule[attempt - 1])


def _email(
    session: Session, ctx: Context, document: Document, template: str, attempt: int, **extra: object
) -> None:
    queue_document_email(
        session,
        ctx,
        document,
        template,
        key=f"{template}:{document.id}:{attempt}",
        extra={"url": ctx.url(f"/client/documents/{document.id}"), **extra},
    )


def _finish(
    ctx: Context, document_id: int, attempt: int, result: CollectionResult, report: CollectionReport
) -> None:
    """Record the outcome of a claimed attempt, schedule the next one and email the customer."""
    with ctx.db.transaction() as session:
        row = session.scalar(
            select(CollectionAttempt)
            .where(
                CollectionAttempt.document_id == document_id, CollectionAttempt.attempt == attempt
            )
            .with_for_update()
        )
        assert row is not None
        row.status = result.status
        row.reference = result.reference[:64]
        row.detail = result.detail[:2000]
        row.finished_at = ctx.now()
        document = session.get(Document, document_id)
        assert document is not None
        method = collection_method(session, document.customer_id)
        label = method.label if method is not None else ""
        if result.status == "paid":
            report.paid += 1
        elif result.status in RETRYABLE:
            row.retry_on = _retry_on(session, ctx, document_id, attempt)
            if result.status == "error":
                report.errors += 1
            else:
                report.declined += 1
            if document.is_payable and (result.status == "declined" or row.retry_on is None):
                if row.retry_on is None:
                    report.handed_over += 1
                    _email(session, ctx, document, "collection_failed", attempt, method=label)
                else:
                    _email(
                        session,
                        ctx,
                        document,
                        "collection_declined",
                        attempt,
                        method=label,
                        retry_on=row.retry_on,
                    )
        elif result.status == "unusable":
            report.unusable += 1
            report.handed_over += 1
            if document.is_payable:
                _email(session, ctx, document, "collection_method_unusable", attempt)


def collect_renewals(
    ctx: Context, day: date, report: CollectionReport | None = None
) -> CollectionReport:
    """Charge every due renewal proforma to its customer's collection method (see the module
    docstring); idempotent and safe to run from several processes at once."""
    report = report or CollectionReport()
    started = time.perf_counter()
    with ctx.db.read_session() as session:
        due = _candidates(session, day)
    for document_id, attempt, gateway in due:
        if not _claim(ctx, document_id, attempt, gateway, day):
            continue
        report.charged += 1
        try:
            result: CollectionResult | None = call_owner(
                ctx.plugins,
                "collect_renewal",
                gateway,
                ctx=ctx,
                document_id=document_id,
                attempt=attempt,
                charged_on=day,
            )
        except Exception as exc:
            log.exception("collecting document %s (attempt %s) failed", document_id, attempt)
            result = CollectionResult("error", detail=f"{type(exc).__name__}: {exc}")
        if result is None:
            result = CollectionResult("unusable", detail=f"no plugin {gateway!r} collects")
        _finish(ctx, document_id, attempt, result, report)
    report.seconds += time.perf_counter() - started
    return report


def renewal_collection_job(ctx: Context) -> str:
    """The worker's periodic job: charge due renewals and retries for today."""
    return collect_renewals(ctx, ctx.today()).summary()
