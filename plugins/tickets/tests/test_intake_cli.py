"""Email intake through ``facturo tickets import-email`` (click's CliRunner, bytes on stdin):
realistic messages, threading on the subject tag and on In-Reply-To, loop protection,
auto-replies to unknown senders received by the real SMTP server, idempotency."""

from __future__ import annotations

import base64
from email.message import EmailMessage

from click.testing import CliRunner, Result
from sqlalchemy import select

from facturo.plugin import StaffUser
from facturo.testing import drain
from facturo_tickets.cli import tickets
from facturo_tickets.models import Ticket, TicketAttachment, TicketMessage
from facturo_tickets.service import staff_reply

from .conftest import BILLING, SUPPORT, Desk

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def run(desk: Desk, raw: bytes) -> Result:
    return CliRunner().invoke(
        tickets, ["import-email"], input=raw, obj={"facturo_context": desk.ctx}
    )


def tickets_of(desk: Desk) -> list[Ticket]:
    with desk.ctx.db.read_session() as session:
        return list(session.scalars(select(Ticket).order_by(Ticket.id)))


def messages_of(desk: Desk, ticket_id: int) -> list[TicketMessage]:
    with desk.ctx.db.read_session() as session:
        return list(
            session.scalars(
                select(TicketMessage)
                .where(TicketMessage.ticket_id == ticket_id)
                .order_by(TicketMessage.id)
            )
        )


QP_MULTIPART = (
    b"""From: =?utf-8?q?Juan_P=C3=A9rez?= <Juan@Cliente.es>
To: Soporte <soporte@facturo.es>
Subject: =?utf-8?q?No_puedo_a=C3=B1adir_el_cat=C3=A1logo?=
Date: Tue, 03 Mar 2026 10:30:00 +0100
Message-ID: <qp-1@mail.cliente.es>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

Hola, al a=C3=B1adir el cat=C3=A1logo de Ingram la importaci=C3=B3n se para =
en el 40 %.

Gracias,
--=20
Juan P=C3=A9rez
Tienda Cliente S.L.

--alt
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

<p>Hola, al a=C3=B1adir el cat=C3=A1logo de Ingram la importaci=C3=B3n se para en el 40 %.</p>

--alt--

--outer
Content-Type: image/png; name="captura.png"
Content-Disposition: attachment; filename="captura.png"
Content-Transfer-Encoding: base64

"""
    + base64.encodebytes(PNG)
    + b"""
--outer
Content-Type: application/x-msdownload; name="setup.exe"
Content-Disposition: attachment; filename="setup.exe"
Content-Transfer-Encoding: base64

"""
    + base64.encodebytes(b"MZ" + b"\x00" * 40)
    + b"""
--outer--
"""
)


def test_quoted_printable_multipart_from_a_customer_opens_a_low_priority_ticket(
    desk: Desk,
) -> None:
    result = run(desk, QP_MULTIPART)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("opened T-")
    assert "setup.exe" in result.output  # the refused attachment is reported
    [ticket] = tickets_of(desk)
    assert ticket.customer_id == desk.ana.id
    assert ticket.department_id == desk.support
    assert ticket.priority == "low" and ticket.source == "email"
    assert ticket.subject == "No puedo añadir el catálogo"
    [message] = messages_of(desk, ticket.id)
    assert "importación se para en el 40 %" in message.body
    assert "Tienda Cliente" not in message.body  # signature trimmed
    assert message.email_message_id == "<qp-1@mail.cliente.es>"
    with desk.ctx.db.read_session() as session:
        files = list(session.scalars(select(TicketAttachment)))
    assert [(f.filename, f.content_type, f.size) for f in files] == [
        ("captura.png", "image/png", len(PNG))
    ]
    # The same message again (the MTA retried) changes nothing.
    again = run(desk, QP_MULTIPART)
    assert again.exit_code == 0 and again.output.startswith("duplicate")
    assert len(tickets_of(desk)) == 1 and len(messages_of(desk, ticket.id)) == 1


