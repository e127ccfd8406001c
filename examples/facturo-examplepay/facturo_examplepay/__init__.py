"""Facturo plugin ``examplepay``: an example payment gateway with its own local sandbox.

Hook implementations only: the gateway is in ``gateway``, the web handlers in ``views``,
the stand-in for the real service in ``sandbox``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session
from starlette.routing import BaseRoute

from facturo.plugin import (
    Context,
    Document,
    Gateway,
    Payment,
    PaymentMethod,
    PaymentOption,
    PluginSettings,
    RefundResult,
    hookimpl,
)

from . import gateway, views


# region: hooks
@hookimpl
def settings_schema() -> PluginSettings:
    return gateway.settings_schema()


@hookimpl
def demo_settings() -> dict[str, Any]:
    return {"plugin": "examplepay", "settings": {"secret": "demo-secret", "sandbox": True}}


@hookimpl
def payment_gateways(ctx: Context) -> list[Gateway]:
    return [gateway.GATEWAY]


@hookimpl
def payment_methods() -> list[PaymentMethod]:
    label = {"es": "ExamplePay", "en": "ExamplePay"}
    return [PaymentMethod("examplepay", label, online=True, supports_refunds=True)]


@hookimpl
def invoice_payment_options(ctx: Context, document: Document, language: str) -> list[PaymentOption]:
    if document.kind != "proforma" or document.status != "unpaid" or document.balance <= 0:
        return []
    url = f"/client/examplepay/pay/{document.id}"
    text = ctx.translations(language).gettext("Pay online with ExamplePay.")
    html = f'<p><a class="button" href="{url}">{text}</a></p>'
    return [
        PaymentOption("examplepay", {"es": "ExamplePay", "en": "ExamplePay"}, html, pay_url=url)
    ]


@hookimpl
def web_routes(ctx: Context, section: str) -> list[BaseRoute]:
    return views.routes(ctx, section)


@hookimpl
def form_action_hosts(ctx: Context) -> list[str]:
    return gateway.GATEWAY.form_action_hosts(ctx)


@hookimpl
def refund_payment(
    ctx: Context, session: Session, payment: Payment, amount: Decimal
) -> RefundResult | None:
    if payment.gateway != "examplepay":
        return None  # another gateway's payment
    return gateway.GATEWAY.refund(ctx, session, payment, amount)


# endregion
