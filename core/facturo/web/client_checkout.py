"""The short way to a paid order: review the bill, then one click places it and goes to the bank.

``/client/order/review`` shows the lines, tax, total and the one billing period the order
would have (the figures come from :func:`facturo.billing.order_review.review_order`, i.e. from
the function that places orders); ``/client/order/pay`` places the order and asks the chosen
gateway to start the payment (:meth:`facturo.gateways.protocol.Gateway.start_payment`): the
browser goes straight to the bank's page, with no page of ours in between to click through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from facturo.billing.consent import checkout_consent, is_consumer
from facturo.billing.errors import BillingError
from facturo.billing.order_review import OrderReview, review_order
from facturo.billing.orders import OrderError, place_order
from facturo.billing.vat import customer_treatment
from facturo.context import Context
from facturo.gateways.methods import enabled_methods
from facturo.gateways.protocol import BaseGateway, Gateway
from facturo.gateways.reconcile import gateways_of
from facturo.models import Customer, Document, Product
from facturo.web.client_catalog import addon_choices, catalog_values, product_of
from facturo.web.client_common import ctx_of, me, read_form, unverified_refusal
from facturo.web.order_messages import order_refusal
from facturo.web.rendering import flash, gettext_for, render, request_language


class OnePeriodError(OrderError):
    """An add-on was chosen with a billing cycle other than the licence's."""


@dataclass(frozen=True)
class Choices:
    """What the customer chose in the catalog form."""

    product: Product
    cycle: str
    addons: tuple[tuple[Product, str], ...]
    label: str
    immediate_supply: bool

    def fields(self) -> list[tuple[str, str]]:
        """The choices as the hidden fields that carry them to the next step."""
        pid = self.product.id
        fields = [("product", str(pid)), ("cycle", self.cycle), ("label", self.label)]
        fields += [(f"addon_{pid}_{addon.id}", f"{addon.id}:{cyc}") for addon, cyc in self.addons]
        if self.immediate_supply:
            fields.append(("immediate_supply", "yes"))
        return fields


@dataclass(frozen=True)
class PayButton:
    """A gateway that can start a payment from the order review, with its label."""

    gateway: str
    label: str


def read_choices(session: Session, form: FormData) -> Choices:
    """The product, cycle and add-ons named by ``form``; every add-on is billed for the
    product's cycle (an add-on named without one takes it; another one is refused)."""
    product = product_of(session, form.get("product"))
    cycle = str(form.get("cycle") or "")
    addons = []
    for raw in addon_choices(form, product.id):
        addon_id, _sep, addon_cycle = raw.partition(":")
        if addon_cycle and addon_cycle != cycle:
            raise OnePeriodError(f"add-on cycle {addon_cycle} differs from {cycle}")
        addons.append((product_of(session, addon_id), cycle))
    return Choices(
        product,
        cycle,
        tuple(addons),
        str(form.get("label") or "").strip()[:200],
        form.get("immediate_supply") == "yes",
    )


def pay_buttons(ctx: Context, language: str) -> list[PayButton]:
    """The enabled online methods whose gateway starts payments itself, in plugin order."""
    starters = {gateway.name for gateway in gateways_of(ctx) if starts_payments(gateway)}
    return [
        PayButton(m.gateway, m.label.get(language) or m.label.get("en") or m.gateway)
        for m in enabled_methods(ctx)
        if m.online and m.gateway in starters
    ]


def starts_payments(gateway: Gateway) -> bool:
    """True when ``gateway`` implements ``start_payment`` (BaseGateway's default refuses)."""
    return getattr(type(gateway), "start_payment", None) is not BaseGateway.start_payment


def _gateway(ctx: Context, name: str) -> Gateway | None:
    for gateway in gateways_of(ctx):
        if gateway.name == name and starts_payments(gateway):
            return gateway
    return None


