"""Panels (client dashboard, staff customer page) and the customer search by reference."""

from __future__ import annotations

from markupsafe import escape
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from facturo.plugin import (
    Context,
    Customer,
    Panel,
    RowReader,
    SearchHit,
    SessionReader,
    StaffUser,
)

from .models import Ticket
from .references import format_reference, parse_reference
from .service import customer_tickets

STATUS_LABELS = {
    "es": {
        "open": "Abierto",
        "answered": "Respondido",
        "customer-reply": "Respuesta del cliente",
        "on-hold": "En espera",
        "closed": "Cerrado",
    },
    "en": {
        "open": "Open",
        "answered": "Answered",
        "customer-reply": "Customer reply",
        "on-hold": "On hold",
        "closed": "Closed",
    },
}


def status_label(status: str, language: str) -> str:
    """The status in ``language`` (es or en)."""
    return STATUS_LABELS.get(language, STATUS_LABELS["en"]).get(status, status)


def _rows(tickets: list[Ticket], link: str, language: str) -> str:
    items = []
    for ticket in tickets:
        number = ticket.number or ticket.id
        items.append(
            f'<li><a href="{link}{number}">{escape(format_reference(number))}</a> '
            f"{escape(ticket.subject)} — {escape(status_label(ticket.status, language))}</li>"
        )
    return "<ul>" + "".join(items) + "</ul>"


#: How many open tickets the client dashboard lists.
DASHBOARD_TICKETS = 10


_TICKETS = Ticket.__table__
#: The customer's open tickets, newest activity first (built once, run on every dashboard).
OPEN_TICKETS_QUERY = (
    select(_TICKETS.c.number, _TICKETS.c.id, _TICKETS.c.subject, _TICKETS.c.status)
    .where(
        _TICKETS.c.customer_id == bindparam("customer_id"),
        _TICKETS.c.merged_into_id.is_(None),
        _TICKETS.c.status != "closed",
    )
    .order_by(_TICKETS.c.updated_at.desc(), _TICKETS.c.id.desc())
    .limit(DASHBOARD_TICKETS)
)


def open_tickets(reader: RowReader, customer_id: int) -> tuple[tuple[int, str, str], ...]:
    """The customer's first open tickets in :func:`.service.customer_tickets` order, as the
    dashboard shows them: (number, subject, status). It is also the panel's cache key."""
    rows = reader.rows(OPEN_TICKETS_QUERY, {"customer_id": customer_id})
    return tuple(
        (number or ticket_id, subject, status) for number, ticket_id, subject, status in rows
    )


def client_panel(ctx: Context, session: Session, customer: Customer, language: str) -> Panel:
    """The customer's open tickets, with a link to open a new one."""
    return open_tickets_panel(open_tickets(SessionReader(session), customer.id), language)


def open_tickets_panel(tickets: tuple[tuple[int, str, str], ...], language: str) -> Panel:
    """The dashboard panel listing ``tickets`` (see :func:`open_tickets`) in ``language``."""
    es = language == "es"
    if tickets:
        items = [
            f'<li><a href="/client/tickets/{number}">{escape(format_reference(number))}</a> '
            f"{escape(subject)} — {escape(status_label(status, language))}</li>"
            for number, subject, status in tickets
        ]
        body = "<ul>" + "".join(items) + "</ul>"
    else:
        body = (
            "<p>" + ("No tienes tickets abiertos." if es else "You have no open tickets.") + "</p>"
        )
    link = "Abrir un ticket" if es else "Open a ticket"
    body += f'<p><a href="/client/tickets/new">{link}</a></p>'
    return Panel(title={"es": "Soporte", "en": "Support"}, html=body, order=60)


def admin_customer_panel(
    ctx: Context, session: Session, customer: Customer, language: str = "es"
) -> Panel:
    """Every ticket of the customer, for the staff customer page, in ``language``."""
    tickets = customer_tickets(session, customer.id)
    body = _rows(tickets[:50], "/admin/tickets/", language) if tickets else "<p>—</p>"
    return Panel(title={"es": "Tickets", "en": "Tickets"}, html=body, order=60)


def search(session: Session, query: str) -> list[SearchHit]:
    """The customer owning the ticket named by ``query`` ("T-1234", "#T-1234", "[#T-1234]")."""
    number = parse_reference(query.strip().strip("[]#").strip())
    if number is None:
        return []
    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    if ticket is None or ticket.customer_id is None:
        return []
    return [SearchHit(ticket.customer_id, f"{format_reference(number)} {ticket.subject}")]


#: Priorities and the queue link on the staff dashboard, per language.
DASHBOARD_WORDS = {
    "es": {"low": "baja", "medium": "media", "high": "alta", "urgent": "urgente"},
    "en": {"low": "low", "medium": "medium", "high": "high", "urgent": "urgent"},
}
QUEUE_LINK = {"es": "Cola de tickets", "en": "Ticket queue"}


def admin_dashboard_panel(session: Session, staff: StaffUser, language: str = "es") -> Panel:
    """Tickets waiting for staff in the departments ``staff`` sees, by priority, in
    ``language``."""
    from .models import PRIORITIES
    from .service import WAITING, visible_departments

    departments = [d.id for d in visible_departments(session, staff)]
    counts = dict(
        session.execute(
            select(Ticket.priority, func.count())
            .where(
                Ticket.department_id.in_(departments or [0]),
                Ticket.status.in_(WAITING),
                Ticket.merged_into_id.is_(None),
            )
            .group_by(Ticket.priority)
        ).all()
    )
    language = language if language in DASHBOARD_WORDS else "es"
    labels = DASHBOARD_WORDS[language]
    items = "".join(f"<li>{labels[p]}: {int(counts.get(p, 0))}</li>" for p in reversed(PRIORITIES))
    html = f'<ul>{items}</ul><p><a href="/admin/tickets">{QUEUE_LINK[language]}</a></p>'
    return Panel(title={"es": "Tickets pendientes", "en": "Tickets waiting"}, html=html, order=30)
