"""Ticket domain: open, reply, notes, status, priority, assignment, merge, the staff queue.

Functions take a Session and the Context and know nothing of HTTP. Bad input raises
TicketError (the caller shows its message and changes nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from facturo.plugin import Context, Customer, Service, StaffUser, audit_record

from .models import PRIORITIES, PRIORITY_RANK, STATUSES, Department, Ticket, TicketMessage
from .notify import notify_opened, notify_reply
from .storage import NewFile, store_files

MAX_SUBJECT = 250
MAX_BODY = 50_000
WAITING = ("open", "customer-reply")


class TicketError(Exception):
    """A request the ticket rules refuse; ``field`` names the form field when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# --- departments and who sees them ----------------------------------------------------------


def can_see(staff: StaffUser, department: Department) -> bool:
    """Admins see every department; other staff those listing their role."""
    return staff.role == "admin" or staff.role in department.role_list


def visible_departments(session: Session, staff: StaffUser) -> list[Department]:
    """The departments ``staff`` may work in, by name."""
    rows = session.scalars(select(Department).order_by(Department.name))
    return [d for d in rows if can_see(staff, d)]


def department_by_email(session: Session, email: str | None) -> Department | None:
    """The department whose address is ``email`` (case-insensitive), or None."""
    if not email:
        return None
    return session.scalar(
        select(Department).where(func.lower(Department.email) == email.strip().lower())
    )


def default_department(session: Session) -> Department | None:
    """The department for mail that names none: the first one created."""
    return session.scalar(select(Department).order_by(Department.id).limit(1))


def save_department(
    session: Session,
    *,
    name: str,
    email: str,
    default_priority: str,
    roles: Sequence[str],
    department: Department | None = None,
) -> Department:
    """Create or update a department after checking its fields."""
    name, email = name.strip(), email.strip().lower()
    if not name:
        raise TicketError("Enter a name.", "name")
    if "@" not in email or " " in email:
        raise TicketError("Enter an email address.", "email")
    if default_priority not in PRIORITIES:
        raise TicketError("Choose a priority.", "default_priority")
    other = department_by_email(session, email)
    if other is not None and other is not department:
        raise TicketError("Another department uses this address.", "email")
    row = department or Department()
    row.name, row.email, row.default_priority = name, email, default_priority
    row.roles = ",".join(r.strip() for r in roles if r.strip())
    session.add(row)
    session.flush()
    return row


def delete_department(session: Session, department: Department) -> None:
    """Delete a department that has no tickets (move or close them first)."""
    used = session.scalar(select(Ticket.id).where(Ticket.department_id == department.id).limit(1))
    if used is not None:
        raise TicketError("This department has tickets; it cannot be deleted.", "name")
    session.delete(department)
    session.flush()


# --- opening and replying -------------------------------------------------------------------


def _clean(subject: str, body: str) -> tuple[str, str]:
    subject, body = " ".join(subject.split()), body.strip()
    if not subject:
        raise TicketError("Enter a subject.", "subject")
    if not body:
        raise TicketError("Write a message.", "body")
    if len(body) > MAX_BODY:
        raise TicketError(f"The message is longer than {MAX_BODY} characters.", "body")
    return subject[:MAX_SUBJECT], body


