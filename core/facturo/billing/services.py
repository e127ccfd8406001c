"""Service lifecycle: ``pending → active ⇄ suspended → terminated`` (or ``cancelled``).

State changes happen inside the transaction that causes them (a payment, the billing run, a
staff action); the matching ``provision_product`` call and ``on_service_status_changed`` event
are queued in the outbox and run after commit.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from facturo import audit
from facturo.billing.cycles import add_months, months_of, period_for
from facturo.delivery.outbox import enqueue_event
from facturo.errors import FacturoError
from facturo.models import Document, DocumentLine, Service

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
    paid_line: DocumentLine | None = None,
) -> None:
    """Move ``service`` to ``new_status`` and queue the provisioning ``action`` and the event.

    ``paid_line``: the invoice line whose payment causes the change; the provisioning event
    then carries it (see :func:`provision_payload`) and is deduplicated per line."""
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
        enqueue_provision(session, ctx, service, action, paid_line, suffix)
    if new_status != old_status:
        enqueue_event(
            session,
            ctx,
            "service_status_changed",
            {"service_id": service.id, "old_status": old_status, "new_status": new_status},
            f"status:{service.id}:{old_status}:{new_status}:{suffix}",
        )


def provision_payload(service: Service, action: str, line: DocumentLine | None) -> dict[str, Any]:
    """The ``provision`` event's payload: the service and action and, for a paid line, its
    ``document_id``, ``line_id``, ``period_start`` and ``period_end`` (ISO dates)."""
    payload: dict[str, Any] = {"service_id": service.id, "action": action}
    if line is not None:
        payload.update(
            document_id=line.document_id,
            line_id=line.id,
            period_start=line.period_start.isoformat() if line.period_start else None,
            period_end=line.period_end.isoformat() if line.period_end else None,
        )
    return payload


def enqueue_provision(
    session: Session,
    ctx: Context,
    service: Service,
    action: str,
    line: DocumentLine | None,
    suffix: str,
) -> None:
    """Queue ``provision_product(service, action)``: once per paid line when ``line`` is given
    (dedupe key ``provision:<service>:<action>:line<id>``), else once per ``suffix``."""
    key = f"line{line.id}" if line is not None else suffix
    enqueue_event(
        session,
        ctx,
        "provision",
        provision_payload(service, action, line),
        f"provision:{service.id}:{action}:{key}",
    )


def is_coterm_line(session: Session, line: DocumentLine, service: Service) -> bool:
    """True when ``line`` (a ``create`` line of an add-on ``service``) is co-termed with the
    parent service: its period is not one whole cycle, or it ends the day before the parent's
    next due date. Its last day is then fixed, whenever it is paid."""
    if service.parent_id is None or line.period_start is None or line.period_end is None:
        return False
    if period_for(line.period_start, service.cycle)[1] != line.period_end:
        return True
    parent = session.get(Service, service.parent_id)
    return parent is not None and parent.next_due_date == line.period_end + timedelta(days=1)


def date_first_periods(session: Session, document: Document, paid_on: date) -> None:
    """Start each ``create`` line's period on ``paid_on``, the day it is paid (call before the
    document is numbered): a first period runs from the payment, as the service's due date
    does, so the invoice, the service and what plugins provision show the same dates.

    A co-termed add-on's line (:func:`is_coterm_line`) keeps its last day, so that the
    add-on's next due date stays its parent's; it starts on ``paid_on`` unless paid after
    that last day."""
    for line in document.lines:
        if line.action != "create" or line.service_id is None or line.period_start is None:
            continue
        service = session.get(Service, line.service_id)
        if service is None or service.status != "pending":
            continue
        if line.period_end is not None and is_coterm_line(session, line, service):
            line.period_start = min(max(line.period_start, paid_on), line.period_end)
            continue
        line.period_start, line.period_end = period_for(paid_on, service.cycle)


def _paid_through(line: DocumentLine, service: Service, start: date) -> date:
    """The next due date after paying ``line``: the day after its period's last day."""
    if line.period_end is not None:
        return line.period_end + timedelta(days=1)
    return add_months(start, months_of(service.cycle))


def apply_paid_lines(session: Session, ctx: Context, document: Document, paid_on: date) -> None:
    """Activate, renew or unsuspend each service billed by the paid ``document``.

    Each line's period is the period paid for, and the service's next due date becomes the day
    after it. create → active from the payment date (see :func:`date_first_periods`); renew →
    the period printed on the line, which starts at the previous due date however late it is
    paid (the billing anchor is kept), so a renewal paid after a suspension for non-payment
    covers the same dates as one paid on time; a service suspended for non-payment is
    unsuspended once its renewal is paid. The ``provision`` events carry the line (document,
    line, period start and end) and are deduplicated per line.
    """
    for line in document.lines:
        if line.service_id is None or line.action is None:
            continue
        service = session.get(Service, line.service_id)
        if service is None or service.status in ("terminated", "cancelled"):
            continue
        key = f"doc{document.id}"
        if line.action == "create" and service.status == "pending":
            service.next_due_date = _paid_through(line, service, paid_on)
            change_status(session, ctx, service, "active", "create", key=key, paid_line=line)
        elif line.action == "renew":
            start = line.period_start or service.next_due_date or paid_on
            service.next_due_date = _paid_through(line, service, start)
            if service.status == "suspended" and service.suspension_reason == "overdue":
                change_status(session, ctx, service, "active", "unsuspend", key=key)
            enqueue_provision(session, ctx, service, "renew", line, key)


def days_overdue(service: Service, today: date) -> int:
    """Whole days since the service's due date (negative when not yet due)."""
    if service.next_due_date is None:
        return 0
    return (today - service.next_due_date) // timedelta(days=1)
