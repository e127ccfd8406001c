"""The customer's documents: list with a status filter, HTML view, PDF, payment state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from facturo.billing.archive import archive_years, file_name, search_documents, yearly_zip
from facturo.billing.consent import terms_of
from facturo.billing.documents import customer_documents, services_billed
from facturo.billing.errors import BillingError
from facturo.billing.evidence import evidence_of
from facturo.billing.movements import document_movements
from facturo.billing.pdf import document_pdf
from facturo.billing.refund_state import refund_state
from facturo.billing.withdrawal import withdrawal_status
from facturo.builtin.pdf import document_context
from facturo.gateways.methods import method_labels
from facturo.models import Document, Payment, Withdrawal
from facturo.web.client_common import ctx_of, me, owned
from facturo.web.errors import error_page
from facturo.web.rendering import gettext_for, render, request_language
from facturo.web.thanks import thank_you

STATUSES = ("unpaid", "paid", "cancelled", "issued")
REFRESH_SECONDS = 5
PAGE_SIZE = 50


def documents(request: Request) -> Response:
    """The customer's documents, unpaid first; ``?status=`` filters, ``?q=`` searches numbers
    and line text; links to each year's invoices as one ZIP."""
    ctx = ctx_of(request)
    status = request.query_params.get("status", "")
    if status not in STATUSES:
        status = ""
    text = request.query_params.get("q", "").strip()[:100]
    customer_id = me(request).id
    raw_page = request.query_params.get("page", "1")
    page = min(int(raw_page), 10_000) if raw_page.isdigit() and int(raw_page) > 0 else 1
    has_next = False
    with ctx.db.read_session() as session:
        if text:  # a search: every match, on one page
            found = search_documents(session, customer_id, text)
            rows = [
                row
                for row in customer_documents(session, customer_id, status or None)
                if row.id in found
            ]
            page = 1
        else:
            rows = customer_documents(
                session, customer_id, status or None, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE
            )
            has_next, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
        return render(
            request,
            "client/documents.html",
            {
                "documents": rows,
                "status": status,
                "statuses": STATUSES,
                "q": text,
                "page": page,
                "has_next": has_next,
                "years": archive_years(session, customer_id),
            },
        )


def yearly_archive(request: Request) -> Response:
    """All the customer's invoices and credit notes of one year, as a ZIP of PDFs."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    year = int(request.path_params["year"])
    if not 2000 <= year <= 9999:
        return error_page(request, 404)
    with ctx.db.transaction() as session:
        try:
            data = yearly_zip(ctx, session, me(request).id, year)
        except BillingError:
            return error_page(request, 500, _("The PDF could not be produced. Try again later."))
    if data is None:
        return error_page(request, 404)
    name = _("invoices")
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}-{year}.zip"'},
    )


def _view_values(request: Request, session: Session, document: Document) -> dict[str, Any]:
    ctx = ctx_of(request)
    lang = request_language(request)
    values = document_context(ctx, document, lang)
    if not me(request).is_verified:
        values["options"] = []
    payments = document_movements(session, document)

    evidence = evidence_of(session, document.id)
    return {
        "document": document,
        "doc": values,
        "methods": method_labels(ctx, lang) if document.is_payable else [],
        "services": services_billed(session, document),
        "payments": payments,
        "credit_notes": [note for note in document.credit_notes if note.is_issued],
        "refund_state": refund_state(document),
        "vat_pending": bool(
            evidence and evidence.vat_status == "unknown" and document.status == "unpaid"
        ),
        "evidence": evidence,
        "terms": terms_of(session, document.id),
        "withdrawal": withdrawal_status(session, ctx, document),
        "withdrawn": session.scalar(
            select(Withdrawal).where(Withdrawal.document_id == document.id)
        ),
    }


def document_payments(session: Session, document: Document) -> list[Payment]:
    """Payments recorded against ``document``, oldest first."""
    query = select(Payment).where(Payment.document_id == document.id).order_by(Payment.id)
    return list(session.scalars(query))


def document_page(request: Request) -> Response:
    """The document as HTML; unpaid ones show the payment options plugins contribute."""
    ctx = ctx_of(request)
    with ctx.db.read_session() as session:
        document = owned(session, Document, request.path_params["id"], me(request).id)
        return render(request, "client/document.html", _view_values(request, session, document))


def document_status(request: Request) -> Response:
    """Where the customer lands after paying online: the real state of the document, paid
    with its invoice number or waiting for the bank (the page refreshes until it changes)."""
    ctx = ctx_of(request)
    with ctx.db.read_session() as session:
        document = owned(session, Document, request.path_params["id"], me(request).id)
        waiting = document.status == "unpaid"
        thanks = thank_you(ctx, session, document, request_language(request))
        return render(
            request,
            "client/document_status.html",
            {
                "document": document,
                "waiting": waiting,
                "refresh": REFRESH_SECONDS,
                "thanks": thanks,
            },
        )


def document_download(request: Request) -> Response:
    """The document's PDF as an attachment."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    with ctx.db.transaction() as session:
        document = owned(session, Document, request.path_params["id"], me(request).id)
        try:
            pdf = document_pdf(ctx, session, document)
        except BillingError:
            return error_page(request, 500, _("The PDF could not be produced. Try again later."))
        name = file_name(document)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
    )


def routes() -> list[Route]:
    """Document routes of the client section."""
    return [
        Route("/documents", documents, methods=["GET"]),
        Route("/documents/archive/{year:int}.zip", yearly_archive, methods=["GET"]),
        Route("/documents/{id}", document_page, methods=["GET"]),
        Route("/documents/{id}/status", document_status, methods=["GET"]),
        Route("/documents/{id}/pdf", document_download, methods=["GET"]),
    ]
