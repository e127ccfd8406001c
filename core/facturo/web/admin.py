"""The admin section's core routes, one module per concern."""

from __future__ import annotations

from starlette.routing import BaseRoute

from facturo.web import (
    admin_account,
    admin_auth,
    admin_bulk,
    admin_catalog,
    admin_customers,
    admin_dashboard,
    admin_documents,
    admin_notifications,
    admin_payments,
    admin_plugins,
    admin_reports,
    admin_staff,
)


def routes() -> list[BaseRoute]:
    """The core's routes of the admin section."""
    found: list[BaseRoute] = []
    for module in (
        admin_auth,
        admin_account,
        admin_dashboard,
        admin_customers,
        admin_catalog,
        admin_bulk,
        admin_documents,
        admin_payments,
        admin_notifications,
        admin_reports,
        admin_plugins,
        admin_staff,
    ):
        found.extend(module.routes())
    return found
