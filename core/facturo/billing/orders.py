"""Ordering: a product with a cycle and any of its add-ons → pending services and one proforma."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from facturo import audit
from facturo.billing.consent import OrderConsent, checkout_consent, record_terms
from facturo.billing.documents import LineSpec, create_proforma
from facturo.billing.errors import BillingError
from facturo.billing.quotes import QuoteLine, quote_order
from facturo.billing.vat import customer_treatment
from facturo.models import Customer, Document, DocumentLine, Product, Service

if TYPE_CHECKING:
    from facturo.context import Context


class OrderError(BillingError):
    """The order cannot be placed; the message says why."""


class DuplicateAddonError(OrderError):
    """The licence already has (or the order names twice) an add-on for this supplier.

    Carries plain values (they outlive the rolled-back session): the add-on's ``code`` and
    ``names`` by language, and ``existing_id``, the service that already holds the supplier
    (None when the same order named it twice)."""

    def __init__(self, addon: Product, existing: Service | None) -> None:
        where = "twice in this order" if existing is None else f"already (service {existing.id})"
        super().__init__(f"{addon.code} is on this licence {where}: one add-on per supplier")
        self.code = addon.code
        self.names = {"es": addon.name("es"), "en": addon.name("en")}
        self.existing_id = existing.id if existing is not None else None


class UnpaidParentError(OrderError):
    """Add-ons are not ordered for a licence that is not paid yet (``reference``: its bill).

    Chosen over adding the add-on to the licence's proforma: that bill may already be on its
    way to a gateway (an open card or PayPal payment for its total), so changing its total
    under the customer's feet could leave it short or overpaid."""

    def __init__(self, reference: str) -> None:
        super().__init__(f"the licence is not paid yet: pay {reference or 'its bill'} first")
        self.reference = reference


LIVE_STATES = ("pending", "active", "suspended")


def same_supplier(one: Product, other: Product) -> bool:
    """True when two add-on products sell the same supplier: the same product, or the same
    provisioner with the same (non-empty) provisioner options (e.g. ``supplier=acme``)."""
    if one.id == other.id:
        return True
    options = (one.provisioner_options or "").strip()
    return bool(
        one.provisioner
        and options
        and one.provisioner == other.provisioner
        and options == (other.provisioner_options or "").strip()
    )


def live_addons(session: Session, parent_id: int) -> list[Service]:
    """The add-on services of ``parent_id`` short of terminated or cancelled."""
    query = select(Service).where(Service.parent_id == parent_id, Service.status.in_(LIVE_STATES))
    return list(session.scalars(query.order_by(Service.id)))


def _refuse_duplicates(addons: Sequence[Product], held: Sequence[Service] = ()) -> None:
    seen: list[Product] = []
    for addon in addons:
        for service in held:
            if same_supplier(service.product, addon):
                raise DuplicateAddonError(addon, service)
        if any(same_supplier(other, addon) for other in seen):
            raise DuplicateAddonError(addon, None)
        seen.append(addon)


def unpaid_reference(session: Session, service: Service) -> str:
    """The reference of the unpaid proforma that bills ``service`` ("" when none)."""
    query = (
        select(Document.reference)
        .join(DocumentLine, DocumentLine.document_id == Document.id)
        .where(
            DocumentLine.service_id == service.id,
            Document.kind == "proforma",
            Document.status == "unpaid",
        )
        .order_by(Document.id)
        .limit(1)
    )
    return str(session.scalar(query) or "")


def _price(ctx: Context, product: Product, cycle: str) -> tuple[Product, str]:
    if product.retired:
        raise OrderError(f"{product.code} is no longer sold")
    price = product.price_for(cycle, ctx.settings.currency)
    if price is None:
        raise OrderError(f"{product.code} has no {cycle} price")
    return product, cycle


