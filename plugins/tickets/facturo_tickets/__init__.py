"""Facturo plugin `tickets`: support tickets with departments, priorities, a staff queue and
email intake. Hook implementations only; the logic lives in the modules they import."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy.orm import Session
from starlette.routing import BaseRoute

from facturo.plugin import (
    Context,
    Customer,
    MenuItem,
    Panel,
    PeriodicJob,
    PluginSettings,
    RowReader,
    SearchHit,
    StaffUser,
    hookimpl,
)


@hookimpl
def settings_schema(ctx: Context) -> PluginSettings:
    from .settings import schema

    return schema(ctx)


@hookimpl
def demo_settings() -> dict[str, Any]:
    from .settings import demo

    return demo()


@hookimpl
def web_routes(ctx: Context, section: str) -> list[BaseRoute]:
    if section == "client":
        from .client_views import client_routes

        return client_routes()
    if section == "admin":
        from .admin_views import admin_routes

        return admin_routes()
    return []


@hookimpl
def client_menu_items() -> list[MenuItem]:
    return [MenuItem(label={"es": "Soporte", "en": "Support"}, url="/client/tickets", order=60)]


@hookimpl
def client_dashboard_panels(
    ctx: Context, session: Session, customer: Customer, language: str
) -> list[Panel]:
    from .panels import client_panel

    return [client_panel(ctx, session, customer, language)]


@hookimpl
def client_dashboard_panel_key(reader: RowReader, customer_id: int) -> object:
    from .panels import open_tickets

    return open_tickets(reader, customer_id)


@hookimpl
def admin_menu_items(staff: StaffUser) -> list[MenuItem]:
    return [
        MenuItem(
            label={"es": "Tickets", "en": "Tickets"},
            url="/admin/tickets",
            order=40,
            group="support",
        ),
    ]


@hookimpl
def admin_customer_panels(
    ctx: Context, session: Session, customer: Customer, language: str
) -> list[Panel]:
    from .panels import admin_customer_panel

    return [admin_customer_panel(ctx, session, customer, language)]


@hookimpl
def admin_dashboard_panels(
    ctx: Context, session: Session, staff: StaffUser, language: str
) -> list[Panel]:
    from .panels import admin_dashboard_panel

    return [admin_dashboard_panel(session, staff, language)]


@hookimpl
def customer_search(ctx: Context, session: Session, query: str) -> list[SearchHit]:
    from .panels import search

    return search(session, query)


@hookimpl
def periodic_jobs(ctx: Context) -> list[PeriodicJob]:
    from .autoclose import run_autoclose
    from .imap import run_imap_poll
    from .settings import config

    jobs = [
        PeriodicJob(
            name="tickets_autoclose",
            interval_seconds=3600,
            run=run_autoclose,
            label={"es": "Cierre automático de tickets", "en": "Ticket auto-close"},
        )
    ]
    cfg = config(ctx)
    if cfg.imap_enabled and cfg.imap_accounts:
        jobs.append(
            PeriodicJob(
                name="tickets_imap_poll",
                label={"es": "Lectura de los buzones de soporte", "en": "Support mailbox check"},
                interval_seconds=cfg.imap_interval_seconds,
                run=run_imap_poll,
            )
        )
    return jobs


@hookimpl
def cli_commands() -> list[click.Command]:
    from .cli import tickets

    return [tickets]


@hookimpl
def demo_seed(ctx: Context, session: Session, customer: Customer) -> None:
    from .demo import seed

    seed(ctx, session, customer)
