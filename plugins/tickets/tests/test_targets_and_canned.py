"""First-response targets per priority (due, overdue, met; internal notes do not count) and
canned replies (managed by support staff, inserted filled in, bad input changes nothing)."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from facturo.plugin import Customer, StaffUser
from facturo.testing import Clock, logged_in_cookies
from facturo_tickets.canned import fill
from facturo_tickets.models import CannedReply, Department, Ticket
from facturo_tickets.service import open_ticket, staff_reply
from facturo_tickets.settings import config
from facturo_tickets.targets import first_response_target

from .conftest import T0, Desk

CSRF = "test-csrf-token"


def _open(desk: Desk, department: int, subject: str) -> int:
    with desk.ctx.db.transaction() as session:
        ticket = open_ticket(
            session,
            desk.ctx,
            department=session.get(Department, department),
            subject=subject,
            body="Hola",
            source="web",
            customer=session.get(Customer, desk.ana.id),
        )
        return ticket.id


def _target(desk: Desk, ticket_id: int):  # type: ignore[no-untyped-def]
    with desk.ctx.db.read_session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        return first_response_target(ticket, config(desk.ctx).first_response_hours, desk.ctx.now())


def test_default_targets_per_priority(desk: Desk) -> None:
    assert config(desk.ctx).first_response_hours == {
        "urgent": 1,
        "high": 4,
        "medium": 8,
        "low": 24,
    }


def test_target_is_due_then_overdue_and_met_by_a_public_reply_only(
    desk: Desk, clock: Clock
) -> None:
    urgent = _open(desk, desk.licences, "Licencia caducada")  # urgent: 1 hour
    target = _target(desk, urgent)
    assert target is not None and not target.overdue and target.due_at == T0.replace(hour=10)
    clock.advance(minutes=61)
    assert _target(desk, urgent).overdue
    with desk.ctx.db.transaction() as session:
        ticket = session.get(Ticket, urgent)
        agent = session.get(StaffUser, desk.agent.id)
        staff_reply(session, desk.ctx, ticket, agent, "Lo miro.", internal=True)
    assert _target(desk, urgent).overdue  # an internal note is not a response
    clock.advance(minutes=5)
    with desk.ctx.db.transaction() as session:
        ticket = session.get(Ticket, urgent)
        agent = session.get(StaffUser, desk.agent.id)
        staff_reply(session, desk.ctx, ticket, agent, "Ya está renovada.")
    assert _target(desk, urgent) is None
    with desk.ctx.db.read_session() as session:
        answered = session.get(Ticket, urgent)
        assert answered is not None and answered.first_response_at == T0.replace(hour=10, minute=6)


def test_queue_shows_due_and_overdue(live_desk: tuple[Desk, str], clock: Clock) -> None:
    desk, url = live_desk
    _open(desk, desk.licences, "Urgente viejo")  # urgent, 1 h
    clock.advance(minutes=90)
    _open(desk, desk.support, "Medio nuevo")  # medium, 8 h
    cookies = logged_in_cookies(desk.ctx, staff=desk.admin, csrf=CSRF)
    with httpx.Client(base_url=url, cookies=cookies, headers={"Accept-Language": "en"}) as http:
        page = http.get("/admin/tickets").text
    overdue_row = next(row for row in page.split("<tr") if "Urgente viejo" in row)
    due_row = next(row for row in page.split("<tr") if "Medio nuevo" in row)
    assert "response-overdue" in overdue_row and "Overdue since" in overdue_row
    assert "response-due" in due_row and "Due by" in due_row


def test_fill_replaces_known_placeholders_only() -> None:
    text = fill(
        "Hola {name}, sobre {ticket}: {0} {__class__} — {staff}",
        {"name": "Ana", "ticket": "T-3", "staff": "Luis"},
    )
    assert text == "Hola Ana, sobre T-3: {0} {__class__} — Luis"


def test_canned_replies_are_managed_and_inserted(live_desk: tuple[Desk, str]) -> None:
    desk, url = live_desk
    ticket_id = _open(desk, desk.support, "No arranca")
    with desk.ctx.db.read_session() as session:
        number = session.get(Ticket, ticket_id).number  # type: ignore[union-attr]
    agent_cookies = logged_in_cookies(desk.ctx, staff=desk.agent, csrf=CSRF)
    billing_cookies = logged_in_cookies(desk.ctx, staff=desk.accountant, csrf=CSRF)
    with httpx.Client(base_url=url, cookies=agent_cookies) as agent:
        created = agent.post(
            "/admin/tickets/canned",
            data={
                "csrf_token": CSRF,
                "title": "Reinstalar",
                "body": "Hola {name}: reinstala ({ticket}).",
            },
        )
        assert created.status_code == 303
        duplicate = agent.post(
            "/admin/tickets/canned",
            data={"csrf_token": CSRF, "title": "reinstalar", "body": "Otro"},
        )
        assert duplicate.status_code == 400 and "existe" in duplicate.text  # Spanish staff UI
        empty = agent.post(
            "/admin/tickets/canned", data={"csrf_token": CSRF, "title": "Vacía", "body": " "}
        )
        assert empty.status_code == 400
        with desk.ctx.db.read_session() as session:
            [reply] = session.scalars(select(CannedReply))
        page = agent.get(f"/admin/tickets/{number}", params={"canned": str(reply.id)}).text
        assert f"Hola {desk.ana.name}: reinstala (T-{number}).</textarea>" in page
    with httpx.Client(base_url=url, cookies=billing_cookies) as accountant:
        refused = accountant.post(
            f"/admin/tickets/canned/{reply.id}/delete", data={"csrf_token": CSRF}
        )
        assert refused.status_code == 403
    with httpx.Client(base_url=url, cookies=agent_cookies) as agent:
        assert (
            agent.post(f"/admin/tickets/canned/{reply.id}/delete", data={"csrf_token": CSRF})
        ).status_code == 303
    with desk.ctx.db.read_session() as session:
        assert session.scalars(select(CannedReply)).all() == []
