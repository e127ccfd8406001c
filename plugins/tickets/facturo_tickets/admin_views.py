"""Staff pages: the queue, a ticket (reply, note, status, priority, assignee, merge), files,
and departments (admins only). A department is visible only to the roles it lists."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from facturo.plugin import Customer, StaffUser, error_page, flash, render, roles_required

from .canned import canned_replies, fill
from .canned_views import canned_routes
from .models import (
    PRIORITIES,
    STATUSES,
    CannedReply,
    Department,
    Ticket,
    TicketAttachment,
    TicketMessage,
)
from .references import parse_reference
from .service import (
    TicketError,
    assign,
    can_see,
    delete_department,
    merge,
    queue,
    save_department,
    set_priority,
    set_status,
    staff_reply,
    thread,
    ticket_by_number,
    visible_departments,
)
from .settings import config
from .targets import first_response_target
from .webcommon import MAX_BODY_BYTES, body_too_large, download, int_or_none, read_uploads

STAFF_ROLES = ("admin", "billing", "support")


def _actor(request: Request) -> str:
    return f"staff:{request.state.staff.id}"


def _visible_ticket(request: Request, session: Any, number: int | None = None) -> Ticket | None:
    """The ticket of the path if the staff user may see its department, else None."""
    ticket = ticket_by_number(session, number or int(request.path_params["number"]))
    if ticket is None:
        return None
    department = session.get(Department, ticket.department_id)
    if department is None or not can_see(request.state.staff, department):
        return None
    return ticket


def queue_page(request: Request) -> Response:
    ctx = request.app.state.ctx
    staff = request.state.staff
    params = request.query_params
    department_id = int_or_none(params.get("department"))
    status = params.get("status") if params.get("status") in STATUSES else None
    assignee_id = int_or_none(params.get("assignee"))
    filters = {"department_id": department_id, "status": status, "assignee_id": assignee_id}
    with ctx.db.read_session() as session:
        tickets = queue(
            session, staff, department_id=department_id, status=status, assignee_id=assignee_id
        )
        departments = visible_departments(session, staff)
        staff_users = list(session.scalars(select(StaffUser).order_by(StaffUser.name)))
        customer_ids = {t.customer_id for t in tickets if t.customer_id}
        customers = (
            {
                c.id: c
                for c in session.scalars(select(Customer).where(Customer.id.in_(customer_ids)))
            }
            if customer_ids
            else {}
        )
    hours, now = config(ctx).first_response_hours, ctx.now()
    targets = {t.id: first_response_target(t, hours, now) for t in tickets}
    return render(
        request,
        "tickets/admin_queue.html",
        {
            "tickets": tickets,
            "departments": {d.id: d for d in departments},
            "staff_users": {s.id: s for s in staff_users},
            "customers": customers,
            "filters": filters,
            "statuses": STATUSES,
            "targets": {key: target for key, target in targets.items() if target},
        },
    )


def _view(request: Request, errors: dict[str, str] | None = None, status: int = 200) -> Response:
    ctx = request.app.state.ctx
    with ctx.db.read_session() as session:
        ticket = _visible_ticket(request, session)
        if ticket is None:
            return error_page(request, 404, "This ticket does not exist.")
        messages = thread(session, ticket, staff_view=True)
        ids = [m.id for m in messages]
        files: dict[int, list[TicketAttachment]] = {}
        for row in session.scalars(
            select(TicketAttachment).where(TicketAttachment.message_id.in_(ids or [0]))
        ):
            files.setdefault(row.message_id, []).append(row)
        department = session.get(Department, ticket.department_id)
        customer = session.get(Customer, ticket.customer_id) if ticket.customer_id else None
        staff_users = [
            s
            for s in session.scalars(select(StaffUser).order_by(StaffUser.name))
            if department is not None and not s.disabled and can_see(s, department)
        ]
        authors = {s.id: s for s in session.scalars(select(StaffUser))}
        replies = canned_replies(session)
        draft = _draft(request, session, ticket, customer)
    return render(
        request,
        "tickets/admin_view.html",
        {
            "ticket": ticket,
            "messages": messages,
            "files": files,
            "department": department,
            "customer": customer,
            "staff_users": staff_users,
            "authors": authors,
            "statuses": STATUSES,
            "priorities": PRIORITIES,
            "errors": errors or {},
            "canned_replies": replies,
            "draft": draft,
        },
        status_code=status,
    )


def _draft(request: Request, session: Any, ticket: Ticket, customer: Customer | None) -> str:
    """The reply box's text: the canned reply asked for with ``?canned=<id>``, filled in."""
    reply_id = int_or_none(request.query_params.get("canned"))
    reply = session.get(CannedReply, reply_id) if reply_id else None
    if reply is None:
        return ""
    name = customer.name if customer is not None else ""
    values = {"name": name, "ticket": f"T-{ticket.number}", "staff": request.state.staff.name}
    return fill(reply.body, values)


