"""The client section's core routes, gathered from one module per concern."""

from __future__ import annotations

from starlette.routing import BaseRoute

from facturo.web import (
    client_account,
    client_auth,
    client_catalog,
    client_checkout,
    client_dashboard,
    client_documents,
    client_impersonation,
    client_payments,
    client_pricing,
    client_security,
    client_services,
    client_two_factor,
    client_withdrawal,
)


def routes() -> list[BaseRoute]:
    """The core's routes of the client section."""
    routes: list[BaseRoute] = []
    for module in (
        client_dashboard,
        client_auth,
        client_two_factor,
        client_account,
        client_security,
        client_catalog,
        client_checkout,
        client_pricing,
        client_documents,
        client_payments,
        client_services,
        client_withdrawal,
        client_impersonation,
    ):
        routes.extend(module.routes())
    return routes
