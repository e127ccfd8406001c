"""Auto-close: an answered ticket gets a warning email, then closes; a customer reply stops it."""

from __future__ import annotations

from facturo.plugin import Customer, StaffUser
from facturo.testing import Clock, drain
from facturo_tickets.autoclose import run_autoclose
from facturo_tickets.models import Department, Ticket
from facturo_tickets.service import customer_reply, open_ticket, staff_reply

from .conftest import SUPPORT, Desk


def _answered(desk: Desk, subject: str) -> int:
    with desk.ctx.db.transaction() as session:
        ticket = open_ticket(
            session,
            desk.ctx,
            department=session.get(Department, desk.support),
            subject=subject,
            body="Hola",
            source="web",
            customer=session.get(Customer, desk.ana.id),
        )
        staff_reply(session, desk.ctx, ticket, session.get(StaffUser, desk.agent.id), "Hecho.")
        return ticket.id


def _status(desk: Desk, ticket_id: int) -> str:
    with desk.ctx.db.read_session() as session:
        return session.get(Ticket, ticket_id).status


def test_warning_then_close_after_n_days(desk: Desk, clock: Clock) -> None:
    quiet = _answered(desk, "Silencioso")
    talkative = _answered(desk, "Responde")
    drain(desk.ctx)
    assert len(desk.replies(2)) == 2  # the two staff replies

    clock.advance(days=4, hours=23)  # 7 days, warning 2 days before: not yet
    assert run_autoclose(desk.ctx).warned == 0

    clock.advance(hours=2)  # 5 days after the answer: warn
    report = run_autoclose(desk.ctx)
    assert (report.warned, report.closed) == (2, 0)
    assert run_autoclose(desk.ctx).warned == 0  # warned once
    drain(desk.ctx)
    warnings = desk.replies(4)[2:]
    assert len(warnings) == 2
    for email in warnings:
        assert "[#T-" in email["Subject"] and "se cerrará en 2 días" in email["Subject"]
        assert email["Reply-To"] == SUPPORT and email["To"] == "juan@cliente.es"

    with desk.ctx.db.transaction() as session:
        customer_reply(session, desk.ctx, session.get(Ticket, talkative), "¡Espera, aún no!")

    clock.advance(days=2)  # 7 days after the answer, 2 after the warning
    assert run_autoclose(desk.ctx).closed == 1
    assert _status(desk, quiet) == "closed"
    assert _status(desk, talkative) == "customer-reply"


def test_job_closes_only_after_a_warning_went_out(desk: Desk, clock: Clock) -> None:
    ticket = _answered(desk, "Olvidado")
    clock.advance(days=30)  # the worker was down for a month
    assert (run_autoclose(desk.ctx).warned, _status(desk, ticket)) == (1, "answered")
    clock.advance(days=1)
    assert run_autoclose(desk.ctx).closed == 0
    clock.advance(days=1)
    assert run_autoclose(desk.ctx).closed == 1
    assert _status(desk, ticket) == "closed"


def test_job_is_registered(desk: Desk) -> None:
    names = [job.name for jobs in desk.ctx.hook.periodic_jobs(ctx=desk.ctx) for job in jobs]
    assert "tickets_autoclose" in names and "tickets_imap_poll" not in names


def test_reply_email_speaks_the_customers_language(desk: Desk) -> None:
    with desk.ctx.db.transaction() as session:
        ticket = open_ticket(
            session,
            desk.ctx,
            department=session.get(Department, desk.billing),
            subject="Invoice address",
            body="Please change it.",
            source="web",
            customer=session.get(Customer, desk.eve.id),
        )
        staff_reply(session, desk.ctx, ticket, session.get(StaffUser, desk.admin.id), "Done.")
        number = ticket.number
    drain(desk.ctx)
    [email] = desk.replies(1)
    assert email["To"] == "eve@example.com"
    assert email["Subject"] == f"[#T-{number}] Invoice address"
    assert email["Reply-To"] == "facturacion@facturo.es"
    assert "We replied to your ticket" in email.get_body(("plain",)).get_content()
    assert "Done." in email.get_body(("html",)).get_content()
