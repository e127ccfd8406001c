"""The catalog with prices as they will be billed to this customer, and ordering."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from facturo.billing.consent import checkout_consent, is_consumer
from facturo.billing.errors import BillingError
from facturo.billing.orders import OrderError, place_order
from facturo.billing.taxes import TaxTreatment, tax_amount
from facturo.billing.vat import customer_treatment
from facturo.models import Customer, Product, ProductPrice
from facturo.web.client_common import ctx_of, me, read_form, unverified_refusal
from facturo.web.order_messages import order_refusal
from facturo.web.rendering import flash, gettext_for, render, request_language


@dataclass(frozen=True)
class Offer:
    """One price of a product as the customer will pay it."""

    price: ProductPrice
    net: Decimal
    gross: Decimal


def offers(product: Product, currency: str, treatment: TaxTreatment) -> list[Offer]:
    """The product's prices in ``currency`` with tax as ``treatment`` applies it."""
    return [
        Offer(price, price.amount, price.amount + tax_amount(price.amount, treatment.rate))
        for price in sorted(product.prices, key=lambda p: p.months)
        if price.currency == currency
    ]


def sellable(session: Session) -> list[Product]:
    """Main products on sale, with their prices and add-ons loaded."""
    query = (
        select(Product)
        .where(Product.parent_id.is_(None), Product.retired.is_(False))
        .options(selectinload(Product.prices), selectinload(Product.addons))
        .order_by(Product.position, Product.id)
    )
    return list(session.scalars(query))


def catalog_values(ctx: Any, session: Session, customer: Customer) -> dict[str, Any]:
    """What the catalog page shows to ``customer``."""
    treatment = customer_treatment(ctx, customer, ctx.today())
    currency = ctx.settings.currency
    items = []
    for product in sellable(session):
        addons = [
            {"product": addon, "offers": offers(addon, currency, treatment)}
            for addon in sorted(product.addons, key=lambda a: (a.position, a.id))
            if not addon.retired
        ]
        items.append(
            {"product": product, "offers": offers(product, currency, treatment), "addons": addons}
        )
    consumer = is_consumer(customer, treatment.code)
    return {"items": items, "treatment": treatment, "currency": currency, "consumer": consumer}


def catalog(request: Request) -> Response:
    """Products, cycles, prices with this customer's tax, add-ons; the order form."""
    ctx = ctx_of(request)
    with ctx.db.read_session() as session:
        fresh = session.get(Customer, me(request).id)
        assert fresh is not None
        return render(request, "client/catalog.html", catalog_values(ctx, session, fresh))


def order(request: Request) -> Response:
    """Place an order (product, cycle, add-ons, label) and land on its proforma's page."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    customer = me(request)
    form = read_form(request)
    if not customer.is_verified:
        with ctx.db.read_session() as session:
            refusal = unverified_refusal(
                request, "client/catalog.html", catalog_values(ctx, session, customer)
            )
            assert refusal is not None
            return refusal
    try:
        with ctx.db.transaction() as session:
            fresh = session.get(Customer, customer.id)
            assert fresh is not None
            product = product_of(session, form.get("product"))
            cycle = str(form.get("cycle") or "")
            addons = []
            for raw in addon_choices(form, product.id):
                addon_id, _sep, addon_cycle = raw.partition(":")
                addons.append((product_of(session, addon_id), addon_cycle))
            label = str(form.get("label") or "").strip()[:200]
            consent = checkout_consent(ctx, fresh, form.get("immediate_supply") == "yes")
            _services, document = place_order(
                session, ctx, fresh, product, cycle, addons, label=label, consent=consent
            )
            document_id = document.id
    except (BillingError, ValueError) as exc:
        reason = (
            order_refusal(exc, _, request_language(request))
            if isinstance(exc, OrderError)
            else None
        )
        with ctx.db.read_session() as session:
            values = catalog_values(ctx, session, customer)
            values["error"] = reason or _(
                "This order cannot be placed. Choose a product and a cycle from the list."
            )
            return render(request, "client/catalog.html", values, 400)
    flash(request, _("Your order has been placed. Pay it to activate your services."), "ok")
    return RedirectResponse(f"/client/documents/{document_id}", status_code=303)


def addon_choices(form: Any, product_id: int) -> list[str]:
    """The add-ons chosen for ``product_id`` as ``"<addon id>:<cycle>"``: one radio group per
    supplier (``addon_<product>_<addon>``, empty value = none) and the older list field
    ``addon_<product>``; duplicates are kept so that the order can refuse them."""
    chosen = [str(raw) for raw in form.getlist(f"addon_{product_id}")]
    prefix = f"addon_{product_id}_"
    for name in form.keys():
        if str(name).startswith(prefix):
            chosen.extend(str(raw) for raw in form.getlist(name))
    return [raw for raw in chosen if raw.strip()]


def product_of(session: Session, raw: Any) -> Product:
    """The product whose id is ``raw``; ValueError when there is none."""
    try:
        product_id = int(str(raw))
    except (TypeError, ValueError):
        product_id = 0
    # ids beyond a database integer are no product (SQLite/PostgreSQL would raise)
    product = session.get(Product, product_id) if 0 < product_id < 2**31 else None
    if product is None:
        raise ValueError("no such product")
    return product


def routes() -> list[Route]:
    """Catalog and ordering routes of the client section."""
    return [
        Route("/catalog", catalog, methods=["GET"]),
        Route("/order", order, methods=["POST"]),
    ]
