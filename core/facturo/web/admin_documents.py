"""Documents in the staff area: filter, view, PDF, send again, cancel a proforma, a manual
proforma with free lines, and refunds of paid invoices (gateway or manual)."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from facturo import audit
from facturo.billing.archive import file_name
from facturo.billing.documents import (
    LineSpec,
    cancel_proforma,
    create_proforma,
    queue_document_email,
)
from facturo.billing.errors import BillingError
from facturo.billing.evidence import evidence_of, review_conflict
from facturo.billing.money import parse_money_field
from facturo.billing.movements import document_movements
from facturo.billing.pdf import document_pdf
from facturo.billing.refund_state import display_status
from facturo.billing.refunds import refund, resolve_reserved_refund
from facturo.errors import FacturoError
from facturo.models import Customer, Document, OrderTerms, Refund, Withdrawal
from facturo.web.admin_common import (
    PAGE_SIZE,
    actor,
    ctx_of,
    form_data,
    get_or_404,
    page_number,
    parse_date,
    row_id,
)
from facturo.web.admin_confirmations import cancel_confirmation, refund_confirmation
from facturo.web.confirm import is_confirmed
from facturo.web.rendering import flash, gettext_for, render
from facturo.web.sections import roles_required

EMAIL_FOR = {
    "proforma": "proforma_issued",
    "invoice": "payment_receipt",
    "credit_note": "credit_note",
}
FREE_LINES = 5


def filter_documents(session: Session, params: Any, limit: int, offset: int) -> list[Document]:
    """Documents filtered by ``status``, ``kind``, ``customer_id``, ``from``/``to`` (issue
    date) and ``q`` (number or reference), newest first; ``before`` (a document id) starts
    after that document (keyset pagination: as fast on the last page as on the first)."""
    query = (
        select(Document)
        .options(selectinload(Document.customer), selectinload(Document.credit_notes))
        .order_by(Document.id.desc())
    )
    if params.get("status"):
        query = query.where(Document.status == params["status"])
    if params.get("kind"):
        query = query.where(Document.kind == params["kind"])
    customer_id = row_id(params.get("customer_id"))
    if customer_id is not None:
        query = query.where(Document.customer_id == customer_id)
    start, end = parse_date(params.get("from")), parse_date(params.get("to"))
    if start:
        query = query.where(Document.issue_date >= start)
    if end:
        query = query.where(Document.issue_date <= end)
    if params.get("q"):
        text = str(params["q"]).strip()
        query = query.where((Document.number == text) | (Document.reference == text))
    before = row_id(params.get("before"))
    if before is not None:
        query = query.where(Document.id < before)
    return list(session.scalars(query.limit(limit).offset(offset)))


@roles_required("billing")
def document_list(request: Request) -> Response:
    """Documents with filters."""
    page = page_number(request)
    with ctx_of(request).db.read_session() as session:
        documents = filter_documents(
            session, request.query_params, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE
        )
    filters = dict(request.query_params)
    older = None
    if len(documents) > PAGE_SIZE:
        documents = documents[:PAGE_SIZE]
        kept = {k: v for k, v in filters.items() if k not in ("before", "page") and v}
        older = urlencode({**kept, "before": documents[-1].id})
    return render(
        request,
        "admin/documents.html",
        {"documents": documents, "filters": filters, "page": page, "older": older},
    )


@roles_required("billing", "support")
def document_page(request: Request) -> Response:
    """One document with its lines, payments and refunds."""
    with ctx_of(request).db.read_session() as session:
        document = get_or_404(session, Document, request.path_params["id"])
        _ = (document.lines, document.customer, document.original)
        refunds = list(session.scalars(select(Refund).where(Refund.document_id == document.id)))
        values = document_extras(ctx_of(request), session, document)
        values.update(
            shown_status=display_status(document),
            credit_notes=[note for note in document.credit_notes if note.is_issued],
            movements=document_movements(session, document),
        )
    return render(request, "admin/document.html", {"d": document, "refunds": refunds, **values})


def document_extras(ctx: Any, session: Session, document: Document) -> dict[str, Any]:
    """The document's tax evidence, order terms, withdrawal and the plugins' panels."""
    panels = [
        panel
        for found in ctx.hook.admin_document_panels(ctx=ctx, session=session, document=document)
        for panel in (found or [])
    ]
    return {
        "evidence": evidence_of(session, document.id),
        "terms": session.scalar(select(OrderTerms).where(OrderTerms.document_id == document.id)),
        "withdrawal": session.scalar(
            select(Withdrawal).where(Withdrawal.document_id == document.id)
        ),
        "panels": sorted(panels, key=lambda p: p.order),
        "review_error": "",
    }


@roles_required("billing")
def evidence_review(request: Request) -> Response:
    """Mark a place-of-supply conflict as reviewed, with a note (required)."""

    _ = gettext_for(request)
    ctx = ctx_of(request)
    form = form_data(request)
    staff = request.state.staff
    try:
        with ctx.db.transaction() as session:
            document = get_or_404(session, Document, request.path_params["id"])
            review_conflict(session, ctx, document, f"staff:{staff.id}", form.get("note", ""))
    except BillingError as exc:
        with ctx.db.read_session() as session:
            document = get_or_404(session, Document, request.path_params["id"])
            _unused = (document.lines, document.customer)
            refunds = list(session.scalars(select(Refund).where(Refund.document_id == document.id)))
            values = document_extras(ctx, session, document)
            values["review_error"] = _(str(exc))
            return render(
                request, "admin/document.html", {"d": document, "refunds": refunds, **values}, 400
            )
    flash(request, _("The evidence was marked as reviewed."), "ok")
    return RedirectResponse(f"/admin/documents/{request.path_params['id']}", status_code=303)


@roles_required("billing", "support")
def document_pdf_view(request: Request) -> Response:
    """The document's PDF."""
    ctx = ctx_of(request)
    with ctx.db.transaction() as session:
        document = get_or_404(session, Document, request.path_params["id"])
        pdf = document_pdf(ctx, session, document)
        name = file_name(document)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"content-disposition": f'inline; filename="{name}.pdf"'},
    )