def open_ticket(
    session: Session,
    ctx: Context,
    *,
    department: Department,
    subject: str,
    body: str,
    source: str,
    customer: Customer | None = None,
    guest_email: str | None = None,
    service_id: int | None = None,
    email_message_id: str | None = None,
    files: Sequence[NewFile] = (),
) -> Ticket:
    """Open a ticket with its first message. Web tickets take the department's default
    priority, email tickets "low". ``service_id`` must be one of the customer's services."""
    subject, body = _clean(subject, body)
    if customer is None and not guest_email:
        raise TicketError("A ticket needs a customer or a guest address.")
    if service_id is not None:
        service = session.get(Service, service_id)
        if service is None or customer is None or service.customer_id != customer.id:
            raise TicketError("Choose one of your services.", "service_id")
    now = ctx.now()
    ticket = Ticket(
        customer_id=customer.id if customer is not None else None,
        guest_email=None if customer is not None else (guest_email or "").lower(),
        department_id=department.id,
        subject=subject,
        status="open",
        priority=department.default_priority if source == "web" else "low",
        service_id=service_id,
        source=source,
        last_customer_message_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    session.flush()
    ticket.number = ticket.id
    _add(
        session,
        ticket,
        "customer" if customer else "guest",
        body,
        now,
        email_message_id,
        files,
        ctx,
    )
    notify_opened(session, ctx, ticket)
    return ticket


def _add(
    session: Session,
    ticket: Ticket,
    author: str,
    body: str,
    now: Any,
    email_message_id: str | None,
    files: Sequence[NewFile],
    ctx: Context,
    staff: StaffUser | None = None,
    internal: bool = False,
) -> TicketMessage:
    message = TicketMessage(
        ticket_id=ticket.id,
        author=author,
        staff_id=staff.id if staff is not None else None,
        body=body,
        internal=internal,
        email_message_id=email_message_id,
        created_at=now,
    )
    session.add(message)
    session.flush()
    if files:
        store_files(session, ctx, message, list(files))
    return message


def customer_reply(
    session: Session,
    ctx: Context,
    ticket: Ticket,
    body: str,
    *,
    email_message_id: str | None = None,
    files: Sequence[NewFile] = (),
) -> TicketMessage:
    """Add the customer's (or guest's) message; the ticket waits for staff again (a closed
    ticket reopens). The waiting time counts from the first unanswered message."""
    body = body.strip()
    if not body and not files:
        raise TicketError("Write a message.", "body")
    now = ctx.now()
    if ticket.status not in WAITING or ticket.last_customer_message_at is None:
        ticket.last_customer_message_at = now
    ticket.status = "customer-reply"
    ticket.close_warning_at = None
    ticket.closed_at = None
    ticket.updated_at = now
    author = "customer" if ticket.customer_id is not None else "guest"
    return _add(session, ticket, author, body, now, email_message_id, files, ctx)


def staff_reply(
    session: Session,
    ctx: Context,
    ticket: Ticket,
    staff: StaffUser,
    body: str,
    *,
    internal: bool = False,
    files: Sequence[NewFile] = (),
) -> TicketMessage:
    """Add a staff reply (emailed to the customer; the ticket becomes "answered") or an
    internal note (never shown nor sent to the customer; the status does not change)."""
    body = body.strip()
    if not body:
        raise TicketError("Write a message.", "body")
    now = ctx.now()
    message = _add(
        session, ticket, "staff", body, now, None, files, ctx, staff=staff, internal=internal
    )
    ticket.updated_at = now
    if not internal:
        ticket.status = "answered"
        ticket.answered_at = now
        ticket.first_response_at = ticket.first_response_at or now
        ticket.close_warning_at = None
        ticket.closed_at = None
        notify_reply(session, ctx, ticket, message)
    return message


# --- staff changes --------------------------------------------------------------------------


def set_status(session: Session, ctx: Context, ticket: Ticket, status: str, actor: str) -> None:
    """Change the status (one of STATUSES); closing stamps ``closed_at``."""
    if status not in STATUSES:
        raise TicketError("Choose a status.", "status")
    ticket.status = status
    ticket.closed_at = ctx.now() if status == "closed" else None
    ticket.updated_at = ctx.now()
    audit_record(session, actor, "ticket.status", ("ticket", ticket.id), None, {"status": status})


def set_priority(session: Session, ctx: Context, ticket: Ticket, priority: str, actor: str) -> None:
    """Change the priority (low, medium, high, urgent)."""
    if priority not in PRIORITIES:
        raise TicketError("Choose a priority.", "priority")
    ticket.priority = priority
    ticket.updated_at = ctx.now()
    audit_record(
        session, actor, "ticket.priority", ("ticket", ticket.id), None, {"priority": priority}
    )


def assign(
    session: Session, ctx: Context, ticket: Ticket, assignee_id: int | None, actor: str
) -> None:
    """Assign the ticket to a staff user who can see its department (None unassigns)."""
    if assignee_id is not None:
        staff = session.get(StaffUser, assignee_id)
        department = session.get(Department, ticket.department_id)
        if staff is None or staff.disabled or department is None or not can_see(staff, department):
            raise TicketError("This staff user cannot work in the ticket's department.", "assignee")
    ticket.assignee_id = assignee_id
    ticket.updated_at = ctx.now()
    audit_record(
        session, actor, "ticket.assign", ("ticket", ticket.id), None, {"assignee": assignee_id}
    )


def merge(session: Session, ctx: Context, duplicate: Ticket, target: Ticket, actor: str) -> None:
    """Move every message of ``duplicate`` into ``target`` and close ``duplicate`` pointing at
    it. Both must belong to the same customer (or guest address)."""
    if duplicate.id == target.id:
        raise TicketError("A ticket cannot be merged into itself.", "target")
    if target.merged_into_id is not None:
        raise TicketError("The target ticket was itself merged.", "target")
    if (duplicate.customer_id, duplicate.guest_email) != (target.customer_id, target.guest_email):
        raise TicketError("Only tickets of the same customer can be merged.", "target")
    for message in session.scalars(
        select(TicketMessage).where(TicketMessage.ticket_id == duplicate.id)
    ):
        message.ticket_id = target.id
    waits = [t for t in (duplicate.last_customer_message_at, target.last_customer_message_at) if t]
    if duplicate.status in WAITING:
        target.status = "customer-reply" if target.status not in WAITING else target.status
        target.last_customer_message_at = min(waits) if waits else None
    if PRIORITY_RANK[duplicate.priority] > PRIORITY_RANK[target.priority]:
        target.priority = duplicate.priority
    duplicate.status = "closed"
    duplicate.closed_at = ctx.now()
    duplicate.merged_into_id = target.id
    duplicate.updated_at = target.updated_at = ctx.now()
    audit_record(
        session, actor, "ticket.merge", ("ticket", duplicate.id), None, {"into": target.id}
    )


# --- reading --------------------------------------------------------------------------------


def priority_order() -> Any:
    """SQL expression ranking priorities (urgent first when sorted descending)."""
    return case(PRIORITY_RANK, value=Ticket.priority, else_=0)


def queue(
    session: Session,
    staff: StaffUser,
    *,
    department_id: int | None = None,
    status: str | None = None,
    assignee_id: int | None = None,
    include_closed: bool = False,
) -> list[Ticket]:
    """The staff queue: tickets of departments ``staff`` sees, highest priority first, then
    the customer who has waited longest. ``status`` "" or None means every open status."""
    departments = [d.id for d in visible_departments(session, staff)]
    query = select(Ticket).where(
        Ticket.department_id.in_(departments), Ticket.merged_into_id.is_(None)
    )
    if department_id is not None:
        query = query.where(Ticket.department_id == department_id)
    if status:
        query = query.where(Ticket.status == status)
    elif not include_closed:
        query = query.where(Ticket.status != "closed")
    if assignee_id is not None:
        query = query.where(Ticket.assignee_id == assignee_id)
    query = query.order_by(
        priority_order().desc(),
        # Tickets waiting for us come before those waiting for the customer.
        case((Ticket.status.in_(WAITING), 0), else_=1),
        Ticket.last_customer_message_at.asc(),
        Ticket.id,
    )
    return list(session.scalars(query.limit(500)))


def thread(session: Session, ticket: Ticket, *, staff_view: bool) -> list[TicketMessage]:
    """The messages of ``ticket`` in order; internal notes only in the staff view."""
    query = select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)
    if not staff_view:
        query = query.where(TicketMessage.internal.is_(False))
    return list(session.scalars(query.order_by(TicketMessage.created_at, TicketMessage.id)))


def customer_tickets(session: Session, customer_id: int) -> list[Ticket]:
    """The customer's tickets, newest activity first (merged duplicates hidden)."""
    return list(
        session.scalars(
            select(Ticket)
            .where(Ticket.customer_id == customer_id, Ticket.merged_into_id.is_(None))
            .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
        )
    )


def ticket_by_number(session: Session, number: int) -> Ticket | None:
    """The ticket numbered ``number``, following merges to the surviving ticket."""
    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    seen = 0
    while ticket is not None and ticket.merged_into_id is not None and seen < 10:
        ticket = session.get(Ticket, ticket.merged_into_id)
        seen += 1
    return ticket
