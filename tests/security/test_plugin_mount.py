"""Hole 12 (and issue 22, point 2): plugin routes inside a Mount skipped the section guard —
no login, no CSRF, no role check. They are guarded recursively now, and what cannot be guarded
(a Mount of a bare ASGI app, a Host…) stops start-up with a message naming the plugin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route

from facturo.context import Context
from facturo.hookspecs import hookimpl
from facturo.plugins import PluginError
from facturo.testing import logged_in_cookies
from facturo.web.app import create_app
from facturo.web.sections import roles_required
from tests.security.conftest import Site, new_customer, new_staff


async def secret_page(request: Request) -> Response:
    customer = getattr(request.state, "customer", None)
    return PlainTextResponse(f"secret of {customer.email if customer else 'nobody'}")


@roles_required("admin")
async def admin_only(request: Request) -> Response:
    return PlainTextResponse("admin only")


class MountingPlugin:
    @hookimpl
    def web_routes(self, ctx: Any, section: str) -> list[Any]:
        if section == "client":
            inner = Mount("/deeper", routes=[Route("/page", secret_page, methods=["GET", "POST"])])
            return [
                Mount(
                    "/extra", routes=[Route("/secret", secret_page, methods=["GET", "POST"]), inner]
                )
            ]
        if section == "admin":
            return [Mount("/extra", routes=[Route("/boss", admin_only)])]
        return []


class AppMountingPlugin:
    @hookimpl
    def web_routes(self, ctx: Any, section: str) -> list[Any]:
        async def raw_app(scope: Any, receive: Any, send: Any) -> None:
            await PlainTextResponse("unguarded")(scope, receive, send)

        return [Mount("/raw", app=raw_app)] if section == "client" else []


def test_routes_in_a_plugin_mount_are_guarded(site_factory: Callable[..., Site]) -> None:
    site = site_factory(extra=[("mounter", MountingPlugin())])
    customer = new_customer(site.ctx)
    support = new_staff(site.ctx, "support")
    with site.client() as anonymous:
        for path in ("/client/extra/secret", "/client/extra/deeper/page"):
            answer = anonymous.get(path)
            assert answer.status_code == 303 and answer.headers["location"].startswith(
                "/client/login"
            )
    cookies = logged_in_cookies(site.ctx, customer=customer, staff=support)
    with httpx.Client(base_url=site.url, cookies=cookies) as logged_in:
        page = logged_in.get("/client/extra/deeper/page")
        assert page.status_code == 200 and customer.email in page.text
        assert page.headers["cache-control"] == "no-store"
        assert logged_in.post("/client/extra/secret", data={}).status_code == 403  # no CSRF
        ok = logged_in.post("/client/extra/secret", data={"csrf_token": "test-csrf-token"})
        assert ok.status_code == 200
        assert logged_in.get("/admin/extra/boss").status_code == 403  # support is not admin


def test_an_unguardable_mount_stops_start_up_naming_the_plugin(
    make_context: Callable[..., Context],
) -> None:
    ctx = make_context(extra=[("rawmount", AppMountingPlugin())])
    with pytest.raises(PluginError, match="plugin 'rawmount'.*Mount '/raw'.*cannot be guarded"):
        create_app(ctx)
