"""Ticket times are shown in the business time zone, one format per language (#16.7): the
pages used to print the stored UTC instant."""

from __future__ import annotations

from sqlalchemy import select

from facturo_tickets.models import Ticket, TicketMessage

from .conftest import Desk
from .test_web import client, open_via_web


def test_ticket_times_are_in_the_business_time_zone(live_desk: tuple[Desk, str]) -> None:
    desk, url = live_desk
    zone = desk.ctx.settings.zone
    with client(desk, url, customer=desk.ana) as ana:
        assert open_via_web(ana, desk.support, "Hora de Madrid").status_code == 303
        with desk.ctx.db.read_session() as session:
            ticket = session.scalars(select(Ticket)).one()
            message = session.scalars(select(TicketMessage)).one()
        local = message.created_at.astimezone(zone)
        utc_text = f"{message.created_at:%H:%M}"
        assert f"{local:%H:%M}" != utc_text  # Madrid is never UTC
        page = ana.get(f"/client/tickets/{ticket.number}").text
        listing = ana.get("/client/tickets").text
    assert f"{local:%d/%m/%Y %H:%M}" in page
    assert f"{ticket.updated_at.astimezone(zone):%d/%m/%Y %H:%M}" in listing
    assert f"{message.created_at:%Y-%m-%d %H:%M}" not in page
    with client(desk, url, staff=desk.admin) as staff:
        english = staff.get(
            f"/admin/tickets/{ticket.number}", headers={"Accept-Language": "en"}
        ).text
    assert f"{local.day} {local:%b %Y, %H:%M}" in english
