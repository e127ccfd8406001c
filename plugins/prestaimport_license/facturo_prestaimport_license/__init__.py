"""Facturo plugin ``prestaimport_license``: shop licences with per-supplier add-ons, a signed
validation API and offline leases (see README.md and licensing.md §6)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session
from starlette.routing import BaseRoute

from facturo.plugin import (
    Context,
    Customer,
    Document,
    MenuItem,
    Panel,
    PeriodicJob,
    PluginSettings,
    RowReader,
    SearchHit,
    Service,
    StaffUser,
    hookimpl,
)

PLUGIN = "prestaimport_license"


@hookimpl
def settings_schema() -> PluginSettings:
    from .settings import schema

    return schema()


@hookimpl
def demo_settings() -> dict[str, Any]:
    from .settings import demo_settings as settings

    return settings()


@hookimpl
def provision_product(
    ctx: Context,
    session: Session,
    service: Service,
    action: str,
    line_id: int | None,
    period_start: date | None,
    period_end: date | None,
) -> dict[str, Any] | None:
    if service.product.provisioner != PLUGIN:
        return None
    from .service import PaidPeriod, provision

    paid = PaidPeriod(line_id, period_start, period_end) if period_end is not None else None
    return provision(ctx, session, service, action, paid)


@hookimpl
def web_routes(section: str) -> list[BaseRoute]:
    from .downloads import views as downloads

    if section == "api":
        from .api import api_routes

        return list(api_routes())
    if section == "client":
        from .views import client_routes

        return [*downloads.client_routes(), *client_routes()]
    if section == "admin":
        from .admin import admin_routes

        return [*downloads.admin_routes(), *admin_routes()]
    if section == "public":
        from .offer_views import offer_routes

        return [*downloads.public_routes(), *offer_routes()]
    return []


@hookimpl
def client_menu_items(customer: Customer) -> list[MenuItem]:
    return [MenuItem(label={"es": "Licencias", "en": "Licences"}, url="/client/licences", order=30)]


@hookimpl
def client_dashboard_panels(
    ctx: Context, session: Session, customer: Customer, language: str
) -> list[Panel]:
    from facturo.plugin import SessionReader

    from .dashboard import licence_summary, summary_panel

    lines = licence_summary(ctx, SessionReader(session), customer.id, language)
    panel = summary_panel(lines, language)
    return [panel] if panel is not None else []


@hookimpl
def client_dashboard_panel_key(
    ctx: Context, reader: RowReader, customer_id: int, language: str
) -> object:
    from .dashboard import licence_summary

    return licence_summary(ctx, reader, customer_id, language)


@hookimpl
def web_process_stopping(ctx: Context) -> None:
    """Write the validation-log rows still buffered in this web process."""
    from .validation_log import flush_on_stop

    flush_on_stop(ctx)


@hookimpl
def client_document_panels(
    ctx: Context, session: Session, document: Document, language: str
) -> list[Panel]:
    from .thanks import licence_panels

    return licence_panels(ctx, session, document, language)


@hookimpl
def admin_menu_items(staff: StaffUser) -> list[MenuItem]:
    return [
        MenuItem(
            label={"es": "Licencias", "en": "Licences"},
            url="/admin/licences",
            group="customers",
            order=40,
            roles=("admin", "support", "billing"),
        )
    ]


@hookimpl
def admin_customer_panels(
    ctx: Context, session: Session, customer: Customer, language: str
) -> list[Panel]:
    from .admin import customer_panel

    panel = customer_panel(ctx, session, customer, language)
    return [panel] if panel is not None else []


@hookimpl
def customer_search(ctx: Context, session: Session, query: str) -> list[SearchHit]:
    from .service import find_by_key, licence_name

    licence = find_by_key(session, ctx, query)
    if licence is None:
        return []
    label = f"Licence {licence_name(session, licence, 'en')} (lic_{licence.id})"
    return [SearchHit(customer_id=licence.customer_id, label=label)]


@hookimpl
def demo_seed(ctx: Context, session: Session, customer: Customer) -> None:
    from .demo import seed

    seed(ctx, session, customer)


@hookimpl
def periodic_jobs() -> list[PeriodicJob]:
    from .log_retention import prune_validation_log

    return [
        PeriodicJob(
            name="licence_log_retention",
            interval_seconds=6 * 3600,
            run=prune_validation_log,
            label={
                "es": "Limpieza del registro de validaciones",
                "en": "Validation log clean-up",
            },
        )
    ]
