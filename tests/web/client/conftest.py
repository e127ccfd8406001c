"""Fixtures for the client area's HTTP tests: a live app, customers, logged-in clients."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from facturo.context import Context
from facturo.models import Customer
from facturo.testing import make_customer, serve_in_thread, stop_server
from facturo.web.app import create_app

PASSWORD = "correct horse battery"


@dataclass
class Site:
    ctx: Context
    url: str

    def client(self, **kwargs: Any) -> httpx.Client:
        kwargs.setdefault("timeout", 30)  # argon2 and zxcvbn on a busy shared machine
        return httpx.Client(base_url=self.url, follow_redirects=False, **kwargs)


@pytest.fixture
def site_factory(make_context: Callable[..., Context]) -> Iterator[Callable[..., Site]]:
    """Start the app (transfer plugin enabled) under uvicorn: ``site_factory(overrides=...)``."""
    started: list[Any] = []

    def start(**kwargs: Any) -> Site:
        kwargs.setdefault("plugins", ("transfer",))
        ctx = make_context(**kwargs)
        live = serve_in_thread(create_app(ctx))
        started.append(live)
        return Site(ctx, live.url)

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


def login(client: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
    """Log in through the form (GET for the token, then POST)."""
    token = csrf_from(client.get("/client/login").text)
    return client.post(
        "/client/login", data={"email": email, "password": password, "csrf_token": token}
    )


def logged_in(site: Site, customer: Customer, password: str = PASSWORD) -> httpx.Client:
    client = site.client()
    response = login(client, customer.email, password)
    assert response.status_code == 303, response.text
    return client


def post_form(
    client: httpx.Client, path: str, data: dict[str, Any], page: str = "/client/"
) -> httpx.Response:
    """POST ``data`` with the session's CSRF token (read from ``page``)."""
    token = csrf_from(client.get(page).text)
    return client.post(path, data={**data, "csrf_token": token})


__all__ = ["PASSWORD", "Site", "csrf_from", "logged_in", "login", "make_customer", "post_form"]
