"""Staff pages for canned replies: list, create, edit and delete (support staff and admins)."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from facturo.plugin import audit_record, error_page, flash, render, roles_required

from .canned import PLACEHOLDERS, canned_replies, save_canned_reply
from .models import CannedReply
from .service import TicketError

LIST_URL = "/admin/tickets/canned"


def _page(
    request: Request,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    ctx = request.app.state.ctx
    with ctx.db.read_session() as session:
        replies = canned_replies(session)
    return render(
        request,
        "tickets/admin_canned.html",
        {
            "replies": replies,
            "placeholders": PLACEHOLDERS,
            "errors": errors or {},
            "values": values or {},
        },
        status_code=status,
    )


@roles_required("support")
def canned_page(request: Request) -> Response:
    return _page(request)


@roles_required("support")
async def save_view(request: Request) -> Response:
    form = await request.form()
    values = {"title": str(form.get("title") or ""), "body": str(form.get("body") or "")}
    return await run_in_threadpool(_save, request, values)


def _save(request: Request, values: dict[str, str]) -> Response:
    ctx = request.app.state.ctx
    reply_id = request.path_params.get("reply_id")
    try:
        with ctx.db.transaction() as session:
            existing = session.get(CannedReply, reply_id) if reply_id else None
            if reply_id and existing is None:
                return error_page(request, 404, "This canned reply does not exist.")
            saved = save_canned_reply(session, ctx, values["title"], values["body"], existing)
            audit_record(
                session,
                f"staff:{request.state.staff.id}",
                "ticket.canned_reply",
                ("tickets_canned_reply", saved.id),
                None,
                {"title": saved.title},
            )
    except TicketError as exc:
        values["reply_id"] = str(reply_id or "")
        return _page(request, {exc.field or "title": str(exc)}, values, 400)
    flash(request, "Canned reply saved.", "ok")
    return RedirectResponse(LIST_URL, status_code=303)


@roles_required("support")
def delete_view(request: Request) -> Response:
    ctx = request.app.state.ctx
    with ctx.db.transaction() as session:
        reply = session.get(CannedReply, request.path_params["reply_id"])
        if reply is None:
            return error_page(request, 404, "This canned reply does not exist.")
        title = reply.title
        session.delete(reply)
        audit_record(
            session,
            f"staff:{request.state.staff.id}",
            "ticket.canned_reply_deleted",
            ("tickets_canned_reply", request.path_params["reply_id"]),
            {"title": title},
            None,
        )
    flash(request, "Canned reply deleted.", "ok")
    return RedirectResponse(LIST_URL, status_code=303)


def canned_routes() -> list[Any]:
    """The canned-reply routes mounted under /admin (before the ticket-number routes)."""
    return [
        Route("/tickets/canned", canned_page, methods=["GET"]),
        Route("/tickets/canned", save_view, methods=["POST"]),
        Route("/tickets/canned/{reply_id:int}", save_view, methods=["POST"]),
        Route("/tickets/canned/{reply_id:int}/delete", delete_view, methods=["POST"]),
    ]
