"""Email intake: turn one inbound RFC 822 message into a ticket action (idempotent on the
Message-ID), used by ``facturo tickets import-email`` and the IMAP poll."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from facturo.plugin import Context, Customer

from .attachments import check_attachments
from .decision import (
    AutoReply,
    CustomerMatch,
    Drop,
    GuestTicket,
    Join,
    Open,
    TicketMatch,
    decide_action,
)
from .intake import ParsedMessage, parse_message
from .models import Department, Ticket, TicketMessage
from .notify import send_autoreply
from .references import format_reference
from .service import (
    customer_reply,
    default_department,
    department_by_email,
    open_ticket,
    ticket_by_number,
)
from .settings import config
from .storage import NewFile


@dataclass(frozen=True)
class IntakeResult:
    """What happened: ``action`` is joined, opened, guest, autoreply, dropped or duplicate."""

    action: str
    ticket_number: int | None = None
    detail: str = ""
    rejected_files: tuple[str, ...] = ()

    def line(self) -> str:
        """One line for the CLI and the logs."""
        parts = [self.action]
        if self.ticket_number is not None:
            parts.append(format_reference(self.ticket_number))
        if self.detail:
            parts.append(self.detail)
        if self.rejected_files:
            parts.append("rejected attachments: " + ", ".join(self.rejected_files))
        return " ".join(parts)


def _message_key(parsed: ParsedMessage, raw: bytes) -> str:
    """The idempotency key: the Message-ID, or a hash of the bytes when there is none."""
    if parsed.message_id:
        return parsed.message_id[:500]
    return "<sha256-" + hashlib.sha256(raw).hexdigest() + "@intake>"


def import_email(ctx: Context, raw: bytes, department_hint: str | None = None) -> IntakeResult:
    """Process one inbound message: join its ticket, open one, open a guest ticket, auto-reply
    or drop it. Importing the same message twice changes nothing the second time.
    ``department_hint`` (the mailbox's department address) is used when the message names none."""
    cfg = config(ctx)
    try:
        with ctx.db.transaction() as session:
            return _import(session, ctx, raw, cfg.our_domains, cfg.guest_tickets, department_hint)
    except IntegrityError:
        return IntakeResult("duplicate", detail="message already imported")


def _import(
    session: Session,
    ctx: Context,
    raw: bytes,
    domains: tuple[str, ...],
    guests: bool,
    hint: str | None,
) -> IntakeResult:
    addresses = list(session.scalars(select(Department.email)))
    parsed = parse_message(raw, domains, addresses)
    key = _message_key(parsed, raw)
    if session.scalar(select(TicketMessage.id).where(TicketMessage.email_message_id == key)):
        return IntakeResult("duplicate", detail="message already imported")
    ticket = ticket_by_number(session, parsed.reference) if parsed.reference else None
    customer = (
        session.scalar(select(Customer).where(func.lower(Customer.email) == parsed.sender))
        if parsed.sender
        else None
    )
    if customer is not None and customer.disabled:
        customer = None
    action = decide_action(
        parsed,
        TicketMatch(ticket.number or ticket.id, ticket.customer_id, ticket.guest_email)
        if ticket is not None
        else None,
        CustomerMatch(customer.id) if customer is not None else None,
        guest_tickets=guests,
    )
    if isinstance(action, Drop):
        return IntakeResult("dropped", detail=action.reason)
    department = department_by_email(session, parsed.department or hint) or default_department(
        session
    )
    if isinstance(action, AutoReply):
        # One auto-reply per sender and day, whatever they send: a loop cannot grow.
        send_autoreply(session, ctx, parsed.sender, department, f"{parsed.sender}:{ctx.today()}")
        return IntakeResult("autoreply", detail=parsed.sender)
    checked = check_attachments(parsed.attachments)
    files = [NewFile(a.upload.filename, a.content_type, a.upload.content) for a in checked.accepted]
    rejected = tuple(f"{r.upload.filename} ({r.detail})" for r in checked.rejected)
    body = parsed.trimmed_body or parsed.body or "(no text)"
    if isinstance(action, Join) and ticket is not None:
        customer_reply(session, ctx, ticket, body, email_message_id=key, files=files)
        return IntakeResult("joined", ticket.number, rejected_files=rejected)
    if department is None:
        return IntakeResult("dropped", detail="no department is configured")
    assert isinstance(action, Open | GuestTicket)
    new = open_ticket(
        session,
        ctx,
        department=department,
        subject=parsed.subject or parsed.original_subject or "(no subject)",
        body=body,
        source="email",
        customer=customer if isinstance(action, Open) else None,
        guest_email=parsed.sender if isinstance(action, GuestTicket) else None,
        email_message_id=key,
        files=files,
    )
    name = "opened" if isinstance(action, Open) else "guest"
    return IntakeResult(name, new.number, rejected_files=rejected)


def ticket_of(session: Session, number: int) -> Ticket | None:
    """The ticket numbered ``number`` (for callers that print results)."""
    return ticket_by_number(session, number)
