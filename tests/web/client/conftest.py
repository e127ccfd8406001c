"""Fixtures for the client area's HTTP tests: the app called in-process, customers, logged-in
clients. (The browser suite and the server tests run real servers.)"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from facturo.context import Context
from facturo.models import Customer
from facturo.testing import AppClient, make_customer
from facturo.web.app import create_app

PASSWORD = "correct horse battery"


@dataclass
class Site:
    ctx: Context
    app: Any
    opened: list[httpx.Client] = field(default_factory=list)

    def client(self, **kwargs: Any) -> httpx.Client:
        """A browser-like client of the app, called in-process (no server, no port)."""
        client = AppClient(self.app, follow_redirects=False, **kwargs)
        self.opened.append(client)
        return client


@pytest.fixture
def site_factory(make_context: Callable[..., Context]) -> Iterator[Callable[..., Site]]:
    """The app with the transfer plugin enabled: ``site_factory(overrides=...)``."""
    made: list[Site] = []

    def start(**kwargs: Any) -> Site:
        kwargs.setdefault("plugins", ("transfer",))
        ctx = make_context(**kwargs)
        site = Site(ctx, create_app(ctx))
        made.append(site)
        return site

    yield start
    for site in made:
        for client in site.opened:
            client.close()


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