def view_ticket(request: Request) -> Response:
    return _view(request)


async def reply(request: Request) -> Response:
    if body_too_large(request):
        return await run_in_threadpool(_view, request, {"files": "The files are too large."}, 413)
    form = await request.form()
    files, problems = await read_uploads(form)
    if problems:
        return await run_in_threadpool(_view, request, {"files": "; ".join(problems)}, 400)
    internal = form.get("internal") in ("1", "on", "true")
    return await run_in_threadpool(_reply, request, str(form.get("body") or ""), internal, files)


reply.facturo_max_body = MAX_BODY_BYTES  # type: ignore[attr-defined]


def _reply(request: Request, body: str, internal: bool, files: list[Any]) -> Response:
    ctx = request.app.state.ctx
    try:
        with ctx.db.transaction() as session:
            ticket = _visible_ticket(request, session)
            if ticket is None:
                return error_page(request, 404, "This ticket does not exist.")
            staff = session.get(StaffUser, request.state.staff.id)
            assert staff is not None
            staff_reply(session, ctx, ticket, staff, body, internal=internal, files=files)
            number = ticket.number
    except TicketError as exc:
        return _view(request, {"body": str(exc)}, 400)
    flash(request, "Internal note added." if internal else "Reply sent.", "ok")
    return RedirectResponse(f"/admin/tickets/{number}", status_code=303)


async def update(request: Request) -> Response:
    form = await request.form()
    values = {k: str(form.get(k) or "") for k in ("status", "priority", "assignee")}
    return await run_in_threadpool(_update, request, values)


def _update(request: Request, values: dict[str, str]) -> Response:
    ctx = request.app.state.ctx
    actor = _actor(request)
    try:
        with ctx.db.transaction() as session:
            ticket = _visible_ticket(request, session)
            if ticket is None:
                return error_page(request, 404, "This ticket does not exist.")
            if values["status"] and values["status"] != ticket.status:
                set_status(session, ctx, ticket, values["status"], actor)
            if values["priority"] and values["priority"] != ticket.priority:
                set_priority(session, ctx, ticket, values["priority"], actor)
            assignee = int_or_none(values["assignee"])
            if assignee != ticket.assignee_id:
                assign(session, ctx, ticket, assignee, actor)
            number = ticket.number
    except TicketError as exc:
        return _view(request, {exc.field or "status": str(exc)}, 400)
    flash(request, "Ticket updated.", "ok")
    return RedirectResponse(f"/admin/tickets/{number}", status_code=303)


async def merge_into(request: Request) -> Response:
    form = await request.form()
    return await run_in_threadpool(_merge, request, str(form.get("target") or ""))


def _merge(request: Request, target_text: str) -> Response:
    ctx = request.app.state.ctx
    text = target_text.strip()
    number = parse_reference(text) or int_or_none(text)
    try:
        with ctx.db.transaction() as session:
            duplicate = _visible_ticket(request, session)
            if duplicate is None:
                return error_page(request, 404, "This ticket does not exist.")
            target = _visible_ticket(request, session, number) if number else None
            if target is None:
                raise TicketError("No such ticket.", "target")
            merge(session, ctx, duplicate, target, _actor(request))
            target_number = target.number
    except TicketError as exc:
        return _view(request, {"target": str(exc)}, 400)
    flash(request, "Tickets merged.", "ok")
    return RedirectResponse(f"/admin/tickets/{target_number}", status_code=303)


