"""Shared pieces of the REST API: errors, pagination, filters and JSON shapes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from facturo.billing.refund_state import refund_state
from facturo.errors import FacturoError
from facturo.models import Customer, Document, Payment, Product, Service
from facturo.web.sections import api_error

MAX_ID = 2**31 - 1
MAX_PER_PAGE = 100


class ApiError(FacturoError):
    """An error answered as ``{"errors": [{"code", "detail", "field"}]}``."""

    def __init__(self, status: int, code: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail, field, status=status, code=code)


def handles_errors(endpoint: Callable[[Request], Any]) -> Callable[[Request], Any]:
    """Turn ApiError raised by a sync endpoint into the API's error response."""

    @functools.wraps(endpoint)
    def wrapper(request: Request) -> Response:
        try:
            result: Response = endpoint(request)
            return result
        except ApiError as exc:
            return api_error(exc.status, exc.code, exc.detail, exc.field)

    return wrapper


def path_id(request: Request) -> int:
    """The ``{id}`` path parameter (a 404 when it cannot be a row id)."""
    raw = str(request.path_params.get("id", ""))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
        raise ApiError(404, "not_found", "no such resource")
    return int(raw)


def found(session: Session, model: type[Any], row_id: int) -> Any:
    """The row or a 404 ApiError."""
    row = session.get(model, row_id)
    if row is None:
        raise ApiError(404, "not_found", f"no {model.__name__.lower()} with id {row_id}")
    return row


def int_param(request: Request, name: str, default: int | None, low: int, high: int) -> int | None:
    """An integer query parameter within [low, high]; a 400 ApiError otherwise."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError(400, "invalid", f"{name} must be a whole number from {low} to {high}", name)
    return int(raw)


def choice_param(request: Request, name: str, choices: tuple[str, ...]) -> str | None:
    """A query parameter from ``choices``; a 400 ApiError otherwise."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if raw not in choices:
        raise ApiError(400, "invalid", f"{name} must be one of {', '.join(choices)}", name)
    return raw


def date_param(request: Request, name: str) -> date | None:
    """An ISO date query parameter; a 400 ApiError when malformed."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, "invalid", f"{name} must be a date such as 2026-01-31", name) from None


def paginate(
    request: Request, session: Session, query: Select[Any], shape: Callable[[Any], dict[str, Any]]
) -> JSONResponse:
    """One page of ``query`` (ordered by id): ``{"data", "page", "per_page", "total",
    "next_after"}``. With ``?after=<id>`` the page starts after that id (keyset pagination:
    a deep page costs what the first does; ``page`` and ``total`` are then null), and
    ``next_after`` is the id to pass for the next page (null on the last page)."""
    per_page = int_param(request, "per_page", 25, 1, MAX_PER_PAGE) or 25
    after = int_param(request, "after", None, 0, MAX_ID)
    page: int | None = None
    total: int | None = None
    if after is not None:
        entity = query.column_descriptions[0]["entity"]
        rows = list(session.scalars(query.where(entity.id > after).limit(per_page)))
    else:
        page = int_param(request, "page", 1, 1, 100000) or 1
        counted = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        total = int(counted or 0)
        rows = list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return JSONResponse(
        {
            "data": [shape(row) for row in rows],
            "page": page,
            "per_page": per_page,
            "total": total,
            "next_after": rows[-1].id if len(rows) == per_page else None,
        }
    )


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def customer_json(c: Customer) -> dict[str, Any]:
    return {
        "id": c.id,
        "email": c.email,
        "name": c.name,
        "company": c.company,
        "tax_id": c.tax_id,
        "country": c.country,
        "language": c.language,
        "credit_balance": _money(c.credit_balance),
        "disabled": c.disabled,
        "created_at": _when(c.created_at),
    }


def product_json(p: Product) -> dict[str, Any]:
    return {
        "id": p.id,
        "code": p.code,
        "name_es": p.name_es,
        "name_en": p.name_en,
        "parent_id": p.parent_id,
        "provisioner": p.provisioner,
        "tax_category": p.tax_category,
        "retired": p.retired,
        "prices": [
            {
                "cycle": r.cycle,
                "months": r.months,
                "currency": r.currency,
                "amount": _money(r.amount),
            }
            for r in p.prices
        ],
    }


def service_json(s: Service) -> dict[str, Any]:
    return {
        "id": s.id,
        "customer_id": s.customer_id,
        "product_id": s.product_id,
        "parent_id": s.parent_id,
        "status": s.status,
        "cycle": s.cycle,
        "price": _money(s.price),
        "currency": s.currency,
        "next_due_date": _when(s.next_due_date),
        "label": s.label,
    }


def document_json(d: Document) -> dict[str, Any]:
    return {
        "id": d.id,
        "kind": d.kind,
        "status": d.status,
        "reference": d.reference,
        "number": d.number,
        "customer_id": d.customer_id,
        "currency": d.currency,
        "issue_date": _when(d.issue_date),
        "due_date": _when(d.due_date),
        "subtotal": _money(d.subtotal),
        "tax_total": _money(d.tax_total),
        "total": _money(d.total),
        "amount_paid": _money(d.amount_paid),
        "refunded_total": _money(d.refunded_total),
        "refund_state": refund_state(d),
        "corrects": {"id": d.original.id, "number": d.original.number} if d.original else None,
        "credit_notes": [
            {"id": note.id, "number": note.number, "total": _money(note.total)}
            for note in d.credit_notes
            if note.is_issued
        ],
        "lines": [
            {
                "description": ln.description,
                "quantity": str(ln.quantity),
                "unit_price": _money(ln.unit_price),
                "amount": _money(ln.amount),
                "tax_rate": str(ln.tax_rate),
            }
            for ln in d.lines
        ],
    }


def payment_json(p: Payment) -> dict[str, Any]:
    return {
        "id": p.id,
        "document_id": p.document_id,
        "customer_id": p.customer_id,
        "gateway": p.gateway,
        "gateway_txn_id": p.gateway_txn_id,
        "amount": _money(p.amount),
        "currency": p.currency,
        "status": p.status,
        "review_reason": p.review_reason,
        "paid_at": _when(p.paid_at),
        "value_date": _when(p.value_date),
        "refunded": _money(p.refunded),
    }
