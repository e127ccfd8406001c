"""Hole 8: authenticated pages were cacheable, no HSTS under https, and forms could post to
any https host. Now: no-store on client, staff and API responses; HSTS when base_url is https;
CSP form-action 'self' plus the hosts the enabled gateways declare."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from starlette.routing import Route

from facturo.accounts import api_tokens
from facturo.hookspecs import hookimpl
from facturo.models import StaffUser
from facturo.testing import logged_in_cookies
from tests.security.conftest import Site, new_customer, new_staff


class Gateway:
    """A plugin whose hosted payment page lives elsewhere."""

    @hookimpl
    def form_action_hosts(self, ctx: Any) -> list[str]:
        return [
            "https://pay.gateway.example",
            "javascript:alert(1)",
            "https://x.example; script-src *",
        ]

    @hookimpl
    def web_routes(self, ctx: Any, section: str) -> list[Route]:
        return []


def test_authenticated_responses_are_not_stored(site: Site) -> None:
    customer = new_customer(site.ctx)
    admin = new_staff(site.ctx, "admin")
    with site.ctx.db.transaction() as session:
        row = session.get(StaffUser, admin.id)
        assert row is not None
        _t, secret = api_tokens.create_token(session, row, "t", "read", "system")
    cookies = logged_in_cookies(site.ctx, customer=customer, staff=admin)
    with httpx.Client(base_url=site.url, cookies=cookies) as web:
        for path in ("/client/", "/client/account", "/admin/", "/admin/customers", "/client/login"):
            response = web.get(path)
            assert response.status_code == 200, path
            assert response.headers["cache-control"] == "no-store", path
    with httpx.Client(base_url=site.url, headers={"Authorization": f"Bearer {secret}"}) as api:
        assert api.get("/api/v1/customers").headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in httpx.get(site.url + "/client/login").headers


def test_hsts_under_https_and_form_action_from_the_gateways(
    site_factory: Callable[..., Site],
) -> None:
    site = site_factory(
        overrides={"base_url": "https://billing.example.com", "hsts_max_age": 86400},
        extra=[("gateway", Gateway())],
    )
    response = httpx.get(site.url + "/client/login")
    assert response.headers["strict-transport-security"] == "max-age=86400"
    csp = response.headers["content-security-policy"]
    assert "form-action 'self' https://pay.gateway.example;" in csp
    assert "javascript" not in csp and "x.example" not in csp and "https:;" not in csp
    plain = site_factory()
    policy = httpx.get(plain.url + "/client/login").headers["content-security-policy"]
    assert "form-action 'self';" in policy
