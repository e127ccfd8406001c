"""Bulk actions on the staff documents list: send payment reminders to the selected unpaid
proformas, or export the selected documents as CSV. Nothing selected, an unknown action or too
many rows re-render the list with an error and change nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from facturo import audit
from facturo.billing.dunning import remind_now
from facturo.csv_export import csv_response
from facturo.models import Document
from facturo.web.admin_common import PAGE_SIZE, actor, ctx_of, row_id
from facturo.web.admin_documents import filter_documents
from facturo.web.rendering import flash, gettext_for, render
from facturo.web.sections import roles_required

ACTIONS = ("remind", "export")
MAX_SELECTED = 500
CSV_COLUMNS = (
    *("number", "kind", "status", "customer", "tax_id"),
    *("issue_date", "due_date", "total", "balance", "currency"),
)


def _selected_ids(values: list[str]) -> list[int]:
    """The ticked ids; anything that is not a plausible row id is ignored."""
    return sorted({found for v in values if (found := row_id(v)) is not None})


@roles_required("billing")
async def documents_bulk(request: Request) -> Response:
    """Apply the chosen ``action`` to the documents ticked in the list (``ids``)."""
    form = await request.form()
    ids = _selected_ids([str(v) for v in form.getlist("ids")])
    action = str(form.get("action") or "")
    filters = {
        key: str(form.get(key) or "") for key in ("status", "kind", "from", "to", "customer_id")
    }
    return await run_in_threadpool(_apply, request, action, ids, filters)


def _apply(request: Request, action: str, ids: list[int], filters: dict[str, str]) -> Response:
    _ = gettext_for(request)
    if action not in ACTIONS:
        return _list_with_error(request, filters, _("Choose an action."))
    if not ids:
        return _list_with_error(request, filters, _("Tick at least one document."))
    if len(ids) > MAX_SELECTED:
        message = _("Tick at most %(count)d documents at a time.") % {"count": MAX_SELECTED}
        return _list_with_error(request, filters, message)
    if action == "export":
        return _export(request, ids)
    return _remind(request, ids)


def _remind(request: Request, ids: list[int]) -> Response:
    _ = gettext_for(request)
    ctx = ctx_of(request)
    with ctx.db.transaction() as session:
        outcome = remind_now(session, ctx, ids, ctx.today())
        for document in outcome.sent:
            audit.record(session, actor(request), "document.reminder", document)
    sent, skipped = len(outcome.sent), len(outcome.skipped)
    flash(request, _("Reminders queued: %(sent)d.") % {"sent": sent}, "ok")
    if skipped:
        message = _("Skipped %(skipped)d: not unpaid proformas, or already reminded today.") % {
            "skipped": skipped
        }
        flash(request, message, "error")
    return RedirectResponse("/admin/documents", status_code=303)


def _export(request: Request, ids: list[int]) -> Response:
    ctx = ctx_of(request)
    with ctx.db.read_session() as session:
        documents = session.scalars(
            select(Document)
            .options(selectinload(Document.customer))
            .where(Document.id.in_(ids))
            .order_by(Document.id)
        )
        rows = [_csv_row(d) for d in documents]
    return csv_response("documents.csv", CSV_COLUMNS, rows)


def _csv_row(d: Document) -> list[Any]:
    return [
        d.display_number,
        d.kind,
        d.status,
        d.customer.display_name,
        d.customer.tax_id or "",
        d.issue_date.isoformat() if d.issue_date else "",
        d.due_date.isoformat() if d.due_date else "",
        d.total,
        d.balance,
        d.currency,
    ]


def _list_with_error(request: Request, filters: dict[str, str], message: str) -> Response:
    with ctx_of(request).db.read_session() as session:
        documents = filter_documents(session, filters, PAGE_SIZE, 0)
    return render(
        request,
        "admin/documents.html",
        {"documents": documents, "filters": filters, "page": 1, "bulk_error": message},
        status_code=400,
    )


def routes() -> list[Route]:
    """The bulk-action route of the documents list."""
    return [Route("/documents/bulk", documents_bulk, methods=["POST"])]
