"""Facturo plugin ``sepa``: SEPA direct debit for business customers.

Mandates signed in the client area, a pre-notification email before each collection,
pain.008 collection files for staff to upload to the bank (built and validated by sepaxml),
and returned debits read from the bank statements the transfer plugin imports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from starlette.routing import BaseRoute

from facturo.plugin import (
    BankStatementEntry,
    Context,
    Customer,
    Document,
    MenuItem,
    Panel,
    PaymentMethod,
    PaymentOption,
    PeriodicJob,
    PluginSettings,
    hookimpl,
)

from . import settings as _settings

HERE = Path(__file__).resolve().parent


@hookimpl
def settings_schema() -> PluginSettings:
    return _settings.settings_schema()


@hookimpl
def demo_settings() -> dict[str, Any]:
    return _settings.demo_table()


@hookimpl
def test_settings() -> dict[str, Any]:
    return _settings.demo_table()


@hookimpl
def db_migrations() -> list[Path]:
    return [HERE / "migrations"]


@hookimpl
def template_dirs() -> list[Path]:
    return [HERE / "templates"]


@hookimpl
def locale_dirs() -> list[Path]:
    return [HERE / "locale"]


@hookimpl
def payment_methods() -> list[PaymentMethod]:
    label = {"es": "Adeudo directo SEPA", "en": "SEPA direct debit"}
    return [PaymentMethod("sepa", label, online=False)]


@hookimpl
def invoice_payment_options(ctx: Context, document: Document, language: str) -> list[PaymentOption]:
    from .panels import payment_option

    if not document.is_payable:
        return []
    option = payment_option(ctx, document, language)
    return [option] if option is not None else []


@hookimpl
def web_routes(section: str) -> list[BaseRoute]:
    from .views import admin_routes, client_routes

    if section == "client":
        return client_routes()
    if section == "admin":
        return admin_routes()
    return []


@hookimpl
def client_menu_items(customer: Customer) -> list[MenuItem]:
    from .mandates import is_business

    if not is_business(customer):
        return []
    label = {"es": "Domiciliación SEPA", "en": "SEPA direct debit"}
    return [MenuItem(label=label, url="/client/sepa/mandates", order=45)]


@hookimpl
def admin_menu_items() -> list[MenuItem]:
    return [
        MenuItem(
            label={"es": "Remesas SEPA", "en": "SEPA collections"},
            url="/admin/sepa/collections",
            group="sales",
            order=65,
            roles=("admin", "billing"),
        )
    ]


@hookimpl
def admin_customer_panels(
    ctx: Context, session: Session, customer: Customer, language: str
) -> list[Panel]:
    from .panels import customer_panel

    return [customer_panel(ctx, session, customer, language)]


@hookimpl
def periodic_jobs() -> list[PeriodicJob]:
    return [
        PeriodicJob(
            name="sepa_prenotify",
            interval_seconds=3600,
            run=_run_prenotify,
            label={"es": "Preavisos de adeudo SEPA", "en": "SEPA debit pre-notifications"},
        )
    ]


def _run_prenotify(ctx: Context) -> int:
    from .collections import prenotify

    with ctx.db.transaction() as session:
        return prenotify(session, ctx)


@hookimpl
def on_bank_statement_imported(
    ctx: Context, session: Session, entries: list[BankStatementEntry]
) -> None:
    from .returns import apply_returns

    apply_returns(session, ctx, entries)


@hookimpl
def demo_seed(ctx: Context, session: Session, customer: Customer) -> None:
    from .mandates import is_business, sign_mandate

    if is_business(customer):
        form = {
            "debtor_name": customer.company,
            "iban": "ES79 2100 0813 6101 2345 6789",
            "scheme": "CORE",
            "accept": "yes",
        }
        sign_mandate(session, ctx, customer, form)
