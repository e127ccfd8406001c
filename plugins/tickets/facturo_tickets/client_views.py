"""Client area pages: my tickets, open a ticket, the thread, reply, close, attachments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from facturo.plugin import Service, error_page, flash, render, request_language

from .models import Department, Ticket, TicketAttachment, TicketMessage
from .service import (
    TicketError,
    customer_reply,
    customer_tickets,
    open_ticket,
    set_status,
    thread,
    ticket_by_number,
)
from .webcommon import MAX_BODY_BYTES, body_too_large, download, int_or_none, read_uploads

#: How many tickets a customer may open through the web per hour (spam and accidents).
OPEN_LIMIT = "20/hour"


def _gettext(request: Request) -> Any:
    return request.app.state.ctx.translations(request_language(request)).gettext


def _own_ticket(request: Request, session: Any) -> Ticket | None:
    """The ticket of the path if it belongs to the logged-in customer, else None."""
    ticket = ticket_by_number(session, int(request.path_params["number"]))
    customer = request.state.customer
    if ticket is None or ticket.customer_id != customer.id:
        return None
    return ticket


def list_tickets(request: Request) -> Response:
    ctx = request.app.state.ctx
    with ctx.db.read_session() as session:
        tickets = customer_tickets(session, request.state.customer.id)
        departments = {d.id: d for d in session.scalars(select(Department))}
    return render(
        request, "tickets/client_list.html", {"tickets": tickets, "departments": departments}
    )


def _new_form(
    request: Request, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> Response:
    ctx = request.app.state.ctx
    with ctx.db.read_session() as session:
        departments = list(session.scalars(select(Department).order_by(Department.name)))
        services = list(
            session.scalars(
                select(Service)
                .where(Service.customer_id == request.state.customer.id)
                .order_by(Service.id)
            )
        )
        es = request_language(request) == "es"
        names = {s.id: s.product.name_es if es else s.product.name_en for s in services}
    return render(
        request,
        "tickets/client_new.html",
        {
            "departments": departments,
            "services": services,
            "service_names": names,
            "values": values,
            "errors": errors,
        },
        status_code=status,
    )


async def new_ticket(request: Request) -> Response:
    if request.method == "GET":
        return await _run(_new_form, request, {}, {})
    _ = _gettext(request)
    if body_too_large(request):
        return await _run(_new_form, request, {}, {"files": _("The files are too large.")}, 413)
    customer_key = str(request.state.customer.id)
    verdict = request.app.state.limiter.hit(OPEN_LIMIT, "tickets-open", customer_key)
    if not verdict.allowed:
        problem = _("You opened many tickets in a short time; try again later.")
        return await _run(_new_form, request, {}, {"subject": problem}, 429)
    form = await request.form()
    values = {k: str(form.get(k) or "") for k in ("department_id", "subject", "body", "service_id")}
    files, problems = await read_uploads(form, _)
    errors: dict[str, str] = {}
    if problems:
        errors["files"] = "; ".join(problems)
    if errors:
        return await _run(_new_form, request, values, errors, 400)
    return await _run(_create, request, values, files)


new_ticket.facturo_max_body = MAX_BODY_BYTES  # type: ignore[attr-defined]


async def _run(func: Callable[..., Response], *args: Any) -> Response:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(func, *args)


def _create(request: Request, values: dict[str, str], files: list[Any]) -> Response:
    ctx = request.app.state.ctx
    _ = _gettext(request)
    try:
        with ctx.db.transaction() as session:
            department = session.get(Department, int_or_none(values["department_id"]) or 0)
            if department is None:
                raise TicketError("Choose a department.", "department_id")
            ticket = open_ticket(
                session,
                ctx,
                department=department,
                subject=values["subject"],
                body=values["body"],
                source="web",
                customer=request.state.customer,
                service_id=int_or_none(values["service_id"]),
                files=files,
            )
            number = ticket.number
    except TicketError as exc:
        return _new_form(request, values, {exc.field or "body": _(str(exc))}, 400)
    flash(request, _("Your ticket was opened."), "ok")
    return RedirectResponse(f"/client/tickets/{number}", status_code=303)


def _view(request: Request, errors: dict[str, str] | None = None, status: int = 200) -> Response:
    ctx = request.app.state.ctx
    with ctx.db.read_session() as session:
        ticket = _own_ticket(request, session)
        if ticket is None:
            return error_page(request, 404, "This ticket does not exist.")
        messages = thread(session, ticket, staff_view=False)
        files = _files_of(session, messages)
        department = session.get(Department, ticket.department_id)
    return render(
        request,
        "tickets/client_view.html",
        {
            "ticket": ticket,
            "messages": messages,
            "files": files,
            "department": department,
            "errors": errors or {},
        },
        status_code=status,
    )


def _files_of(session: Any, messages: list[TicketMessage]) -> dict[int, list[TicketAttachment]]:
    ids = [m.id for m in messages]
    found: dict[int, list[TicketAttachment]] = {}
    if ids:
        for row in session.scalars(
            select(TicketAttachment).where(TicketAttachment.message_id.in_(ids))
        ):
            found.setdefault(row.message_id, []).append(row)
    return found


def view_ticket(request: Request) -> Response:
    return _view(request)


async def reply(request: Request) -> Response:
    _ = _gettext(request)
    if body_too_large(request):
        return await _run(_view, request, {"files": _("The files are too large.")}, 413)
    form = await request.form()
    files, problems = await read_uploads(form, _)
    if problems:
        return await _run(_view, request, {"files": "; ".join(problems)}, 400)
    return await _run(_reply, request, str(form.get("body") or ""), files)


reply.facturo_max_body = MAX_BODY_BYTES  # type: ignore[attr-defined]


def _reply(request: Request, body: str, files: list[Any]) -> Response:
    ctx = request.app.state.ctx
    _ = _gettext(request)
    try:
        with ctx.db.transaction() as session:
            ticket = _own_ticket(request, session)
            if ticket is None:
                return error_page(request, 404, "This ticket does not exist.")
            customer_reply(session, ctx, ticket, body, files=files)
            number = ticket.number
    except TicketError as exc:
        return _view(request, {"body": _(str(exc))}, 400)
    flash(request, _("Your reply was sent."), "ok")
    return RedirectResponse(f"/client/tickets/{number}", status_code=303)


def close(request: Request) -> Response:
    ctx = request.app.state.ctx
    _ = _gettext(request)
    with ctx.db.transaction() as session:
        ticket = _own_ticket(request, session)
        if ticket is None:
            return error_page(request, 404, "This ticket does not exist.")
        set_status(session, ctx, ticket, "closed", f"customer:{request.state.customer.id}")
        number = ticket.number
    flash(request, _("The ticket was closed."), "ok")
    return RedirectResponse(f"/client/tickets/{number}", status_code=303)


def attachment(request: Request) -> Response:
    ctx = request.app.state.ctx
    with ctx.db.read_session() as session:
        row = session.get(TicketAttachment, int(request.path_params["attachment_id"]))
        message = session.get(TicketMessage, row.message_id) if row is not None else None
        ticket = session.get(Ticket, message.ticket_id) if message is not None else None
        if (
            row is None
            or message is None
            or message.internal
            or ticket is None
            or ticket.customer_id != request.state.customer.id
        ):
            return error_page(request, 404, "This file does not exist.")
    return download(ctx, row)


def client_routes() -> list[Any]:
    """The routes mounted under /client."""
    return [
        Route("/tickets", list_tickets, methods=["GET"]),
        Route("/tickets/new", new_ticket, methods=["GET", "POST"]),
        Route("/tickets/{number:int}", view_ticket, methods=["GET"]),
        Route("/tickets/{number:int}/reply", reply, methods=["POST"]),
        Route("/tickets/{number:int}/close", close, methods=["POST"]),
        Route("/tickets/files/{attachment_id:int}", attachment, methods=["GET"]),
    ]