def _refusal(request: Request, exc: Exception) -> Response:
    """The catalog again, with why the order cannot go on, as a 400."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    if isinstance(exc, OnePeriodError):
        reason: str | None = _(
            "The whole order is billed for one period: choose the licence's billing cycle for "
            "its add-ons too."
        )
    elif isinstance(exc, OrderError):
        reason = order_refusal(exc, _, request_language(request))
    else:
        reason = None
    with ctx.db.read_session() as session:
        fresh = session.get(Customer, me(request).id)
        assert fresh is not None
        values = catalog_values(ctx, session, fresh)
    values["error"] = reason or _(
        "This order cannot be placed. Choose a product and a cycle from the list."
    )
    return render(request, "client/catalog.html", values, 400)


def _unverified(request: Request) -> Response | None:
    if me(request).is_verified:
        return None
    ctx = ctx_of(request)
    with ctx.db.read_session() as session:
        return unverified_refusal(
            request, "client/catalog.html", catalog_values(ctx, session, me(request))
        )


def review(request: Request) -> Response:
    """The order's bill before it is placed, with one button per way to pay it now."""
    ctx = ctx_of(request)
    form = read_form(request)
    refusal = _unverified(request)
    if refusal is not None:
        return refusal
    try:
        with ctx.db.transaction() as session:
            customer = session.get(Customer, me(request).id)
            assert customer is not None
            choices = read_choices(session, form)
            bill = review_order(
                session,
                ctx,
                customer,
                choices.product,
                choices.cycle,
                choices.addons,
                label=choices.label,
            )
            values = _review_values(request, session, customer, choices, bill)
    except (BillingError, ValueError) as exc:
        return _refusal(request, exc)
    return render(request, "client/order_review.html", values)


def _review_values(
    request: Request, session: Session, customer: Customer, choices: Choices, bill: OrderReview
) -> dict[str, Any]:
    ctx = ctx_of(request)
    # In the review's own transaction (a VAT-number check may write its cache).
    treatment = customer_treatment(ctx, customer, ctx.today(), session)
    return {
        "bill": bill,
        "choices": choices,
        "fields": choices.fields(),
        "product_name": choices.product.name(request_language(request)),
        "buttons": pay_buttons(ctx, request_language(request)),
        "consumer": is_consumer(customer, treatment.code),
        "treatment": treatment,
    }


def pay(request: Request) -> Response:
    """Place the reviewed order and start paying it with the chosen gateway: the browser goes
    straight to the bank. If the gateway cannot start, the order stays on its proforma page."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    form = read_form(request)
    refusal = _unverified(request)
    if refusal is not None:
        return refusal
    gateway = _gateway(ctx, str(form.get("gateway") or ""))
    try:
        with ctx.db.transaction() as session:
            customer = session.get(Customer, me(request).id)
            assert customer is not None
            choices = read_choices(session, form)
            if gateway is None:
                raise ValueError("no such gateway")
            consent = checkout_consent(ctx, customer, choices.immediate_supply)
            _services, document = place_order(
                session,
                ctx,
                customer,
                choices.product,
                choices.cycle,
                choices.addons,
                label=choices.label,
                consent=consent,
            )
            document_id = document.id
    except (BillingError, ValueError) as exc:
        return _refusal(request, exc)
    return start(request, gateway, document_id)


def start(request: Request, gateway: Gateway, document_id: int) -> Response:
    """Ask ``gateway`` to start paying the document: a redirect, or its self-posting form."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    try:
        with ctx.db.transaction() as session:
            document = session.get(Document, document_id)
            assert document is not None
            if not document.is_payable:  # customer credit paid it all
                return RedirectResponse(f"/client/documents/{document_id}/status", 303)
            started = gateway.start_payment(ctx, session, document)
            reference = document.reference
    except (BillingError, ValueError, NotImplementedError):
        flash(request, _("The payment could not be started. Your order is saved: pay it here."))
        return RedirectResponse(f"/client/documents/{document_id}", status_code=303)
    if started.redirect_url:
        return RedirectResponse(started.redirect_url, status_code=303)
    return render(
        request,
        "client/pay_redirect.html",
        {"form_html": started.form_html or "", "reference": reference},
    )


def routes() -> list[Route]:
    """The order review and the place-and-pay step."""
    return [
        Route("/order/review", review, methods=["POST"]),
        Route("/order/pay", pay, methods=["POST"]),
    ]
