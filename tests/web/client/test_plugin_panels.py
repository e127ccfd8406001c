"""Plugins add dashboard panels and menu links to the client area."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from facturo.contributions import MenuItem, Panel
from facturo.plugin import hookimpl
from tests.web.client.conftest import Site, logged_in, make_customer


class Contributor:
    @hookimpl
    def client_dashboard_panels(
        self, ctx: Any, session: Any, customer: Any, language: str
    ) -> list[Panel]:
        return [
            Panel(
                title={"en": "Your licences", "es": "Tus licencias"},
                html=f"<p class='licences'>{customer.id}-{language}</p>",
            )
        ]

    @hookimpl
    def client_menu_items(self, ctx: Any, customer: Any) -> list[MenuItem]:
        return [MenuItem(label={"en": "Tickets", "es": "Tickets"}, url="/client/tickets-x")]


def test_dashboard_shows_plugin_panels_and_menu(site_factory: Callable[..., Site]) -> None:
    site = site_factory(extra=[("contributor", Contributor())])
    customer = make_customer(site.ctx, language="en")
    page = logged_in(site, customer).get("/client/").text
    assert "Your licences" in page and f"<p class='licences'>{customer.id}-en</p>" in page
    assert 'href="/client/tickets-x"' in page
