"""Facturo plugin ``verifactu``: VERI*FACTU registration records chained with SHA-256 on every
invoice and credit note, the tax QR on the invoice, and submission to the AEAT."""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

import click
from sqlalchemy.orm import Session
from starlette.routing import BaseRoute

from facturo.plugin import (
    Context,
    Document,
    MenuItem,
    PeriodicJob,
    PluginSettings,
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
def on_document_issued(ctx: Context, session: Session, document: Document) -> None:
    """Append the registro de alta of every issued invoice and credit note to the chain."""
    if document.kind not in ("invoice", "credit_note") or document.number is None:
        return
    from .chain import append_alta

    append_alta(ctx, session, document)


@hookimpl
def invoice_extras(ctx: Context, document: Document, fmt: str) -> list[str]:
    from .qr import qr_block

    return qr_block(ctx, document, fmt)


@hookimpl
def periodic_jobs(ctx: Context) -> list[PeriodicJob]:
    from .reconcile import run_job as reconcile
    from .submit import run_job as send

    return [
        PeriodicJob(
            name="verifactu_send",
            interval_seconds=60,
            run=send,
            label={"es": "Envío de registros VERI*FACTU", "en": "VERI*FACTU record sending"},
        ),
        PeriodicJob(
            name="verifactu_reconcile",
            interval_seconds=24 * 3600,
            run=reconcile,
            label={"es": "Conciliación con la AEAT", "en": "Reconciliation with the AEAT"},
        ),
    ]


@hookimpl
def web_routes(ctx: Context, section: str) -> list[BaseRoute]:
    if section == "admin":
        from .views import admin_routes

        return list(admin_routes())
    if section == "public":
        from .settings import STANDIN_PATH, config
        from .standin import StandIn

        if config(ctx).uses_standin:
            standin = StandIn(today=ctx.today)
            MOUNTED_STANDINS[ctx] = standin
            return list(standin.routes(STANDIN_PATH))
    return []


#: The stand-in each Context mounted (endpoint_url = "local"), for the demo and the tests.
MOUNTED_STANDINS: WeakKeyDictionary[Context, Any] = WeakKeyDictionary()


@hookimpl
def footer_links(ctx: Context, section: str) -> list[MenuItem]:
    """The declaración responsable, reachable from every staff page (Orden art. 15.3)."""
    if section != "admin":
        return []
    return [
        MenuItem(
            label={"es": "Declaración responsable", "en": "Declaración responsable (VERI*FACTU)"},
            url="/admin/verifactu/declaration",
            order=90,
        )
    ]


@hookimpl
def admin_menu_items(staff: StaffUser) -> list[MenuItem]:
    return [
        MenuItem(
            label={"es": "VERI*FACTU", "en": "VERI*FACTU"},
            url="/admin/verifactu",
            group="taxes",
            order=70,
            roles=("admin", "billing"),
        )
    ]


@hookimpl
def cli_commands() -> list[click.Command]:
    from .cli import verifactu

    return [verifactu]