def test_html_only_message_to_billing(desk: Desk) -> None:
    message = EmailMessage()
    message["From"] = "juan@cliente.es"
    message["To"] = BILLING
    message["Subject"] = "Factura duplicada"
    message["Message-ID"] = "<html-1@cliente.es>"
    message.set_content(
        "<html><body><p>Me hab&eacute;is cobrado <b>dos veces</b> la factura.</p>"
        "<style>p{color:red}</style></body></html>",
        subtype="html",
    )
    result = run(desk, message.as_bytes())
    assert result.exit_code == 0, result.output
    [ticket] = tickets_of(desk)
    assert ticket.department_id == desk.billing
    [stored] = messages_of(desk, ticket.id)
    assert "Me habéis cobrado dos veces la factura." in stored.body
    assert "color" not in stored.body and "<b>" not in stored.body


def test_forwarded_message_keeps_the_forwarded_text(desk: Desk) -> None:
    raw = (
        "From: juan@cliente.es\nTo: soporte@facturo.es\nSubject: Fwd: Error de licencia\n"
        "Message-ID: <fwd-1@cliente.es>\nContent-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n\n"
        "Os reenvío lo que me contestó el proveedor.\n\n"
        "---------- Forwarded message ---------\n"
        "From: Proveedor <info@proveedor.example>\nSubject: Error de licencia\n\n"
        "La clave de licencia caducó el 1 de marzo.\n"
    ).encode()
    result = run(desk, raw)
    assert result.exit_code == 0, result.output
    [ticket] = tickets_of(desk)
    assert ticket.subject == "Error de licencia"
    [stored] = messages_of(desk, ticket.id)
    assert "La clave de licencia caducó" in stored.body  # not trimmed as quoted history


def test_replies_thread_by_subject_tag_and_by_in_reply_to(desk: Desk) -> None:
    assert run(desk, QP_MULTIPART).exit_code == 0
    [ticket] = tickets_of(desk)
    # Staff answer: the customer receives it by SMTP with the tag, Reply-To and Message-ID.
    with desk.ctx.db.transaction() as session:
        staff = session.get(StaffUser, desk.agent.id)
        staff_reply(session, desk.ctx, session.get(Ticket, ticket.id), staff, "Prueba de nuevo.")
    drain(desk.ctx)
    [sent] = desk.replies(1)
    tag = f"[#T-{ticket.number}]"
    assert tag in sent["Subject"] and sent["Reply-To"] == SUPPORT
    our_id = sent["Message-ID"]
    assert our_id.startswith(f"<ticket-T-{ticket.number}-") and our_id.endswith("@facturo.es>")

    # 1) a reply threaded only by In-Reply-To (the subject lost its tag)
    reply = EmailMessage()
    reply["From"] = "Juan Pérez <juan@cliente.es>"
    reply["To"] = SUPPORT
    reply["Subject"] = "RE: respuesta"
    reply["Message-ID"] = "<reply-1@cliente.es>"
    reply["In-Reply-To"] = our_id
    reply.set_content(
        "Sigue fallando, ahora en el 60 %.\n\nEl mar, 3 mar 2026 a las 11:00, Soporte escribió:\n"
        "> Prueba de nuevo.\n"
    )
    result = run(desk, reply.as_bytes())
    assert result.exit_code == 0 and result.output.startswith(f"joined T-{ticket.number}")
    # 2) a reply threaded by the subject tag, quoted-printable
    tagged = EmailMessage()
    tagged["From"] = "juan@cliente.es"
    tagged["To"] = SUPPORT
    tagged["Subject"] = f"Re: {tag} No puedo añadir el catálogo"
    tagged["Message-ID"] = "<reply-2@cliente.es>"
    tagged.set_content("Ya funciona, ¡gracias!\n", cte="quoted-printable")
    assert run(desk, tagged.as_bytes()).output.startswith(f"joined T-{ticket.number}")

    assert len(tickets_of(desk)) == 1
    bodies = [m.body for m in messages_of(desk, ticket.id)]
    assert bodies[-2] == "Sigue fallando, ahora en el 60 %."  # quoted history trimmed
    assert bodies[-1] == "Ya funciona, ¡gracias!"
    [after] = tickets_of(desk)
    assert after.status == "customer-reply"

    # 3) someone else using the tag does not get into the customer's ticket
    intruder = EmailMessage()
    intruder["From"] = "eve@example.com"
    intruder["To"] = SUPPORT
    intruder["Subject"] = f"Re: {tag} hola"
    intruder["Message-ID"] = "<intruder@example.com>"
    intruder.set_content("Quiero leer esto.")
    result = run(desk, intruder.as_bytes())
    assert result.output.startswith("opened T-")  # eve is a customer: her own new ticket
    assert len(messages_of(desk, ticket.id)) == 4