def attachment(request: Request) -> Response:
    ctx = request.app.state.ctx
    with ctx.db.read_session() as session:
        row = session.get(TicketAttachment, int(request.path_params["attachment_id"]))
        message = session.get(TicketMessage, row.message_id) if row is not None else None
        ticket = session.get(Ticket, message.ticket_id) if message is not None else None
        department = session.get(Department, ticket.department_id) if ticket else None
        if row is None or department is None or not can_see(request.state.staff, department):
            return error_page(request, 404, "This file does not exist.")
    return download(ctx, row)


def _departments_page(
    request: Request,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    ctx = request.app.state.ctx
    with ctx.db.read_session() as session:
        departments = list(session.scalars(select(Department).order_by(Department.name)))
    return render(
        request,
        "tickets/admin_departments.html",
        {
            "departments": departments,
            "priorities": PRIORITIES,
            "roles": STAFF_ROLES,
            "errors": errors or {},
            "values": values or {},
        },
        status_code=status,
    )


@roles_required("admin")
def departments_page(request: Request) -> Response:
    return _departments_page(request)


@roles_required("admin")
async def save_department_view(request: Request) -> Response:
    form = await request.form()
    values: dict[str, Any] = {
        "name": str(form.get("name") or ""),
        "email": str(form.get("email") or ""),
        "default_priority": str(form.get("default_priority") or "medium"),
        "roles": [str(r) for r in form.getlist("roles") if str(r) in STAFF_ROLES],
    }
    return await run_in_threadpool(_save_department, request, values)


def _save_department(request: Request, values: dict[str, Any]) -> Response:
    ctx = request.app.state.ctx
    department_id = request.path_params.get("department_id")
    try:
        with ctx.db.transaction() as session:
            existing = session.get(Department, department_id) if department_id else None
            if department_id and existing is None:
                return error_page(request, 404, "This department does not exist.")
            saved = save_department(session, department=existing, **values)
            from facturo.plugin import audit_record

            audit_record(
                session,
                _actor(request),
                "ticket.department",
                ("tickets_department", saved.id),
                None,
                {"name": saved.name, "email": saved.email, "roles": saved.roles},
            )
    except TicketError as exc:
        return _departments_page(request, {exc.field or "name": str(exc)}, values, 400)
    flash(request, "Department saved.", "ok")
    return RedirectResponse("/admin/tickets/departments", status_code=303)


@roles_required("admin")
def delete_department_view(request: Request) -> Response:
    ctx = request.app.state.ctx
    try:
        with ctx.db.transaction() as session:
            department = session.get(Department, request.path_params["department_id"])
            if department is None:
                return error_page(request, 404, "This department does not exist.")
            name = department.name
            delete_department(session, department)
            from facturo.plugin import audit_record

            audit_record(
                session,
                _actor(request),
                "ticket.department_deleted",
                ("tickets_department", request.path_params["department_id"]),
                {"name": name},
                None,
            )
    except TicketError as exc:
        return _departments_page(request, {"delete": str(exc)}, None, 400)
    flash(request, "Department deleted.", "ok")
    return RedirectResponse("/admin/tickets/departments", status_code=303)


def admin_routes() -> list[Any]:
    """The routes mounted under /admin."""
    return [
        Route("/tickets", queue_page, methods=["GET"]),
        *canned_routes(),
        Route("/tickets/departments", departments_page, methods=["GET"]),
        Route("/tickets/departments", save_department_view, methods=["POST"]),
        Route("/tickets/departments/{department_id:int}", save_department_view, methods=["POST"]),
        Route(
            "/tickets/departments/{department_id:int}/delete",
            delete_department_view,
            methods=["POST"],
        ),
        Route("/tickets/{number:int}", view_ticket, methods=["GET"]),
        Route("/tickets/{number:int}/reply", reply, methods=["POST"]),
        Route("/tickets/{number:int}/update", update, methods=["POST"]),
        Route("/tickets/{number:int}/merge", merge_into, methods=["POST"]),
        Route("/tickets/files/{attachment_id:int}", attachment, methods=["GET"]),
    ]
