"""Panels (client dashboard, staff customer page) and the customer search by reference."""

from __future__ import annotations

from markupsafe import escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from facturo.plugin import Context, Customer, Panel, SearchHit, StaffUser

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


def client_panel(ctx: Context, session: Session, customer: Customer, language: str) -> Panel:
    """The customer's open tickets, with a link to open a new one."""
    tickets = [t for t in customer_tickets(session, customer.id) if t.status != "closed"]
    es = language == "es"
    if tickets:
        body = _rows(tickets[:10], "/client/tickets/", language)
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
