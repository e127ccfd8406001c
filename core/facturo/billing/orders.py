"""Ordering: a product with a cycle and any of its add-ons → pending services and one proforma."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from facturo import audit
from facturo.billing.consent import OrderConsent, checkout_consent, record_terms
from facturo.billing.cycles import period_for
from facturo.billing.documents import LineSpec, create_proforma
from facturo.billing.errors import BillingError
from facturo.models import Customer, Document, Product, Service

if TYPE_CHECKING:
    from facturo.context import Context


class OrderError(BillingError):
    """The order cannot be placed; the message says why."""


def _price(ctx: Context, product: Product, cycle: str) -> tuple[Product, str]:
    if product.retired:
        raise OrderError(f"{product.code} is no longer sold")
    price = product.price_for(cycle, ctx.settings.currency)
    if price is None:
        raise OrderError(f"{product.code} has no {cycle} price")
    return product, cycle


def _line(ctx: Context, service: Service, product: Product, language: str) -> LineSpec:
    start, end = period_for(ctx.today(), service.cycle)
    return LineSpec(
        description=product.name(language) + (f" — {service.label}" if service.label else ""),
        unit_price=service.price,
        service_id=service.id,
        action="create",
        period_start=start,
        period_end=end,
    )


def place_order(
    session: Session,
    ctx: Context,
    customer: Customer,
    product: Product,
    cycle: str,
    addons: Sequence[tuple[Product, str]] = (),
    label: str = "",
    actor: str | None = None,
    consent: OrderConsent | None = None,
) -> tuple[list[Service], Document]:
    """Create pending services for ``product`` and each (add-on, cycle), and one proforma.

    ``consent`` is the consumer's answer to the immediate-supply box (None: not asked, the
    right of withdrawal applies); it is recorded with the order and repeated in its email."""
    if customer.disabled:
        raise OrderError("this account is disabled")
    if not customer.is_verified:
        raise OrderError("verify your email address before ordering")
    if product.parent_id is not None:
        raise OrderError(f"{product.code} is an add-on; order it for an existing service")
    _price(ctx, product, cycle)
    main = _new_service(ctx, customer, product, cycle, None, label)
    session.add(main)
    session.flush()
    services = [main]
    for addon, addon_cycle in addons:
        if addon.parent_id != product.id:
            raise OrderError(f"{addon.code} is not an add-on of {product.code}")
        _price(ctx, addon, addon_cycle)
        service = _new_service(ctx, customer, addon, addon_cycle, main.id, "")
        session.add(service)
        services.append(service)
    session.flush()
    lines = [_line(ctx, s, s.product, customer.language) for s in services]
    consent = consent or checkout_consent(ctx, customer, ticked=False)
    document = create_proforma(
        session,
        ctx,
        customer,
        lines,
        actor=actor or f"customer:{customer.id}",
        email_extra=consent.email_values(ctx.settings.legal.withdrawal_days),
    )
    record_terms(session, ctx, document, customer, consent)
    audit.record(
        session,
        actor or f"customer:{customer.id}",
        "order.place",
        document,
        after={"services": [s.id for s in services]},
    )
    return services, document


def order_addon(
    session: Session,
    ctx: Context,
    customer: Customer,
    parent: Service,
    addon: Product,
    cycle: str,
    label: str = "",
    actor: str | None = None,
    consent: OrderConsent | None = None,
) -> tuple[Service, Document]:
    """Order ``addon`` for the customer's existing ``parent`` service: its own service and bill
    (``consent`` as in :func:`place_order`)."""
    if parent.customer_id != customer.id:
        raise OrderError("that service does not belong to this customer")
    if not customer.is_verified:
        raise OrderError("verify your email address before ordering")
    if parent.status in ("terminated", "cancelled"):
        raise OrderError("add-ons cannot be added to a terminated service")
    if addon.parent_id != parent.product_id:
        raise OrderError(f"{addon.code} is not an add-on of this service's product")
    _price(ctx, addon, cycle)
    service = _new_service(ctx, customer, addon, cycle, parent.id, label)
    session.add(service)
    session.flush()
    consent = consent or checkout_consent(ctx, customer, ticked=False)
    document = create_proforma(
        session,
        ctx,
        customer,
        [_line(ctx, service, addon, customer.language)],
        actor=actor or f"customer:{customer.id}",
        email_extra=consent.email_values(ctx.settings.legal.withdrawal_days),
    )
    record_terms(session, ctx, document, customer, consent)
    return service, document


def _new_service(
    ctx: Context,
    customer: Customer,
    product: Product,
    cycle: str,
    parent_id: int | None,
    label: str,
) -> Service:
    price = product.price_for(cycle, ctx.settings.currency)
    assert price is not None
    return Service(
        customer_id=customer.id,
        product_id=product.id,
        product=product,
        parent_id=parent_id,
        status="pending",
        cycle=cycle,
        price=price.amount,
        currency=price.currency,
        provisioner_data={},
        label=label,
    )
