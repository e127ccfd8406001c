"""Facturo plugin ``paypal``: PayPal Checkout (Orders v2) with verified webhooks, legacy IPN,
refunds from the staff area and a local sandbox for the demo and the tests."""

from __future__ import annotations

from decimal import Decimal
from html import escape
from typing import Any

from sqlalchemy.orm import Session
from starlette.routing import BaseRoute

from facturo.plugin import (
    Context,
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

TITLE = {"es": "PayPal", "en": "PayPal"}


@hookimpl
def settings_schema() -> PluginSettings:
    from .settings import schema

    return schema()


@hookimpl
def demo_settings() -> dict[str, Any]:
    from .settings import DEMO

    return {"plugin": "paypal", "settings": dict(DEMO)}


@hookimpl
def payment_methods() -> list[PaymentMethod]:
    return [PaymentMethod("paypal", dict(TITLE), online=True, supports_refunds=True)]


@hookimpl
def invoice_payment_options(ctx: Context, document: Document, language: str) -> list[PaymentOption]:
    if not document.is_payable:
        return []
    _ = ctx.translations(language).gettext
    url = f"/client/paypal/pay/{document.id}"
    html = (
        f"<p>{escape(_('Pay now with your PayPal account or a card through PayPal.'))}</p>"
        f'<p><a class="button" href="{escape(url)}">{escape(_("Pay with PayPal"))}</a></p>'
    )
    pdf_html = "<p>{}</p>".format(
        escape(
            _("You can pay this document by PayPal at %(url)s")
            % {"url": ctx.url(f"/client/documents/{document.id}")}
        )
    )
    return [
        PaymentOption(
            gateway="paypal", title=dict(TITLE), html=html, pdf_html=pdf_html, pay_url=url, order=30
        )
    ]


@hookimpl
def form_action_hosts(ctx: Context) -> list[str]:
    """The pay form is answered with a redirect to PayPal's approval page: allow its origin in
    the CSP (the local sandbox is this site itself)."""
    from .gateway import PAYPAL

    return PAYPAL.form_action_hosts(ctx)


@hookimpl
def web_routes(ctx: Context, section: str) -> list[BaseRoute]:
    from . import views

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
            label={"es": "Avisos de PayPal", "en": "PayPal notifications"},
            url="/admin/notifications?gateway=paypal",
            group="sales",
            order=65,
            roles=("admin", "billing"),
        )
    ]


@hookimpl
def refund_payment(
    ctx: Context, session: Session, payment: Payment, amount: Decimal
) -> RefundResult | None:
    if payment.gateway != "paypal":
        return None
    from .gateway import PAYPAL

    return PAYPAL.refund(ctx, session, payment, amount)


@hookimpl
def payment_gateways(ctx: Context) -> list[Gateway]:
    from .gateway import PAYPAL

    return [PAYPAL]
