"""Payments in the staff area: all payments with filters, CSV export, payments checked by hand
(a manual method such as a bank transfer, idempotent on the reference) and the review queue."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from facturo.billing import payments
from facturo.billing.errors import BillingError
from facturo.billing.money import parse_money_field
from facturo.billing.movements import Cursor, Filters, Movement, history
from facturo.billing.payments import apply_reviewed_payment, dismiss_reviewed_payment
from facturo.context import Context
from facturo.csv_export import csv_response
from facturo.errors import FacturoError
from facturo.gateways.methods import manual_method, manual_methods
from facturo.models import Document, Payment
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
from facturo.web.rendering import flash, gettext_for, render, request_language
from facturo.web.sections import roles_required

CSV_COLUMNS = (
    "id",
    "paid_at",
    "gateway",
    "gateway_txn_id",
    "amount",
    "currency",
    "status",
    "document",
    "customer_id",
    "refunded",
    "credited",
    "kind",
    "credit_note",
    "value_date",
)


def filter_payments(
    ctx: Context, session: Session, params: Any, limit: int | None, offset: int = 0
) -> list[Payment]:
    """Payments filtered by ``status``, ``gateway``, ``customer_id``, ``from``/``to`` (date
    paid, business days), newest first."""
    query = (
        select(Payment)
        .options(selectinload(Payment.document))
        .order_by(Payment.paid_at.desc(), Payment.id.desc())
    )
    if params.get("status"):
        query = query.where(Payment.status == params["status"])
    if params.get("gateway"):
        query = query.where(Payment.gateway == params["gateway"])
    customer_id = row_id(params.get("customer_id"))
    if customer_id is not None:
        query = query.where(Payment.customer_id == customer_id)
    zone = ctx.settings.zone
    start, end = parse_date(params.get("from")), parse_date(params.get("to"))
    if start:
        query = query.where(Payment.paid_at >= datetime.combine(start, time(), tzinfo=zone))
    if end:
        query = query.where(
            Payment.paid_at < datetime.combine(end + timedelta(days=1), time(), tzinfo=zone)
        )
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return list(session.scalars(query))


def movement_filters(ctx: Context, params: Any) -> Filters:
    """The staff list's query string as history filters (every refund state shown)."""
    customer_id = str(params.get("customer_id") or "")
    kind = str(params.get("kind") or "")
    return Filters(
        customer_id=row_id(customer_id),
        kind=kind if kind in ("payment", "refund") else "",
        status=str(params.get("status") or ""),
        gateway=str(params.get("gateway") or ""),
        start=parse_date(params.get("from")),
        end=parse_date(params.get("to")),
        zone=ctx.settings.zone,
        every_refund=True,
    )


@roles_required("billing")
def payment_list(request: Request) -> Response:
    """All payments and refunds (a line of their own, negative) with filters."""
    ctx = ctx_of(request)
    page = page_number(request)
    before = Cursor.parse(request.query_params.get("before", ""))
    with ctx.db.read_session() as session:
        rows = history(
            session,
            movement_filters(ctx, request.query_params),
            PAGE_SIZE + 1,
            0 if before else (page - 1) * PAGE_SIZE,
            before,
        )
    filters = dict(request.query_params)
    older = None
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        kept = {k: v for k, v in filters.items() if k not in ("before", "page") and v}
        older = urlencode({**kept, "before": Cursor.after(rows[-1]).token()})
    return render(
        request,
        "admin/payments.html",
        {"payments": rows, "filters": filters, "page": page, "older": older},
    )


@roles_required("billing")
def payment_csv(request: Request) -> Response:
    """The filtered payments and refunds as CSV (text cells made safe for spreadsheets);
    a refund's amount is negative and names its credit note."""
    ctx = ctx_of(request)
    with ctx.db.read_session() as session:
        rows = [
            _csv_row(m) for m in history(session, movement_filters(ctx, request.query_params), None)
        ]
    return csv_response("payments.csv", CSV_COLUMNS, rows)


def _csv_row(m: Movement) -> list[Any]:
    payment = not m.is_refund
    return [
        m.id if payment else f"refund-{m.id}",
        m.at.isoformat(),
        m.gateway,
        m.reference,
        m.amount,
        m.currency,
        m.status,
        m.document.display_number if m.document else "",
        m.customer_id or "",
        m.refunded if payment else "",
        m.credited if payment else "",
        m.kind,
        m.credit_note.display_number if m.credit_note else "",
        m.value_date.isoformat() if m.value_date else "",
    ]


def find_document(session: Session, key: str) -> Document | None:
    """A document by number, reference or id."""
    key = key.strip()
    if not key:
        return None
    found = session.scalar(
        select(Document).where(or_(Document.number == key, Document.reference == key))
    )
    if found is None and key.isdigit():
        found = session.get(Document, int(key))
    return found


