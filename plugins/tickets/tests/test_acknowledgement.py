"""A new ticket is acknowledged by email once, in the customer's language, on its thread."""

from __future__ import annotations

from facturo.plugin import Customer
from facturo.testing import drain
from facturo_tickets.models import Department
from facturo_tickets.service import open_ticket

from .conftest import SUPPORT, Desk, is_acknowledgement


def _open(desk: Desk, customer: Customer, subject: str) -> None:
    with desk.ctx.db.transaction() as session:
        open_ticket(
            session,
            desk.ctx,
            department=session.get(Department, desk.support),
            subject=subject,
            body="La importación se queda parada.",
            source="web",
            customer=session.get(Customer, customer.id),
        )


def test_new_tickets_are_acknowledged_once_in_the_customers_language(desk: Desk) -> None:
    _open(desk, desk.ana, "No importa")
    _open(desk, desk.eve, "Import stuck")
    drain(desk.ctx)
    drain(desk.ctx)  # a second pass sends nothing more
    spanish, english = sorted(desk.smtp.sink.wait_for(2), key=lambda m: m["To"])[::-1]
    assert len(desk.smtp.sink.messages) == 2
    assert spanish["To"] == "juan@cliente.es" and english["To"] == "eve@example.com"
    assert "[#T-" in spanish["Subject"] and "Hemos recibido tu ticket" in spanish["Subject"]
    assert "We received your ticket" in english["Subject"]
    for email in (spanish, english):
        assert is_acknowledgement(email)
        assert email["Reply-To"] == SUPPORT
        assert email["Message-ID"].startswith("<")
