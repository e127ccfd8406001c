"""Facturo plugin ``ruralvia``: card payments through the Ruralvía virtual POS (Redsys).

Hook implementations only; see config (settings), service (payments, notifications,
refunds), views (web) and sandbox (the local stand-in for Redsys).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session
from starlette.routing import BaseRoute

from facturo.plugin import (
    CollectionResult,
    Context,
    Customer,
    Document,
    Gateway,
    MenuItem,
    Payment,
    PaymentMethod,
    PaymentOption,
    PluginSettings,
    RefundResult,
    StaffUser,
    hookimpl,
)


@hookimpl
def settings_schema() -> PluginSettings:
    from facturo_ruralvia.config import schema

    return schema()


@hookimpl
def demo_settings() -> dict[str, Any]:
    from facturo_ruralvia.config import DEMO_SETTINGS

    return {"plugin": "ruralvia", "settings": dict(DEMO_SETTINGS)}


@hookimpl
def payment_methods() -> list[PaymentMethod]:
    return [
        PaymentMethod(
            "ruralvia",
            {"es": "Tarjeta (Ruralvía)", "en": "Card (Ruralvía)"},
            online=True,
            supports_refunds=True,
        )
    ]


@hookimpl
def invoice_payment_options(ctx: Context, document: Document, language: str) -> list[PaymentOption]:
    from facturo_ruralvia.options import payment_option

    if not document.is_payable:
        return []
    return [payment_option(ctx, document, language)]


@hookimpl
def form_action_hosts(ctx: Context) -> list[str]:
    """The card form posts to the Redsys payment page: allow its origin in the CSP."""
    from facturo_ruralvia.gateway import GATEWAY

    return GATEWAY.form_action_hosts(ctx)


@hookimpl
def payment_gateways(ctx: Context) -> list[Gateway]:
    from facturo_ruralvia.gateway import GATEWAY

    return [GATEWAY]


@hookimpl
def web_routes(ctx: Context, section: str) -> list[BaseRoute]:
    from facturo_ruralvia import views

    if section == "client":
        return views.client_routes()
    if section == "public":
        return views.public_routes(ctx)
    if section == "admin":
        return views.admin_routes()
    return []


@hookimpl
def admin_menu_items(staff: StaffUser) -> list[MenuItem]:
    return [
        MenuItem(
            label={"es": "Avisos de pago con tarjeta", "en": "Card payment notices"},
            url="/admin/notifications?gateway=ruralvia",
            group="sales",
            order=62,
            roles=("admin", "billing"),
        )
    ]


@hookimpl
def client_menu_items(customer: Customer) -> list[MenuItem]:
    return [
        MenuItem(
            label={"es": "Tarjetas guardadas", "en": "Saved cards"},
            url="/client/ruralvia/cards",
            order=55,
        )
    ]


@hookimpl
def collect_renewal(
    ctx: Context, document_id: int, attempt: int, charged_on: date
) -> CollectionResult | None:
    """Charge a renewal to the customer's saved card (merchant-initiated, REST)."""
    from facturo_ruralvia.collect import collect_renewal as collect

    return collect(ctx, document_id, attempt, charged_on)


@hookimpl
def refund_payment(
    ctx: Context, session: Session, payment: Payment, amount: Decimal
) -> RefundResult | None:
    if payment.gateway != "ruralvia":
        return None
    from facturo_ruralvia.gateway import GATEWAY

    return GATEWAY.refund(ctx, session, payment, amount)
