"""Emails of the tickets plugin: the acknowledgement of a new ticket, staff replies, the
auto-close warning, the auto-reply to unknown senders. Each carries the "[#T-n]" tag and a Message-ID we can thread on."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from facturo.plugin import Context, Customer, enqueue_email

from .models import Department, Ticket, TicketMessage
from .references import format_reference, make_message_id, subject_tag
from .settings import config


def _recipient(session: Session, ticket: Ticket) -> tuple[str, str, Customer | None]:
    if ticket.customer_id is not None:
        customer = session.get(Customer, ticket.customer_id)
        if customer is not None:
            return customer.email, customer.language, customer
    return ticket.guest_email or "", "es", None


def _values(session: Session, ctx: Context, ticket: Ticket) -> dict[str, Any]:
    department = session.get(Department, ticket.department_id)
    return {
        "ticket": ticket,
        "reference": format_reference(ticket.number or ticket.id),
        "tag": subject_tag(ticket.number or ticket.id),
        "department": department,
        "ticket_url": ctx.url(f"/client/tickets/{ticket.number or ticket.id}"),
    }


def notify_opened(session: Session, ctx: Context, ticket: Ticket) -> bool:
    """Queue the acknowledgement of a new ticket (once per ticket): its reference, so the
    customer knows it arrived and can answer on the same thread (like every email we send it
    carries ``Auto-Submitted``, so other systems' auto-responders leave it alone)."""
    to, language, customer = _recipient(session, ticket)
    if not to:
        return False
    values = _values(session, ctx, ticket)
    values.update(customer=customer)
    number = ticket.number or ticket.id
    return enqueue_email(
        session,
        ctx,
        "ticket_opened",
        to,
        language,
        values,
        dedupe_key=f"tickets:opened:{ticket.id}",
        customer_id=ticket.customer_id,
        reply_to=values["department"].email if values["department"] else "",
        headers={
            "Message-ID": make_message_id(number, f"open{ticket.id}", config(ctx).message_domain)
        },
    )


def notify_reply(session: Session, ctx: Context, ticket: Ticket, message: TicketMessage) -> bool:
    """Queue the email telling the customer that staff replied (once per message)."""
    to, language, customer = _recipient(session, ticket)
    if not to:
        return False
    values = _values(session, ctx, ticket)
    values.update(message=message, customer=customer)
    number = ticket.number or ticket.id
    return enqueue_email(
        session,
        ctx,
        "ticket_reply",
        to,
        language,
        values,
        dedupe_key=f"tickets:reply:{message.id}",
        customer_id=ticket.customer_id,
        reply_to=values["department"].email if values["department"] else "",
        headers={"Message-ID": make_message_id(number, message.id, config(ctx).message_domain)},
    )


def notify_close_warning(session: Session, ctx: Context, ticket: Ticket, days_left: int) -> bool:
    """Queue the warning that ``ticket`` closes in ``days_left`` days without a reply."""
    to, language, customer = _recipient(session, ticket)
    if not to:
        return False
    values = _values(session, ctx, ticket)
    values.update(customer=customer, days_left=days_left)
    number = ticket.number or ticket.id
    stamp = ticket.answered_at.isoformat() if ticket.answered_at else ""
    return enqueue_email(
        session,
        ctx,
        "ticket_close_warning",
        to,
        language,
        values,
        dedupe_key=f"tickets:warn:{ticket.id}:{stamp}",
        customer_id=ticket.customer_id,
        reply_to=values["department"].email if values["department"] else "",
        headers={
            "Message-ID": make_message_id(number, f"warn{ticket.id}", config(ctx).message_domain)
        },
    )


def send_autoreply(
    session: Session, ctx: Context, to: str, department: Department | None, key: str
) -> bool:
    """Queue the one auto-reply telling an unknown sender to use the client area."""
    return enqueue_email(
        session,
        ctx,
        "ticket_autoreply",
        to,
        "es",
        {"department": department, "client_url": ctx.url("/client/tickets")},
        dedupe_key=f"tickets:autoreply:{key}",
        reply_to=department.email if department else "",
    )