def _line(service: Service, quoted: QuoteLine) -> LineSpec:
    """The proforma line of a new ``service``, exactly as it was ``quoted``."""
    return LineSpec(
        description=quoted.description,
        unit_price=quoted.amount,
        service_id=service.id,
        action="create",
        period_start=quoted.period_start,
        period_end=quoted.period_end,
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
    _refuse_duplicates([addon for addon, _cycle in addons])
    for addon, addon_cycle in addons:
        if addon.parent_id != product.id:
            raise OrderError(f"{addon.code} is not an add-on of {product.code}")
        _price(ctx, addon, addon_cycle)
    treatment = customer_treatment(ctx, customer, ctx.today(), session)
    items = [(product, cycle), *addons]
    quote = quote_order(session, ctx, customer, items, label=label, treatment=treatment)
    main = _new_service(ctx, customer, product, quote.lines[0], None, label)
    session.add(main)
    session.flush()
    services = [main]
    for (addon, _cycle), quoted in zip(addons, quote.lines[1:], strict=True):
        service = _new_service(ctx, customer, addon, quoted, main.id, "")
        session.add(service)
        services.append(service)
    session.flush()
    lines = [_line(s, quoted) for s, quoted in zip(services, quote.lines, strict=True)]
    consent = consent or checkout_consent(ctx, customer, ticked=False)
    document = create_proforma(
        session,
        ctx,
        customer,
        lines,
        actor=actor or f"customer:{customer.id}",
        email_extra=consent.email_values(ctx.settings.legal.withdrawal_days),
        treatment=treatment,
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
    (``consent`` as in :func:`place_order`), priced by :func:`~facturo.billing.quotes.quote_order`:
    with ``billing.coterm_addons`` on (the default) and the parent in its term, the add-on is
    charged pro rata to the parent's next due date and takes the parent's cycle, so that it
    renews with it; ``cycle`` then only says which price is scaled when the add-on has none for
    the parent's cycle.

    At most one add-on per supplier per licence, in any state short of terminated or
    cancelled: the parent's row is locked (``FOR UPDATE``) before the check, so two
    simultaneous orders of the same add-on queue on it and the second sees the first and raises
    DuplicateAddonError. A parent not yet paid raises UnpaidParentError (pay its bill first)."""
    if parent.customer_id != customer.id:
        raise OrderError("that service does not belong to this customer")
    if not customer.is_verified:
        raise OrderError("verify your email address before ordering")
    if addon.parent_id != parent.product_id:
        raise OrderError(f"{addon.code} is not an add-on of this service's product")
    _price(ctx, addon, cycle)
    session.execute(
        select(Service.id).where(Service.id == parent.id).with_for_update()
    ).scalar_one()
    session.refresh(parent)
    if parent.status in ("terminated", "cancelled"):
        raise OrderError("add-ons cannot be added to a terminated service")
    if parent.status == "pending":
        raise UnpaidParentError(unpaid_reference(session, parent))
    _refuse_duplicates([addon], live_addons(session, parent.id))
    treatment = customer_treatment(ctx, customer, ctx.today(), session)
    quote = quote_order(
        session, ctx, customer, [(addon, cycle)], parent, label, treatment=treatment
    )
    quoted = quote.lines[0]
    service = _new_service(ctx, customer, addon, quoted, parent.id, label)
    session.add(service)
    session.flush()
    consent = consent or checkout_consent(ctx, customer, ticked=False)
    document = create_proforma(
        session,
        ctx,
        customer,
        [_line(service, quoted)],
        actor=actor or f"customer:{customer.id}",
        email_extra=consent.email_values(ctx.settings.legal.withdrawal_days),
        treatment=treatment,
    )
    record_terms(session, ctx, document, customer, consent)
    return service, document


def _new_service(
    ctx: Context,
    customer: Customer,
    product: Product,
    quoted: QuoteLine,
    parent_id: int | None,
    label: str,
) -> Service:
    return Service(
        customer_id=customer.id,
        product_id=product.id,
        product=product,
        parent_id=parent_id,
        status="pending",
        cycle=quoted.cycle,
        price=quoted.price,
        currency=ctx.settings.currency,
        provisioner_data={},
        label=label,
    )