@roles_required("billing")
def document_resend(request: Request) -> Response:
    """Queue the document's email again (a new dedupe key, so it really goes)."""
    _ = gettext_for(request)
    ctx = ctx_of(request)
    with ctx.db.transaction() as session:
        document = get_or_404(session, Document, request.path_params["id"])
        template = EMAIL_FOR.get(document.kind, "proforma_issued")
        queue_document_email(
            session, ctx, document, template, key=f"resend:{document.id}:{uuid.uuid4().hex}"
        )

        audit.record(
            session, actor(request), "document.resend", document, after={"template": template}
        )
    flash(request, _("The email is queued."), "ok")
    return RedirectResponse(f"/admin/documents/{document.id}", status_code=303)


def _params(request: Request) -> dict[str, str]:
    """The submitted form (POST) or the query string (GET, the confirmation link)."""
    return form_data(request) if request.method == "POST" else dict(request.query_params)


@roles_required("billing")
def document_cancel(request: Request) -> Response:
    """Cancel an unpaid proforma, after a confirmation step (GET, or a POST without
    ``confirm=yes``, shows what cancelling means and changes nothing)."""
    _ = gettext_for(request)
    ctx = ctx_of(request)
    params = _params(request)
    reason = params.get("reason", "")[:500]
    doc_id = request.path_params["id"]
    try:
        if not is_confirmed(request, params):
            return cancel_confirmation(request, int(doc_id), reason)
        with ctx.db.transaction() as session:
            document = get_or_404(session, Document, doc_id)
            cancel_proforma(session, ctx, document, actor=actor(request), reason=reason)
    except BillingError as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, _("The proforma is cancelled."), "ok")
    return RedirectResponse(f"/admin/documents/{doc_id}", status_code=303)


@roles_required("billing")
def document_refund(request: Request) -> Response:
    """Refund a paid invoice fully (empty amount) or in part: a credit note, plus the money
    back through the gateway when it supports refunds (else a manual refund).

    First a confirmation page that states the exact amount (GET, or a POST without
    ``confirm=yes``); the confirmed POST carries that amount explicitly. A confirmed POST
    with an empty amount is refused: it never refunds "everything" unseen."""
    _ = gettext_for(request)
    ctx = ctx_of(request)
    form = _params(request)
    doc_id = request.path_params["id"]
    try:
        if not is_confirmed(request, form):
            return refund_confirmation(request, int(doc_id), form)
        if not form.get("amount", "").strip():
            raise BillingError(_("Say the amount to refund."))
        amount = parse_money_field(form["amount"], "amount")
        with ctx.db.read_session() as session:
            document = get_or_404(session, Document, doc_id)
        outcome = refund(
            ctx,
            document.id,
            amount,
            form.get("reason", "")[:500] or "refund",
            actor(request),
            through_gateway=form.get("manual") != "1",
            deprovision=form.get("deprovision") == "1",
        )
        if outcome.status == "failed":
            raise BillingError(
                _("The gateway did not refund (%(error)s); nothing was credited.")
                % {"error": outcome.error}
            )
        message = _("Refunded %(amount)s (%(gateway)s); credit note %(number)s.") % {
            "amount": outcome.amount,
            "gateway": outcome.gateway,
            "number": outcome.credit_note_number,
        }
    except (BillingError, FacturoError) as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, message, "ok")
    return RedirectResponse(f"/admin/documents/{doc_id}", status_code=303)


