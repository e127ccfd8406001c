"""The support panel of the client dashboard follows every change on the next request, though
the page is served from a cache: a new ticket, replies from either side, a closed ticket."""

from __future__ import annotations

import httpx

from facturo.plugin import Customer, StaffUser
from facturo.testing import AppClient, logged_in_cookies
from facturo.web.app import create_app
from facturo_tickets.models import Department, Ticket
from facturo_tickets.service import customer_reply, open_ticket, set_status, staff_reply

from .conftest import Desk


def panel(client: httpx.Client) -> str:
    response = client.get("/client/")
    assert response.status_code == 200, response.text
    heading = "<h2>Soporte</h2>" if "<h2>Soporte</h2>" in response.text else "<h2>Support</h2>"
    start = response.text.index(heading)
    return response.text[start : response.text.index("</section>", start)]


def test_support_panel_follows_tickets_and_replies(desk: Desk) -> None:
    app = create_app(desk.ctx)
    ana = AppClient(app, cookies=logged_in_cookies(desk.ctx, customer=desk.ana))
    eve = AppClient(app, cookies=logged_in_cookies(desk.ctx, customer=desk.eve))
    with ana, eve:
        assert "No tienes tickets abiertos." in panel(ana)
        assert "You have no open tickets." in panel(eve)
        with desk.ctx.db.transaction() as session:
            ticket = open_ticket(
                session,
                desk.ctx,
                department=session.get(Department, desk.support),
                subject="The import stops",
                body="x",
                source="web",
                customer=session.get(Customer, desk.ana.id),
            )
            ticket_id, number = ticket.id, ticket.number
        text = panel(ana)
        assert f"T-{number}" in text and "The import stops — Abierto" in text
        assert "The import stops" not in panel(eve)
        with desk.ctx.db.transaction() as session:
            ticket = session.get(Ticket, ticket_id)
            staff_reply(session, desk.ctx, ticket, session.get(StaffUser, desk.agent.id), "Hi")
        assert "The import stops — Respondido" in panel(ana)
        with desk.ctx.db.transaction() as session:
            customer_reply(session, desk.ctx, session.get(Ticket, ticket_id), "Still stops")
        assert "The import stops — Respuesta del cliente" in panel(ana)
        with desk.ctx.db.transaction() as session:
            set_status(session, desk.ctx, session.get(Ticket, ticket_id), "closed", "staff:1")
        assert "No tienes tickets abiertos." in panel(ana)
