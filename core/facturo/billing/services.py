"""Service lifecycle: ``pending → active ⇄ suspended → terminated`` (or ``cancelled``).

State changes happen inside the transaction that causes them (a payment, the billing run, a
staff action); the matching ``provision_product`` call and ``on_service_status_changed`` event
are queued in the outbox and run after commit.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from facturo import audit
from facturo.billing.cycles import add_months, months_of
from facturo.delivery.outbox import enqueue_event
from facturo.errors import FacturoError
from facturo.models import Document, Service

if TYPE_CHECKING:
    from facturo.context import Context

TRANSITIONS = {
    "pending": {"active", "cancelled"},
    "active": {"suspended", "terminated", "cancelled"},
    "suspended": {"active", "terminated"},
    "terminated": set(),
    "cancelled": set(),
}


class ServiceStateError(FacturoError):
    """A service cannot move to the requested status."""

    status = 409
    code = "conflict"


def change_status(
    session: Session,
    ctx: Context,
    service: Service,
    new_status: str,
    action: str | None,
    reason: str | None = None,
    actor: str = "system",
    key: str = "",
) -> None:
    """Move ``service`` to ``new_status`` and queue the provisioning ``action`` and the event."""
    old_status = service.status
    if new_status != old_status and new_status not in TRANSITIONS[old_status]:
        raise ServiceStateError(f"service {service.id} cannot go from {old_status} to {new_status}")
    service.status = new_status
    if new_status == "suspended":
        service.suspension_reason = reason or "overdue"
    elif new_status == "active":
        service.suspension_reason = None
        if service.activated_at is None:
            service.activated_at = ctx.now()
    elif new_status == "terminated":
        service.terminated_at = ctx.now()
    session.flush()
    audit.record(
        session,
        actor,
        f"service.{action or new_status}",
        service,
        before={"status": old_status},
        after={"status": new_status, "reason": reason},
    )
    suffix = key or ctx.now().isoformat()
    if action:
        enqueue_event(
            session,
            ctx,
            "provision",
            {"service_id": service.id, "action": action},
            f"provision:{service.id}:{action}:{suffix}",
        )
    if new_status != old_status:
        enqueue_event(
            session,
            ctx,
            "service_status_changed",
            {"service_id": service.id, "old_status": old_status, "new_status": new_status},
            f"status:{service.id}:{old_status}:{new_status}:{suffix}",
        )


def apply_paid_lines(session: Session, ctx: Context, document: Document, paid_on: date) -> None:
    """Activate, renew or unsuspend each service billed by the paid ``document``.

    create → active, due one cycle after the payment date; renew → the next due date moves one
    cycle from the period start (the previous due date), not from today; a service suspended
    for non-payment is unsuspended once its renewal is paid.
    """
    for line in document.lines:
        if line.service_id is None or line.action is None:
            continue
        service = session.get(Service, line.service_id)
        if service is None or service.status in ("terminated", "cancelled"):
            continue
        key = f"doc{document.id}"
        if line.action == "create" and service.status == "pending":
            service.next_due_date = add_months(paid_on, months_of(service.cycle))
            change_status(session, ctx, service, "active", "create", key=key)
        elif line.action == "renew":
            start = line.period_start or service.next_due_date or paid_on
            service.next_due_date = add_months(start, months_of(service.cycle))
            if service.status == "suspended" and service.suspension_reason == "overdue":
                change_status(session, ctx, service, "active", "unsuspend", key=key)
            enqueue_event(
                session,
                ctx,
                "provision",
                {"service_id": service.id, "action": "renew"},
                f"provision:{service.id}:renew:{key}",
            )


def days_overdue(service: Service, today: date) -> int:
    """Whole days since the service's due date (negative when not yet due)."""
    if service.next_due_date is None:
        return 0
    return (today - service.next_due_date) // timedelta(days=1)