def _manual_choices(ctx: Context, lang: str) -> list[tuple[str, str]]:
    """(gateway, label) of the enabled methods staff record by hand (not online)."""
    return [
        (m.gateway, m.label.get(lang) or m.label.get("en") or m.gateway)
        for m in manual_methods(ctx)
    ]


def _record_form(
    request: Request, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> Response:
    ctx = ctx_of(request)
    methods = _manual_choices(ctx, request_language(request))
    return render(
        request,
        "admin/payment_form.html",
        {"values": values, "errors": errors, "methods": methods},
        status,
    )


def manual_payment_page(request: Request, default_method: str | None = None) -> Response:
    """GET: the staff "record payment" form. POST: record a payment checked by hand with one of
    the enabled manual methods (``default_method`` when the form names none), idempotent on
    the reference. A plugin serves its own path to the form with its method as the default."""
    _ = gettext_for(request)
    ctx = ctx_of(request)
    if request.method == "GET":
        values = dict(request.query_params)
        values.setdefault("paid_on", ctx.today().isoformat())
        if default_method:
            values.setdefault("method", default_method)
        return _record_form(request, values, {})
    form = form_data(request)
    errors: dict[str, str] = {}
    try:
        method = manual_method(ctx, form.get("method") or default_method)
        amount = parse_money_field(form.get("amount", ""), "amount")
        paid_on = parse_date(form.get("paid_on"))
        if paid_on is None:
            raise FacturoError("give a date such as 2026-01-31", field="paid_on")
        with ctx.db.transaction() as session:
            document = find_document(session, form.get("document", ""))
            if document is None:
                raise FacturoError("no document with that number or reference", field="document")
            outcome = payments.record_manual_payment(
                session,
                ctx,
                document,
                amount,
                paid_on,
                form.get("bank_reference", ""),
                actor(request),
                method=method,
            )
            payment_id, created, status = (
                outcome.payment.id,
                outcome.created,
                outcome.payment.status,
            )
    except FacturoError as exc:
        errors[exc.field or "amount"] = _(str(exc))
        return _record_form(request, form, errors, 400)
    if not created:
        flash(request, _("That reference was already recorded; nothing changed."), "info")
    elif status == "needs_review":
        flash(request, _("Recorded, but it needs review."), "error")
    else:
        flash(request, _("Payment recorded."), "ok")
    return RedirectResponse(f"/admin/payments?highlight={payment_id}", status_code=303)


@roles_required("billing")
def record_new(request: Request) -> Response:
    """The staff "record payment" form: the method is one of the enabled manual methods."""
    return manual_payment_page(request)


@roles_required("billing")
def review_queue(request: Request) -> Response:
    """Payments that need a decision (amount or currency mismatch, cancelled proforma…)."""
    ctx = ctx_of(request)
    with ctx.db.read_session() as session:
        payments = filter_payments(ctx, session, {"status": "needs_review"}, 200)
    return render(request, "admin/review.html", {"payments": payments})


@roles_required("billing")
def review_apply(request: Request) -> Response:
    """Apply a held payment to an unpaid proforma (its own, or another given by reference)."""
    _ = gettext_for(request)
    ctx = ctx_of(request)
    form = form_data(request)
    try:
        with ctx.db.transaction() as session:
            payment = get_or_404(session, Payment, request.path_params["id"])
            target = find_document(session, form.get("document", "")) or payment.document
            if target is None:
                raise BillingError("say which document the payment is for")
            apply_reviewed_payment(session, ctx, payment, target, actor(request))
    except BillingError as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, _("Payment applied."), "ok")
    return RedirectResponse("/admin/payments/review", status_code=303)


@roles_required("billing")
def review_dismiss(request: Request) -> Response:
    """Dismiss a held payment (refunded outside Facturo, or otherwise settled)."""
    _ = gettext_for(request)
    ctx = ctx_of(request)
    note = form_data(request).get("note", "")[:500]
    try:
        with ctx.db.transaction() as session:
            payment = get_or_404(session, Payment, request.path_params["id"])
            dismiss_reviewed_payment(session, payment, actor(request), note)
    except BillingError as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, _("Payment dismissed."), "ok")
    return RedirectResponse("/admin/payments/review", status_code=303)


def routes() -> list[Route]:
    return [
        Route("/payments", payment_list),
        Route("/payments.csv", payment_csv),
        Route("/payments/record", record_new, methods=["GET", "POST"]),
        Route("/payments/review", review_queue),
        Route("/payments/{id:int}/apply", review_apply, methods=["POST"]),
        Route("/payments/{id:int}/dismiss", review_dismiss, methods=["POST"]),
    ]
