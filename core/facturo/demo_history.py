"""A year of made-up trade for the demo, so the staff dashboard has something to draw.

Shops order the licence with supplier add-ons over the last 15 months, pay by transfer, card
or PayPal, renew (or drop their add-ons) a year later; one invoice is partly refunded and two
orders stay unpaid. Everything goes through the billing functions (numbering, taxes, credit
notes), at the moment it "happened": the context's clock is moved for each event, in date
order, and put back at the end.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from facturo.billing.cycles import add_months
from facturo.billing.documents import LineSpec, create_proforma
from facturo.billing.orders import place_order
from facturo.billing.payments import record_payment
from facturo.billing.refunds import refund_invoice
from facturo.billing.services import change_status
from facturo.context import Context
from facturo.gateways.methods import manual_methods
from facturo.models import Customer, Document, Product

DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


@dataclass(frozen=True)
class Shop:
    """One demo customer: who, how many months ago they ordered, the add-ons (indexes into
    the supplier add-ons), how they pay, and what happens a year later (``renew``: every
    service; ``drop``: renew the licence, terminate the add-ons; ``""``: not due yet) or
    ``unpaid`` (the order is never paid)."""

    name: str
    company: str
    city: str
    months_ago: int
    addons: tuple[int, ...]
    method: str
    then: str = ""


SHOPS = (
    Shop("Marta Ruiz", "Ferretería Ruiz S.L.", "Valencia", 15, (0, 1), "paypal", "drop"),
    Shop("Jordi Puig", "Informàtica Puig S.L.", "Barcelona", 14, (2, 3), "transfer", "renew"),
    Shop("Ana Gil", "Papelería Gil S.L.", "Zaragoza", 13, (0,), "ruralvia", "renew"),
    Shop("Pablo Sanz", "Electro Sanz S.L.", "Sevilla", 11, (1,), "paypal"),
    Shop("Elena Vidal", "Moda Vidal S.L.", "Málaga", 10, (0, 2), "transfer"),
    Shop("Iker Etxeberria", "Kirolak Etxe S.L.", "Bilbao", 8, (3,), "ruralvia"),
    Shop("Sara León", "Juguetes León S.L.", "León", 6, (0, 1, 2), "paypal"),
    Shop("Raúl Ortega", "Ortega Hogar S.L.", "Murcia", 4, (2,), "transfer", "unpaid"),
    Shop("Nuria Campos", "Campos Bio S.L.", "Granada", 3, (1, 3), "transfer"),
    Shop("Diego Romero", "Romero Deportes S.L.", "Valladolid", 1, (0,), "paypal", "unpaid"),
)


def _nif(seed: int) -> str:
    number = 10_000_000 + seed * 7_919_411 % 89_999_999
    return f"{number:08d}{DNI_LETTERS[number % 23]}"


def _moment(ctx: Context, day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ctx.settings.zone)


def _pay(session: Session, ctx: Context, document: Document, method: str, at: datetime) -> None:
    details = {"card_brand": "Visa", "card_last4": "4242"} if method == "ruralvia" else None
    record_payment(
        session,
        ctx,
        document,
        method,
        f"demo-{document.reference}",
        document.total,
        document.currency,
        at,
        details=details,
        value_date=at.date() if method in {m.gateway for m in manual_methods(ctx)} else None,
    )


def seed_history(
    ctx: Context, session: Session, licence: Product, addons: Sequence[Product]
) -> None:
    """Write the demo's year of trade (see the module) for ``licence`` and its ``addons``."""
    today = ctx.today()
    events: list[tuple[datetime, int, Callable[[], None]]] = []
    for index, shop in enumerate(SHOPS):
        events.extend(_events(ctx, session, index, shop, today, licence, addons))
    original = ctx.clock
    try:
        for at, _, run in sorted(events, key=lambda event: (event[0], event[1])):
            ctx.clock = lambda at=at: at  # type: ignore[misc]
            run()
    finally:
        ctx.clock = original


def _events(
    ctx: Context,
    session: Session,
    index: int,
    shop: Shop,
    today: date,
    licence: Product,
    addons: Sequence[Product],
) -> list[tuple[datetime, int, Callable[[], None]]]:
    """The shop's events, each with the moment it happens (UTC) and its order."""
    ordered = add_months(today, -shop.months_ago) - timedelta(days=index)
    due = add_months(ordered, 12)  # paid the day it was ordered: a year's licence
    state: dict[str, object] = {}

    def order() -> None:
        from facturo.accounts.customers import NewCustomer, create_customer

        customer = create_customer(
            session,
            ctx,
            NewCustomer(
                email=f"demo-shop-{index + 1}@example.com",
                password=secrets.token_urlsafe(24),
                name=shop.name,
                company=shop.company,
                tax_id=_nif(index + 1),
                address="Calle Mayor 1",
                postal_code="28001",
                city=shop.city,
                country="ES",
                language="es",
            ),
            verified=True,
        )
        chosen = [(addons[i], "annual") for i in shop.addons if i < len(addons)]
        services, proforma = place_order(session, ctx, customer, licence, "annual", chosen)
        state.update(customer=customer, services=services, proforma=proforma)

    def pay() -> None:
        proforma = state["proforma"]
        assert isinstance(proforma, Document)
        _pay(session, ctx, proforma, shop.method, ctx.now())

    def refund() -> None:
        invoice = state["proforma"]
        assert isinstance(invoice, Document)
        session.refresh(invoice)
        reason = "Descuento por retraso en la activación"
        refund_invoice(
            session, ctx, invoice, Decimal("20.00"), reason, "staff:demo", through_gateway=False
        )

    def renew() -> None:
        customer, services = state["customer"], state["services"]
        assert isinstance(customer, Customer) and isinstance(services, list)
        for service in services:
            session.refresh(service)
        keep = services if shop.then == "renew" else services[:1]
        lines = [
            LineSpec(
                description=f"{s.product.name_es} (renovación)",
                unit_price=s.price,
                service_id=s.id,
                action="renew",
                period_start=s.next_due_date,
                period_end=add_months(due, 12) - timedelta(days=1),
            )
            for s in keep
        ]
        state["proforma"] = create_proforma(session, ctx, customer, lines, source="renewal")

    def terminate() -> None:
        services = state["services"]
        assert isinstance(services, list)
        for service in services[1:]:
            change_status(session, ctx, service, "terminated", "terminate", reason="not renewed")

    events = [(_moment(ctx, ordered), order)]
    if shop.then != "unpaid":
        events.append((_moment(ctx, ordered, 12), pay))
    if index == 4:
        events.append((_moment(ctx, ordered + timedelta(days=20)), refund))
    if shop.then in ("renew", "drop"):
        events.append((_moment(ctx, due - timedelta(days=7)), renew))
        events.append((_moment(ctx, due - timedelta(days=3)), pay))
    if shop.then == "drop":
        events.append((_moment(ctx, due + timedelta(days=1)), terminate))
    return [(at.astimezone(UTC), index, run) for at, run in events if at.date() <= today]
