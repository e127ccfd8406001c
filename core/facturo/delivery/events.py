"""Deliver queued after-commit events to the plugins' hooks, with retries.

Each event runs in its own transaction together with the marking of the event as done, so a
hook's writes and the "done" mark commit together; a failure rolls both back and the event is
retried with the outbox's capped backoff for days (:mod:`facturo.delivery.retries`), then kept
as ``failed`` for staff.

Unlike emails, an event needs no lease: the row stays locked (``FOR UPDATE SKIP LOCKED``)
for as long as its hook runs, and a dead worker's lock goes with its connection. Only the
failure is written after that transaction; it is written only where the row is still
``pending``, so it can never undo a "done" written meanwhile by another worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from facturo.delivery.retries import retry_policy
from facturo.models import Customer, Document, OutboxEvent, Payment, Refund, Service
from facturo.plugins import call_owner

if TYPE_CHECKING:
    from facturo.context import Context

log = logging.getLogger(__name__)


class ProvisioningError(Exception):
    """No plugin answered a provisioning action for a product that names a provisioner."""


def _customer_registered(ctx: Context, session: Session, payload: dict[str, Any]) -> None:
    customer = session.get(Customer, payload["customer_id"])
    if customer is not None:
        ctx.hook.on_customer_registered(ctx=ctx, session=session, customer=customer)


def _invoice_created(ctx: Context, session: Session, payload: dict[str, Any]) -> None:
    document = session.get(Document, payload["document_id"])
    if document is not None:
        ctx.hook.on_invoice_created(ctx=ctx, session=session, document=document)


def _invoice_paid(ctx: Context, session: Session, payload: dict[str, Any]) -> None:
    document = session.get(Document, payload["document_id"])
    if document is not None:
        ctx.hook.on_invoice_paid(ctx=ctx, session=session, document=document)


def _payment_recorded(ctx: Context, session: Session, payload: dict[str, Any]) -> None:
    payment = session.get(Payment, payload["payment_id"])
    if payment is not None:
        ctx.hook.on_payment_recorded(ctx=ctx, session=session, payment=payment)


def _invoice_refunded(ctx: Context, session: Session, payload: dict[str, Any]) -> None:
    document = session.get(Document, payload["document_id"])
    note = session.get(Document, payload["credit_note_id"])
    refund = session.get(Refund, payload["refund_id"]) if payload.get("refund_id") else None
    if document is not None and note is not None:
        ctx.hook.on_invoice_refunded(
            ctx=ctx, session=session, document=document, credit_note=note, refund=refund
        )


def _status_changed(ctx: Context, session: Session, payload: dict[str, Any]) -> None:
    service = session.get(Service, payload["service_id"])
    if service is not None:
        ctx.hook.on_service_status_changed(
            ctx=ctx,
            session=session,
            service=service,
            old_status=payload["old_status"],
            new_status=payload["new_status"],
        )


def _day(raw: Any) -> date | None:
    return date.fromisoformat(raw) if raw else None


def _provision(ctx: Context, session: Session, payload: dict[str, Any]) -> None:
    service = session.get(Service, payload["service_id"])
    if service is None:
        return
    result = call_owner(
        ctx.plugins,
        "provision_product",
        service.product.provisioner,
        ctx=ctx,
        session=session,
        service=service,
        action=payload["action"],
        document_id=payload.get("document_id"),
        line_id=payload.get("line_id"),
        period_start=_day(payload.get("period_start")),
        period_end=_day(payload.get("period_end")),
    )
    if result is None and service.product.provisioner:
        raise ProvisioningError(f"no plugin provisions {service.product.provisioner!r}")
    if isinstance(result, dict) and result:
        service.provisioner_data = {**(service.provisioner_data or {}), **result}


def _password_reset_requested(ctx: Context, session: Session, payload: dict[str, Any]) -> None:
    from facturo.accounts.resets import send_password_reset

    send_password_reset(ctx, session, payload)


HANDLERS: dict[str, Callable[[Context, Session, dict[str, Any]], None]] = {
    "customer_registered": _customer_registered,
    "invoice_created": _invoice_created,
    "invoice_paid": _invoice_paid,
    "payment_recorded": _payment_recorded,
    "invoice_refunded": _invoice_refunded,
    "service_status_changed": _status_changed,
    "provision": _provision,
    "password_reset_requested": _password_reset_requested,
}


@dataclass
class EventReport:
    done: int = 0
    retried: int = 0
    failed: int = 0
    #: ``"<event name> #<id>: <error>"`` for every event that failed in this pass.
    errors: list[str] = field(default_factory=list)


def deliver_events(ctx: Context, limit: int = 100) -> EventReport:
    """Run due events once each, oldest first; return what happened."""
    report = EventReport()
    policy = retry_policy(ctx)
    now = ctx.now()
    with ctx.db.read_session() as session:
        ids = list(
            session.scalars(
                select(OutboxEvent.id)
                .where(OutboxEvent.status == "pending", OutboxEvent.next_attempt_at <= now)
                .order_by(OutboxEvent.id)
                .limit(limit)
            )
        )
    for event_id in ids:
        try:
            with ctx.db.transaction() as session:
                query = select(OutboxEvent).where(
                    OutboxEvent.id == event_id, OutboxEvent.status == "pending"
                )
                if not ctx.db.is_sqlite:
                    query = query.with_for_update(skip_locked=True)
                row = session.execute(query).scalar_one_or_none()
                if row is None:
                    continue  # another worker has it
                handler = HANDLERS.get(row.name)
                if handler is None:
                    raise LookupError(f"no handler for event {row.name!r}")
                handler(ctx, session, dict(row.payload))
                row.status = "done"
                row.attempts += 1
                row.done_at = ctx.now()
            report.done += 1
        except Exception as exc:  # a hook failed: retry later, keep the error for staff
            with ctx.db.transaction() as session:
                row = session.get(OutboxEvent, event_id)
                if row is None or row.status != "pending":
                    continue
                attempts = row.attempts + 1
                gives_up = policy.gives_up(attempts)
                result = session.execute(
                    update(OutboxEvent)
                    .where(OutboxEvent.id == event_id, OutboxEvent.status == "pending")
                    .values(
                        attempts=attempts,
                        status="failed" if gives_up else "pending",
                        last_error=f"{type(exc).__name__}: {exc}"[:1000],
                        next_attempt_at=ctx.now() + policy.delay(attempts),
                    )
                )
                if not getattr(result, "rowcount", 0):
                    continue  # another worker finished it meanwhile
                name = row.name
            report.errors.append(f"{name} #{event_id}: {type(exc).__name__}: {exc}")
            log.warning(
                "event %s #%s failed (attempt %s, %s): %s: %s",
                name,
                event_id,
                attempts,
                "given up" if gives_up else "will retry",
                type(exc).__name__,
                exc,
            )
            if gives_up:
                report.failed += 1
            else:
                report.retried += 1
    return report
