"""Fixtures for the security tests: the app under uvicorn, people to attack, real logins."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from facturo.accounts.customers import create_staff
from facturo.context import Context
from facturo.models import Customer, OutboxMessage, StaffUser
from facturo.testing import make_customer, serve_in_thread, stop_server
from facturo.web.app import create_app

CUSTOMER_PASSWORD = "correct horse battery"
STAFF_PASSWORD = "a-long-staff-password-2026"
EN = {"Accept-Language": "en"}


@dataclass
class Site:
    """A running app: its Context, base URL and the Starlette app (for its limiter)."""

    ctx: Context
    url: str
    app: Any

    def client(self, **kwargs: Any) -> httpx.Client:
        kwargs.setdefault("headers", EN)
        return httpx.Client(base_url=self.url, follow_redirects=False, timeout=30, **kwargs)

    def mails(self, template: str | None = None) -> list[OutboxMessage]:
        with self.ctx.db.read_session() as session:
            query = select(OutboxMessage).order_by(OutboxMessage.id)
            if template:
                query = query.where(OutboxMessage.template == template)
            return list(session.scalars(query))


@pytest.fixture
def site_factory(make_context: Callable[..., Context]) -> Iterator[Callable[..., Site]]:
    """``site_factory(overrides=..., plugins=..., base_url_port=True)`` starts the app."""
    started: list[Any] = []

    def start(**kwargs: Any) -> Site:
        ctx = make_context(**kwargs)
        app = create_app(ctx)
        live = serve_in_thread(app)
        started.append(live)
        return Site(ctx, live.url, app)

    yield start
    for live in started:
        stop_server(live)


@pytest.fixture
def site(site_factory: Callable[..., Site]) -> Site:
    return site_factory()


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def customer_login(
    client: httpx.Client, email: str, password: str = CUSTOMER_PASSWORD, **headers: str
) -> httpx.Response:
    """Log in through the real form (GET for the token, then POST)."""
    token = csrf_from(client.get("/client/login").text)
    return client.post(
        "/client/login",
        data={"email": email, "password": password, "csrf_token": token},
        headers=headers or None,
    )


def staff_login(
    client: httpx.Client, email: str, password: str = STAFF_PASSWORD, **headers: str
) -> httpx.Response:
    token = csrf_from(client.get("/admin/login").text)
    return client.post(
        "/admin/login",
        data={"email": email, "password": password, "csrf_token": token},
        headers=headers or None,
    )


def post_form(
    client: httpx.Client, path: str, data: dict[str, Any], page: str = "/client/"
) -> httpx.Response:
    """POST ``data`` with the session's CSRF token read from ``page``."""
    token = csrf_from(client.get(page).text)
    return client.post(path, data={**data, "csrf_token": token})


def new_customer(ctx: Context, email: str = "ana@example.com", **kwargs: Any) -> Customer:
    return make_customer(ctx, email=email, language="en", **kwargs)


def new_staff(ctx: Context, role: str = "admin", email: str | None = None) -> StaffUser:
    with ctx.db.transaction() as session:
        staff, _ = create_staff(
            session, email or f"{role}@example.com", role.title(), role, password=STAFF_PASSWORD
        )
    return staff


__all__ = [
    "CUSTOMER_PASSWORD",
    "EN",
    "STAFF_PASSWORD",
    "Site",
    "csrf_from",
    "customer_login",
    "new_customer",
    "new_staff",
    "post_form",
    "staff_login",
]
