"""The optional IMAP poll against a small real IMAP server: unseen messages are imported
once and marked seen; the job exists only when enabled."""

from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy import select

from facturo.testing import make_customer
from facturo_tickets.imap import run_imap_poll
from facturo_tickets.models import Ticket
from facturo_tickets.service import save_department

from .imapserver import Mailbox, start


def _mail(n: int, to: str = "alias@otro-dominio.example") -> bytes:
    message = EmailMessage()
    message["From"] = "juan@cliente.es"
    message["To"] = to  # an alias: the mailbox's department applies
    message["Subject"] = f"Consulta {n}"
    message["Message-ID"] = f"<imap-{n}@cliente.es>"
    message.set_content(f"Pregunta número {n}")
    return message.as_bytes()


def test_poll_imports_unseen_messages_once(make_context) -> None:
    box = Mailbox("licencias", "s3cret", {1: _mail(1), 2: _mail(2)})
    server, port = start(box)
    try:
        ctx = make_context(
            plugins=("tickets",),
            plugin_settings={
                "tickets": {
                    "our_domains": ["facturo.es"],
                    "imap_enabled": True,
                    "imap_accounts": [
                        {  # a wrong password: logged, the next account is still polled
                            "department": "soporte@facturo.es",
                            "host": "127.0.0.1",
                            "port": port,
                            "user": "licencias",
                            "password": "wrong",
                            "ssl": False,
                        },
                        {
                            "department": "licencias@facturo.es",
                            "host": "127.0.0.1",
                            "port": port,
                            "user": "licencias",
                            "password": "s3cret",
                            "ssl": False,
                        },
                    ],
                }
            },
        )
        with ctx.db.transaction() as session:
            save_department(
                session,
                name="Soporte",
                email="soporte@facturo.es",
                default_priority="medium",
                roles=("support",),
            )
            licences = save_department(
                session,
                name="Licencias",
                email="licencias@facturo.es",
                default_priority="medium",
                roles=("support",),
            ).id
        make_customer(ctx, email="juan@cliente.es")
        names = [job.name for jobs in ctx.hook.periodic_jobs(ctx=ctx) for job in jobs]
        assert "tickets_imap_poll" in names
        assert run_imap_poll(ctx) == 2
        assert box.seen == {1, 2}
        assert run_imap_poll(ctx) == 0  # nothing unseen
        box.seen.clear()  # the server forgot the flags: importing again changes nothing
        assert run_imap_poll(ctx) == 2
        with ctx.db.read_session() as session:
            tickets = list(session.scalars(select(Ticket).order_by(Ticket.id)))
        assert [t.subject for t in tickets] == ["Consulta 1", "Consulta 2"]
        assert {t.department_id for t in tickets} == {licences}
        assert {t.priority for t in tickets} == {"low"}
    finally:
        server.shutdown()
        server.server_close()
