"""Facturo plugin ``vies``: EU VAT numbers checked in VIES (``checkVatApprox``), every
consultation kept as proof, staff overrides with a written reason, and a local stand-in.

Hook implementations only; see service (checks, overrides), client and protocol (the SOAP
call), sandbox (the stand-in), views and panels (staff pages).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.routing import BaseRoute

from facturo.plugin import (
    Context,
    Customer,
    Document,
    Panel,
    PeriodicJob,
    PluginSettings,
    VatCheck,
    hookimpl,
)

#: How often unanswered checks are asked again (seconds).
RECHECK_INTERVAL = 15 * 60


@hookimpl
def settings_schema() -> PluginSettings:
    from .config import schema

    return schema()


@hookimpl
def demo_settings() -> dict[str, Any]:
    from .config import DEMO_SETTINGS

    return {"plugin": "vies", "settings": dict(DEMO_SETTINGS)}


@hookimpl
def check_vat_number(
    ctx: Context, session: Session | None, country: str, number: str
) -> VatCheck | None:
    from .service import check

    return check(session, ctx, country, number)


@hookimpl
def web_routes(ctx: Context, section: str) -> list[BaseRoute]:
    from . import views

    if section == "public":
        return views.public_routes(ctx)
    if section == "admin":
        return views.admin_routes()
    return []


@hookimpl
def admin_customer_panels(ctx: Context, session: Session, customer: Customer) -> list[Panel]:
    from .panels import customer_panel

    panel = customer_panel(ctx, session, customer)
    return [panel] if panel is not None else []


@hookimpl
def admin_document_panels(ctx: Context, session: Session, document: Document) -> list[Panel]:
    from .panels import document_panel

    panel = document_panel(ctx, session, document)
    return [panel] if panel is not None else []


@hookimpl
def periodic_jobs() -> list[PeriodicJob]:
    from facturo.plugin import recheck_pending

    return [
        PeriodicJob(
            "vies-recheck",
            RECHECK_INTERVAL,
            recheck_pending,
            label={"es": "Nuevas consultas VIES", "en": "VIES re-checks"},
        )
    ]