@roles_required("billing")
def refund_resolve(request: Request) -> Response:
    """Settle a refund left ``reserved`` (in doubt): staff checked the gateway and say whether
    it paid (issue the credit note) or not (release the amount)."""
    _ = gettext_for(request)
    ctx = ctx_of(request)
    form = form_data(request)
    doc_id = request.path_params["id"]
    with ctx.db.read_session() as session:
        row = get_or_404(session, Refund, request.path_params["refund_id"])
        if row.document_id != int(doc_id):
            raise HTTPException(404)
    try:
        outcome = resolve_reserved_refund(
            ctx,
            row.id,
            paid=form.get("paid") == "1",
            actor=actor(request),
            gateway_refund_id=form.get("gateway_refund_id", "")[:128],
        )
    except BillingError as exc:
        flash(request, str(exc), "error")
    else:
        flash(
            request,
            _("Credit note %(number)s issued.") % {"number": outcome.credit_note_number}
            if outcome.credit_note_number
            else _("The reserved amount is released."),
            "ok",
        )
    return RedirectResponse(f"/admin/documents/{doc_id}", status_code=303)


@roles_required("billing")
def proforma_new(request: Request) -> Response:
    """GET: a form with free lines. POST: create the proforma for the customer."""
    _ = gettext_for(request)
    ctx = ctx_of(request)
    if request.method == "GET":
        return render(
            request,
            "admin/proforma_form.html",
            {"values": dict(request.query_params), "rows": range(FREE_LINES), "errors": {}},
        )
    form = form_data(request)
    errors: dict[str, str] = {}
    lines: list[LineSpec] = []
    for row in range(FREE_LINES):
        text = form.get(f"description_{row}", "").strip()
        price = form.get(f"price_{row}", "").strip()
        if not text and not price:
            continue
        try:
            qty = parse_money_field(form.get(f"quantity_{row}", "1") or "1", f"quantity_{row}")
            unit = parse_money_field(price, f"price_{row}")
            if not text or qty <= 0:
                raise FacturoError("each line needs a text and a quantity", f"line_{row}")
            lines.append(LineSpec(description=text[:500], unit_price=unit, quantity=qty))
        except FacturoError as exc:
            errors[f"line_{row}"] = _(str(exc))
    customer_raw = form.get("customer_id", "").strip()
    if not lines and not errors:
        errors["line_0"] = _("Add at least one line.")
    document_id = None
    if not errors:
        with ctx.db.transaction() as session:
            customer = session.get(Customer, row_id(customer_raw)) if row_id(customer_raw) else None
            if customer is None:
                errors["customer_id"] = _("No such customer.")
            else:
                document = create_proforma(
                    session,
                    ctx,
                    customer,
                    lines,
                    source="manual",
                    actor=actor(request),
                    notify=form.get("notify") == "1",
                )
                document_id = document.id
    if errors or document_id is None:
        return render(
            request,
            "admin/proforma_form.html",
            {"values": form, "rows": range(FREE_LINES), "errors": errors},
            400,
        )
    flash(request, _("Proforma created."), "ok")
    return RedirectResponse(f"/admin/documents/{document_id}", status_code=303)


def routes() -> list[Route]:
    return [
        Route("/documents", document_list),
        Route("/documents/new", proforma_new, methods=["GET", "POST"]),
        Route("/documents/{id:int}", document_page),
        Route("/documents/{id:int}/pdf", document_pdf_view),
        Route("/documents/{id:int}/resend", document_resend, methods=["POST"]),
        Route("/documents/{id:int}/cancel", document_cancel, methods=["GET", "POST"]),
        Route("/documents/{id:int}/refund", document_refund, methods=["GET", "POST"]),
        Route(
            "/documents/{id:int}/refunds/{refund_id:int}/resolve",
            refund_resolve,
            methods=["POST"],
        ),
        Route("/documents/{id:int}/evidence", evidence_review, methods=["POST"]),
    ]
