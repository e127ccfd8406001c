"""Helpers shared by the staff area's handlers: who acts, form data, lookups, dates."""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

import anyio.from_thread
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request

from facturo.context import Context

T = TypeVar("T")
PAGE_SIZE = 50


def ctx_of(request: Request) -> Context:
    """The installation's Context."""
    ctx: Context = request.app.state.ctx
    return ctx


def actor(request: Request) -> str:
    """The audit actor of the logged-in staff user: ``staff:<id>``."""
    return f"staff:{request.state.staff.id}"


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def form_data(request: Request) -> dict[str, str]:
    """The submitted form as text fields (call from a sync handler: runs in the threadpool)."""

    async def read() -> Any:
        return await request.form()

    form: Any = anyio.from_thread.run(read)
    return {key: value for key, value in form.items() if isinstance(value, str)}


def get_or_404(session: Session, model: type[T], raw_id: Any) -> T:
    """The row of ``model`` with id ``raw_id`` or a 404."""
    try:
        key = int(raw_id)
    except (TypeError, ValueError):
        raise HTTPException(404) from None
    row = session.get(model, key)
    if row is None:
        raise HTTPException(404)
    return row


def parse_date(raw: str | None) -> date | None:
    """An ISO date or None (empty or malformed input)."""
    if not raw:
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        return None


def page_number(request: Request) -> int:
    """The ``page`` query parameter, 1 to 100,000."""
    raw = request.query_params.get("page", "1")
    return min(100_000, max(1, int(raw))) if raw.isdigit() and len(raw) <= 6 else 1


def row_id(raw: object) -> int | None:
    """``raw`` as a row id when it is one (digits, within a database integer), else None."""
    text = str(raw or "").strip()
    return int(text) if text.isdigit() and len(text) <= 9 else None