def test_loops_are_dropped(desk: Desk, bounce) -> None:
    auto = EmailMessage()
    auto["From"] = "juan@cliente.es"
    auto["To"] = SUPPORT
    auto["Subject"] = "Fuera de la oficina"
    auto["Auto-Submitted"] = "auto-replied"
    auto["Message-ID"] = "<ooo@cliente.es>"
    auto.set_content("Estoy de vacaciones hasta el lunes.")
    own = EmailMessage()
    own["From"] = "soporte@facturo.es"
    own["To"] = SUPPORT
    own["Subject"] = "[#T-1] copia"
    own["X-Facturo-Loop"] = "1"
    own.set_content("nuestro propio mensaje")
    for message in (auto, bounce, own):
        result = run(desk, message.as_bytes())
        assert result.exit_code == 0, result.output
        assert result.output.startswith("dropped"), result.output
    assert tickets_of(desk) == []
    drain(desk.ctx)
    assert desk.smtp.sink.messages == []  # nothing answered


def test_unknown_sender_gets_one_autoreply(desk: Desk) -> None:
    for n in (1, 2):
        message = EmailMessage()
        message["From"] = "Desconocido <nadie@otro.example>"
        message["To"] = SUPPORT
        message["Subject"] = "Información"
        message["Message-ID"] = f"<unknown-{n}@otro.example>"
        message.set_content("¿Qué precio tiene?")
        result = run(desk, message.as_bytes())
        assert result.output.startswith("autoreply"), result.output
    drain(desk.ctx)
    [answer] = desk.replies(1)
    assert answer["To"] == "nadie@otro.example"
    assert answer["Auto-Submitted"] == "auto-generated"  # our answer cannot start a loop
    assert "/client/tickets" in answer.get_body(("plain",)).get_content()
    assert len(desk.smtp.sink.messages) == 1  # one per sender and day
    assert tickets_of(desk) == []


def test_guest_tickets_when_enabled(make_context, smtp_server) -> None:
    from facturo_tickets.service import save_department

    ctx = make_context(
        plugins=("tickets",),
        overrides=smtp_server.settings(),
        plugin_settings={"tickets": {"our_domains": ["facturo.es"], "guest_tickets": True}},
    )
    with ctx.db.transaction() as session:
        save_department(
            session, name="Soporte", email=SUPPORT, default_priority="medium", roles=("support",)
        )
    message = EmailMessage()
    message["From"] = "nadie@otro.example"
    message["To"] = SUPPORT
    message["Subject"] = "Consulta"
    message["Message-ID"] = "<guest-1@otro.example>"
    message.set_content("Hola")
    result = CliRunner().invoke(
        tickets, ["import-email"], input=message.as_bytes(), obj={"facturo_context": ctx}
    )
    assert result.output.startswith("guest T-"), result.output
    with ctx.db.read_session() as session:
        [ticket] = session.scalars(select(Ticket))
        assert ticket.customer_id is None and ticket.guest_email == "nadie@otro.example"


def test_empty_input_is_one_line_and_a_non_zero_exit(desk: Desk) -> None:
    result = CliRunner().invoke(
        tickets, ["import-email"], input=b"", obj={"facturo_context": desk.ctx}
    )
    assert result.exit_code == 1
    assert result.output.strip() == "error: no message on standard input"
