"""Fixtures for the staff area and API tests: a live server, staff users, HTTP clients."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from facturo.accounts.customers import create_staff
from facturo.billing.documents import LineSpec, create_proforma
from facturo.context import Context
from facturo.models import Customer, Document, StaffUser
from facturo.testing import (
    AppClient,
    logged_in_cookies,
    make_customer,
    serve_in_thread,
    stop_server,
)
from facturo.web.app import create_app

PASSWORD = "a-long-staff-password-2026"
CSRF = "test-csrf-token"


@pytest.fixture
def serve() -> Iterator[Callable[[Context], str]]:
    """Start the app of a Context under uvicorn; returns its base URL."""
    started: list[Any] = []

    def start(ctx: Context) -> str:
        live = serve_in_thread(create_app(ctx))
        started.append(live)
        return live.url

    yield start
    for live in started:
        stop_server(live)


def new_staff(ctx: Context, role: str, email: str | None = None) -> StaffUser:
    with ctx.db.transaction() as session:
        staff, _ = create_staff(
            session, email or f"{role}@example.com", role.title(), role, password=PASSWORD
        )
    return staff


@pytest.fixture
def in_process() -> Callable[[Context], Starlette]:
    """The app of a Context, called in-process by ``staff_client`` (no server)."""
    return create_app


def staff_client(ctx: Context, target: str | Starlette, staff: StaffUser) -> httpx.Client:
    """A client whose session is logged in as ``staff`` (forms send csrf_token=CSRF), for a
    served app's URL or an app called in-process."""
    options: dict[str, Any] = {
        "cookies": logged_in_cookies(ctx, staff=staff, csrf=CSRF),
        "follow_redirects": False,
        "headers": {"Accept-Language": "en"},
    }
    if isinstance(target, str):
        return httpx.Client(base_url=target, **options)
    return AppClient(target, **options)


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def new_proforma(ctx: Context, customer: Customer, amount: str = "100.00") -> Document:
    with ctx.db.transaction() as session:
        fresh = session.get(Customer, customer.id)
        assert fresh is not None
        return create_proforma(
            session,
            ctx,
            fresh,
            [LineSpec(description="Consulting", unit_price=Decimal(amount))],
            notify=False,
        )


__all__ = [
    "CSRF",
    "PASSWORD",
    "csrf_from",
    "make_customer",
    "new_proforma",
    "new_staff",
    "staff_client",
]
