"""Client area and staff pages over real HTTP: permissions of both roles, internal notes,
attachment limits and downloads, the reply email received by SMTP, departments admin."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from facturo.testing import drain, logged_in_cookies
from facturo_tickets.models import Department, Ticket, TicketAttachment

from .conftest import SUPPORT, Desk

CSRF = "test-csrf-token"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def client(desk: Desk, url: str, customer=None, staff=None) -> httpx.Client:
    return httpx.Client(
        base_url=url,
        cookies=logged_in_cookies(desk.ctx, customer=customer, staff=staff, csrf=CSRF),
        follow_redirects=False,
        timeout=20,
    )


def open_via_web(http: httpx.Client, department: int, subject: str, files=None) -> httpx.Response:
    return http.post(
        "/client/tickets/new",
        data={
            "csrf_token": CSRF,
            "department_id": str(department),
            "subject": subject,
            "body": "Mensaje con acentos: añadir catálogo",
        },
        files=files or [("files", ("", b"", "application/octet-stream"))],
    )


def only_ticket(desk: Desk) -> Ticket:
    with desk.ctx.db.read_session() as session:
        [ticket] = session.scalars(select(Ticket))
        return ticket


def test_customer_flow_and_isolation(live_desk: tuple[Desk, str]) -> None:
    desk, url = live_desk
    with client(desk, url, customer=desk.ana) as ana, client(desk, url, customer=desk.eve) as eve:
        form = ana.get("/client/tickets/new")
        assert form.status_code == 200 and "Soporte técnico" in form.text
        assert "Departamento" in form.text  # Spanish customer
        created = open_via_web(
            ana, desk.billing, "Cobro doble", [("files", ("factura.pdf", PDF, "application/pdf"))]
        )
        assert created.status_code == 303, created.text
        ticket = only_ticket(desk)
        assert ticket.priority == "high"  # the billing department's default
        assert created.headers["location"] == f"/client/tickets/{ticket.number}"
        page = ana.get(f"/client/tickets/{ticket.number}")
        assert page.status_code == 200 and "Cobro doble" in page.text
        assert "añadir catálogo" in page.text and "factura.pdf" in page.text
        listing = ana.get("/client/tickets")
        assert f"T-{ticket.number}" in listing.text and "Abierto" in listing.text

        # Eve sees none of it: not the page, not a reply, not the close, not the file.
        with desk.ctx.db.read_session() as session:
            file_id = session.scalar(select(TicketAttachment.id))
        assert eve.get(f"/client/tickets/{ticket.number}").status_code == 404
        assert f"T-{ticket.number}" not in eve.get("/client/tickets").text
        assert (
            eve.post(
                f"/client/tickets/{ticket.number}/reply",
                data={"csrf_token": CSRF, "body": "intruso"},
                files=[("files", ("", b"", "application/octet-stream"))],
            ).status_code
            == 404
        )
        assert (
            eve.post(f"/client/tickets/{ticket.number}/close", data={"csrf_token": CSRF})
        ).status_code == 404
        assert eve.get(f"/client/tickets/files/{file_id}").status_code == 404

        # The owner downloads it as an attachment that the browser will not sniff.
        download = ana.get(f"/client/tickets/files/{file_id}")
        assert download.status_code == 200 and download.content == PDF
        assert download.headers["content-disposition"].startswith("attachment;")
        assert download.headers["x-content-type-options"] == "nosniff"

        # No CSRF token: refused, nothing stored.
        forged = ana.post(f"/client/tickets/{ticket.number}/close", data={})
        assert forged.status_code == 403

        reply = ana.post(
            f"/client/tickets/{ticket.number}/reply",
            data={"csrf_token": CSRF, "body": "¿Hay novedades?"},
            files=[("files", ("", b"", "application/octet-stream"))],
        )
        assert reply.status_code == 303
        closed = ana.post(f"/client/tickets/{ticket.number}/close", data={"csrf_token": CSRF})
        assert closed.status_code == 303
        assert only_ticket(desk).status == "closed"
    with httpx.Client(base_url=url, follow_redirects=False) as anonymous:
        assert anonymous.get("/client/tickets").status_code == 303
        assert anonymous.get(f"/client/tickets/files/{file_id}").status_code == 303


def test_attachment_limits(live_desk: tuple[Desk, str]) -> None:
    desk, url = live_desk
    with client(desk, url, customer=desk.ana) as ana:
        too_many = [("files", (f"c{n}.png", PNG, "image/png")) for n in range(6)]
        response = open_via_web(ana, desk.support, "Seis capturas", too_many)
        assert (
            response.status_code == 400
            and "Se pueden adjuntar 5 archivos como máximo." in response.text
        )
        big = b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024)
        response = open_via_web(
            ana, desk.support, "Grande", [("files", ("big.pdf", big, "application/pdf"))]
        )
        assert response.status_code == 400 and "El archivo ocupa más de 5 MB." in response.text
        response = open_via_web(
            ana,
            desk.support,
            "Ejecutable",
            [("files", ("setup.exe", b"MZ\x00\x00", "application/octet-stream"))],
        )
        assert (
            response.status_code == 400
            and "setup.exe: Este tipo de archivo no está permitido." in response.text
        )
        response = open_via_web(
            ana,
            desk.support,
            "Disfrazado",
            [("files", ("foto.png", b"<html><script>", "image/png"))],
        )
        assert response.status_code == 400 and "no corresponde a su extensión" in response.text
        with desk.ctx.db.read_session() as session:
            assert list(session.scalars(select(Ticket))) == []
        five = [("files", (f"c{n}.png", PNG, "image/png")) for n in range(5)]
        assert open_via_web(ana, desk.support, "Cinco", five).status_code == 303
        with desk.ctx.db.read_session() as session:
            assert len(list(session.scalars(select(TicketAttachment)))) == 5


def test_staff_roles_notes_and_reply_email(live_desk: tuple[Desk, str]) -> None:
    desk, url = live_desk
    with client(desk, url, customer=desk.ana) as ana:
        assert open_via_web(ana, desk.support, "No arranca").status_code == 303
    ticket = only_ticket(desk)
    number = ticket.number
    with (
        client(desk, url, staff=desk.agent) as agent,
        client(desk, url, staff=desk.accountant) as accountant,
        client(desk, url, staff=desk.admin) as admin,
    ):
        assert "No arranca" in agent.get("/admin/tickets").text
        assert "No arranca" in admin.get("/admin/tickets").text
        assert "No arranca" not in accountant.get("/admin/tickets").text
        assert accountant.get(f"/admin/tickets/{number}").status_code == 404
        assert (
            accountant.post(
                f"/admin/tickets/{number}/reply",
                data={"csrf_token": CSRF, "body": "no debería"},
                files=[("files", ("", b"", "application/octet-stream"))],
            ).status_code
            == 404
        )
        # An internal note: staff see it, the customer never does, and no email goes out.
        note = agent.post(
            f"/admin/tickets/{number}/reply",
            data={"csrf_token": CSRF, "body": "NOTA-SECRETA: cliente moroso", "internal": "1"},
            files=[("files", ("traza.txt", b"stack trace\n", "text/plain"))],
        )
        assert note.status_code == 303
        staff_page = agent.get(f"/admin/tickets/{number}")
        assert "NOTA-SECRETA" in staff_page.text and "traza.txt" in staff_page.text
        answer = agent.post(
            f"/admin/tickets/{number}/reply",
            data={"csrf_token": CSRF, "body": "Reinstala la versión 2.1, por favor."},
            files=[("files", ("", b"", "application/octet-stream"))],
        )
        assert answer.status_code == 303
        # Assign, re-prioritise; assigning to someone who cannot see the department fails.
        refused = agent.post(
            f"/admin/tickets/{number}/update",
            data={
                "csrf_token": CSRF,
                "status": "answered",
                "priority": "medium",
                "assignee": str(desk.accountant.id),
            },
        )
        assert refused.status_code == 400
        updated = agent.post(
            f"/admin/tickets/{number}/update",
            data={
                "csrf_token": CSRF,
                "status": "on-hold",
                "priority": "urgent",
                "assignee": str(desk.agent.id),
            },
        )
        assert updated.status_code == 303
        filtered = agent.get(f"/admin/tickets?assignee={desk.agent.id}&status=on-hold")
        assert "No arranca" in filtered.text
        assert "No arranca" not in agent.get("/admin/tickets?status=open").text
    with desk.ctx.db.read_session() as session:
        note_file = session.scalar(
            select(TicketAttachment).where(TicketAttachment.filename == "traza.txt")
        )
        assert note_file is not None
    with (
        client(desk, url, staff=desk.agent) as agent,
        client(desk, url, staff=desk.accountant) as accountant,
    ):
        assert accountant.get(f"/admin/tickets/files/{note_file.id}").status_code == 404
        got = agent.get(f"/admin/tickets/files/{note_file.id}")
        assert got.status_code == 200 and got.content == b"stack trace\n"
        assert got.headers["content-disposition"].startswith('attachment; filename="traza.txt"')
        assert got.headers["x-content-type-options"] == "nosniff"
    with client(desk, url, customer=desk.ana) as ana:
        page = ana.get(f"/client/tickets/{number}")
        assert "Reinstala la versión 2.1" in page.text
        assert "NOTA-SECRETA" not in page.text and "traza.txt" not in page.text
        assert ana.get(f"/client/tickets/files/{note_file.id}").status_code == 404
    after = only_ticket(desk)
    assert (after.status, after.priority, after.assignee_id) == ("on-hold", "urgent", desk.agent.id)

    drain(desk.ctx)
    [email] = desk.replies(1)
    assert len(desk.replies(1)) == 1  # the note sent nothing
    assert email["To"] == "juan@cliente.es"
    assert email["Subject"] == f"[#T-{number}] No arranca"
    assert email["Reply-To"] == SUPPORT
    assert re.fullmatch(rf"<ticket-T-{number}-\d+@facturo\.es>", email["Message-ID"])
    text = email.get_body(("plain",)).get_content()
    assert "Reinstala la versión 2.1" in text and "NOTA-SECRETA" not in text
    assert f"/client/tickets/{number}" in text


def test_departments_are_managed_by_admins_only(live_desk: tuple[Desk, str]) -> None:
    desk, url = live_desk
    data = {
        "csrf_token": CSRF,
        "name": "Ventas",
        "email": "ventas@facturo.es",
        "default_priority": "low",
        "roles": ["support", "billing"],
    }
    with client(desk, url, staff=desk.agent) as agent, client(desk, url, staff=desk.admin) as admin:
        assert agent.get("/admin/tickets/departments").status_code == 403
        assert agent.post("/admin/tickets/departments", data=data).status_code == 403
        assert admin.get("/admin/tickets/departments").status_code == 200
        assert admin.post("/admin/tickets/departments", data=data).status_code == 303
        duplicate = admin.post("/admin/tickets/departments", data={**data, "name": "Otra"})
        assert (
            duplicate.status_code == 400
            and "Another department uses this address" in duplicate.text
        )
    with desk.ctx.db.read_session() as session:
        ventas = session.scalar(select(Department).where(Department.name == "Ventas"))
        assert ventas is not None and ventas.role_list == ("support", "billing")
    with client(desk, url, customer=desk.ana) as ana:
        assert open_via_web(ana, desk.support, "En soporte").status_code == 303
    with client(desk, url, staff=desk.agent) as agent, client(desk, url, staff=desk.admin) as admin:
        delete = f"/admin/tickets/departments/{ventas.id}/delete"
        assert agent.post(delete, data={"csrf_token": CSRF}).status_code == 403
        assert admin.post(delete, data={"csrf_token": CSRF}).status_code == 303
        in_use = admin.post(
            f"/admin/tickets/departments/{desk.support}/delete", data={"csrf_token": CSRF}
        )
        assert in_use.status_code == 400 and "has tickets" in in_use.text
    with desk.ctx.db.read_session() as session:
        names = {d.name for d in session.scalars(select(Department))}
    assert "Ventas" not in names and "Soporte técnico" in names


def test_merge_over_http(live_desk: tuple[Desk, str]) -> None:
    desk, url = live_desk
    with client(desk, url, customer=desk.ana) as ana:
        open_via_web(ana, desk.support, "Primero")
        open_via_web(ana, desk.support, "Duplicado")
    with desk.ctx.db.read_session() as session:
        first, second = session.scalars(select(Ticket).order_by(Ticket.id))
    with client(desk, url, staff=desk.agent) as agent:
        bad = agent.post(
            f"/admin/tickets/{second.number}/merge", data={"csrf_token": CSRF, "target": "T-999"}
        )
        assert bad.status_code == 400
        merged = agent.post(
            f"/admin/tickets/{second.number}/merge",
            data={"csrf_token": CSRF, "target": f"T-{first.number}"},
        )
        assert merged.status_code == 303
        assert merged.headers["location"] == f"/admin/tickets/{first.number}"
    with desk.ctx.db.read_session() as session:
        assert session.get(Ticket, second.id).merged_into_id == first.id


def test_menus_panels_and_search(desk: Desk) -> None:
    from facturo.plugin import Customer
    from facturo_tickets.service import open_ticket

    with desk.ctx.db.transaction() as session:
        customer = session.get(Customer, desk.ana.id)
        ticket = open_ticket(
            session,
            desk.ctx,
            department=session.get(Department, desk.support),
            subject="Panel <b>",
            body="x",
            source="web",
            customer=customer,
        )
        number = ticket.number
        panels = [
            p
            for ps in desk.ctx.hook.client_dashboard_panels(
                ctx=desk.ctx, session=session, customer=customer, language="es"
            )
            for p in ps
        ]
        hits = [
            h
            for hs in desk.ctx.hook.customer_search(
                ctx=desk.ctx, session=session, query=f"[#T-{number}]"
            )
            for h in hs
        ]
    [panel] = panels
    assert f"T-{number}" in panel.html and "Panel &lt;b&gt;" in panel.html
    assert [h.customer_id for h in hits] == [desk.ana.id]
    menu = [
        m for ms in desk.ctx.hook.client_menu_items(ctx=desk.ctx, customer=desk.ana) for m in ms
    ]
    assert any(m.url == "/client/tickets" and m.text("es") == "Soporte" for m in menu)


def test_demo_seed_creates_departments_and_a_ticket(make_context) -> None:
    from facturo.plugin import Customer
    from facturo.testing import make_customer

    ctx = make_context(plugins=("tickets",))
    customer = make_customer(ctx, email="demo@example.com")
    with ctx.db.transaction() as session:
        ctx.hook.demo_seed(ctx=ctx, session=session, customer=session.get(Customer, customer.id))
    with ctx.db.read_session() as session:
        names = sorted(d.name for d in session.scalars(select(Department)))
        [ticket] = session.scalars(select(Ticket))
    assert names == ["Facturación", "Licencias", "Soporte técnico"]
    assert ticket.customer_id == customer.id and ticket.status == "open"


def test_opening_tickets_is_rate_limited(live_desk: tuple[Desk, str]) -> None:
    desk, url = live_desk
    with client(desk, url, customer=desk.ana) as ana:
        for _ in range(20):
            assert open_via_web(ana, 0, "sin departamento").status_code == 400
        limited = open_via_web(ana, desk.support, "uno más")
        assert limited.status_code == 429 and "Has abierto muchos tickets" in limited.text
    with client(desk, url, customer=desk.eve) as eve:  # others are not affected
        assert open_via_web(eve, desk.support, "Hello").status_code == 303
