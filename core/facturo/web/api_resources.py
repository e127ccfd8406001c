"""REST API v1 resources: customers, products, services, documents (+PDF), payments."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from facturo.billing import payments
from facturo.billing.errors import BillingError
from facturo.billing.pdf import document_pdf
from facturo.errors import FacturoError
from facturo.gateways.methods import manual_method
from facturo.models import Customer, Document, Payment, Product, Service
from facturo.models.documents import DOCUMENT_KINDS, DOCUMENT_STATES
from facturo.models.payments import PAYMENT_STATES
from facturo.models.services import SERVICE_STATES
from facturo.web.api_common import (
    MAX_ID,
    ApiError,
    choice_param,
    customer_json,
    date_param,
    document_json,
    found,
    handles_errors,
    int_param,
    paginate,
    path_id,
    payment_json,
    product_json,
    service_json,
)
from facturo.web.sections import api_error, api_write

AMOUNT = re.compile(r"^\d{1,8}(\.\d{1,2})?$")


def _ctx(request: Request) -> Any:
    return request.app.state.ctx


@handles_errors
def list_customers(request: Request) -> Response:
    """Customers, filtered by ``q`` (name, company, email or tax id)."""
    query = select(Customer).order_by(Customer.id)
    text = request.query_params.get("q", "").strip().lower()
    if text:
        like = f"%{text}%"
        query = query.where(
            or_(
                func.lower(Customer.name).like(like),
                func.lower(Customer.company).like(like),
                func.lower(Customer.email).like(like),
                func.lower(Customer.tax_id).like(like),
            )
        )
    with _ctx(request).db.read_session() as session:
        return paginate(request, session, query, customer_json)


@handles_errors
def get_customer(request: Request) -> Response:
    with _ctx(request).db.read_session() as session:
        return JSONResponse(customer_json(found(session, Customer, path_id(request))))


@handles_errors
def list_products(request: Request) -> Response:
    """Products and add-ons; ``retired`` true/false filters."""
    query = select(Product).options(selectinload(Product.prices)).order_by(Product.id)
    retired = choice_param(request, "retired", ("true", "false"))
    if retired is not None:
        query = query.where(Product.retired.is_(retired == "true"))
    with _ctx(request).db.read_session() as session:
        return paginate(request, session, query, product_json)


@handles_errors
def get_product(request: Request) -> Response:
    with _ctx(request).db.read_session() as session:
        product = found(session, Product, path_id(request))
        return JSONResponse(product_json(product))


@handles_errors
def list_services(request: Request) -> Response:
    """Services, filtered by ``customer_id`` and ``status``."""
    query = select(Service).order_by(Service.id)
    customer_id = int_param(request, "customer_id", None, 1, MAX_ID)
    if customer_id is not None:
        query = query.where(Service.customer_id == customer_id)
    status = choice_param(request, "status", SERVICE_STATES)
    if status:
        query = query.where(Service.status == status)
    with _ctx(request).db.read_session() as session:
        return paginate(request, session, query, service_json)


@handles_errors
def get_service(request: Request) -> Response:
    with _ctx(request).db.read_session() as session:
        return JSONResponse(service_json(found(session, Service, path_id(request))))


@handles_errors
def list_documents(request: Request) -> Response:
    """Documents, filtered by ``status``, ``kind``, ``customer_id``, ``from`` and ``to``."""
    query = (
        select(Document)
        .options(
            selectinload(Document.lines),
            selectinload(Document.credit_notes),
            selectinload(Document.original),
        )
        .order_by(Document.id)
    )
    status = choice_param(request, "status", DOCUMENT_STATES)
    kind = choice_param(request, "kind", DOCUMENT_KINDS)
    customer_id = int_param(request, "customer_id", None, 1, MAX_ID)
    start, end = date_param(request, "from"), date_param(request, "to")
    if status:
        query = query.where(Document.status == status)
    if kind:
        query = query.where(Document.kind == kind)
    if customer_id is not None:
        query = query.where(Document.customer_id == customer_id)
    if start:
        query = query.where(Document.issue_date >= start)
    if end:
        query = query.where(Document.issue_date <= end)
    with _ctx(request).db.read_session() as session:
        return paginate(request, session, query, document_json)


@handles_errors
def get_document(request: Request) -> Response:
    with _ctx(request).db.read_session() as session:
        document = found(session, Document, path_id(request))
        return JSONResponse(document_json(document))


@handles_errors
def get_document_pdf(request: Request) -> Response:
    ctx = _ctx(request)
    with ctx.db.transaction() as session:
        document = found(session, Document, path_id(request))
        try:
            pdf = document_pdf(ctx, session, document)
        except BillingError as exc:
            raise ApiError(409, "unavailable", str(exc)) from None
    return Response(pdf, media_type="application/pdf")


@handles_errors
def list_payments(request: Request) -> Response:
    """Payments, filtered by ``status``, ``gateway``, ``customer_id`` and ``document_id``."""
    query = select(Payment).order_by(Payment.id)
    status = choice_param(request, "status", PAYMENT_STATES)
    if status:
        query = query.where(Payment.status == status)
    gateway = request.query_params.get("gateway")
    if gateway:
        query = query.where(Payment.gateway == gateway[:32])
    for name, column in (
        ("customer_id", Payment.customer_id),
        ("document_id", Payment.document_id),
    ):
        value = int_param(request, name, None, 1, MAX_ID)
        if value is not None:
            query = query.where(column == value)
    with _ctx(request).db.read_session() as session:
        return paginate(request, session, query, payment_json)


def _payment_input(body: Any) -> tuple[int, Decimal, date, str, str | None]:
    if not isinstance(body, dict):
        raise ApiError(422, "invalid", "the body must be a JSON object")
    document_id = body.get("document_id")
    if (
        not isinstance(document_id, int)
        or isinstance(document_id, bool)
        or not (1 <= document_id <= MAX_ID)
    ):
        raise ApiError(422, "invalid", "document_id must be a document's id", "document_id")
    amount = body.get("amount")
    if not isinstance(amount, str) or not AMOUNT.match(amount) or Decimal(amount) <= 0:
        raise ApiError(
            422, "invalid", 'amount must be a string such as "149.00", above 0', "amount"
        )
    raw_date = body.get("paid_on")
    try:
        paid_on = date.fromisoformat(raw_date) if isinstance(raw_date, str) else None
    except ValueError:
        paid_on = None
    if paid_on is None:
        raise ApiError(422, "invalid", "paid_on must be a date such as 2026-01-31", "paid_on")
    reference = body.get("bank_reference")
    if not isinstance(reference, str) or not reference.strip() or len(reference) > 128:
        raise ApiError(
            422, "invalid", "bank_reference must be 1 to 128 characters", "bank_reference"
        )
    method = body.get("method")
    if method is not None and (not isinstance(method, str) or not 1 <= len(method) <= 32):
        raise ApiError(422, "invalid", "method must be a payment method's name", "method")
    return document_id, Decimal(amount), paid_on, reference, method


def _record(request: Request, body: Any) -> Response:
    ctx = _ctx(request)
    document_id, amount, paid_on, reference, chosen = _payment_input(body)
    token = request.state.api_token
    try:
        with ctx.db.transaction() as session:
            document = session.get(Document, document_id)
            if document is None:
                raise ApiError(422, "invalid", "no document with that id", "document_id")
            method = manual_method(ctx, chosen)
            outcome = payments.record_manual_payment(
                session,
                ctx,
                document,
                amount,
                paid_on,
                reference,
                f"api:{token.id}",
                method=method,
            )
            data = payment_json(outcome.payment)
    except FacturoError as exc:
        raise ApiError(422, "invalid", str(exc), exc.field) from None
    return JSONResponse(data, status_code=201 if outcome.created else 200)


@api_write
async def record_payment(request: Request) -> Response:
    """Record a payment checked by hand (idempotent on ``bank_reference``): 201 new, 200
    repeat. ``method`` names one of the enabled manual methods; it may be left out when only
    one is enabled."""
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        return api_error(400, "invalid_json", "the body is not valid JSON")
    try:
        result: Response = await run_in_threadpool(_record, request, body)
        return result
    except ApiError as exc:
        return api_error(exc.status, exc.code, exc.detail, exc.field)


def routes() -> list[Route]:
    return [
        Route("/v1/customers", list_customers),
        Route("/v1/customers/{id}", get_customer),
        Route("/v1/products", list_products),
        Route("/v1/products/{id}", get_product),
        Route("/v1/services", list_services),
        Route("/v1/services/{id}", get_service),
        Route("/v1/documents", list_documents),
        Route("/v1/documents/{id}", get_document),
        Route("/v1/documents/{id}/pdf", get_document_pdf),
        Route("/v1/payments", list_payments, methods=["GET"]),
        Route("/v1/payments", record_payment, methods=["POST"]),
    ]
