"""Quoting an order: what each line will cost, for which period, with tax, before it is placed.

:func:`quote_order` is the single source of order amounts: placing an order bills exactly
the lines it quotes, and the pages that show prices before ordering (the add-on chooser, the
order review) show its figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from facturo.billing.cycles import period_for
from facturo.billing.errors import BillingError
from facturo.billing.money import to_money
from facturo.billing.proration import current_period_start, price_for_cycle, prorate
from facturo.billing.taxes import TaxTreatment, tax_amount
from facturo.billing.totals import compute_totals
from facturo.billing.vat import customer_treatment
from facturo.models import BilledPeriod, Customer, DocumentLine, Product, Service

if TYPE_CHECKING:
    from facturo.context import Context


@dataclass(frozen=True)
class QuoteLine:
    """One line of a quote. ``price`` is what the service will cost per ``cycle`` (its renewal
    price); ``amount`` is what this order charges for ``period_start``–``period_end`` (both
    before tax; ``tax`` is this line's tax alone, shown beside it). ``coterm``: the period ends
    with the parent service's, and the service then renews with it."""

    product_id: int
    description: str
    cycle: str
    price: Decimal
    amount: Decimal
    tax_rate: Decimal
    tax: Decimal
    period_start: date
    period_end: date
    coterm: bool = False

    @property
    def gross(self) -> Decimal:
        """The line's amount with its tax."""
        return self.amount + self.tax


@dataclass(frozen=True)
class Quote:
    """A priced order: its lines and the document totals (tax per rate on the sum of bases)."""

    lines: list[QuoteLine]
    currency: str
    tax_treatment: str
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal


@dataclass(frozen=True)
class CotermTerm:
    """The parent's current period an add-on is co-termed to: ``start`` and ``next_due``.

    ``through``: the last day the add-on's first bill pays for: the day before ``next_due``
    or, when the parent's renewal from ``next_due`` is already billed (``renewal_billed``),
    the last day of that renewal period, so the add-on still renews with the parent after."""

    start: date
    next_due: date
    through: date
    renewal_billed: bool = False


def coterm_term(session: Session, ctx: Context, parent: Service, on: date) -> CotermTerm | None:
    """The period an add-on of ``parent`` bought on ``on`` is co-termed to, or None.

    None when the ``billing.coterm_addons`` setting is off, the parent is not active or
    suspended, has no next due date, or is due on or before ``on`` (nothing is left of its
    term: the add-on then gets a whole period of its own). The period's first day is the
    ``period_start`` of the parent's billed line that ends the day before its next due date
    (one cycle back when there is none). When the parent's renewal proforma is already
    issued (the billing run bills ahead of the due date), the term runs to the end of that
    renewal period instead (see :class:`CotermTerm`)."""
    due = parent.next_due_date
    if not ctx.settings.billing.coterm_addons or parent.status not in ("active", "suspended"):
        return None
    if due is None or due <= on:
        return None
    last_day = due - timedelta(days=1)
    query = (
        select(DocumentLine.period_start)
        .where(
            DocumentLine.service_id == parent.id,
            DocumentLine.period_end == last_day,
            DocumentLine.period_start.is_not(None),
        )
        .order_by(DocumentLine.id.desc())
        .limit(1)
    )
    start = session.scalar(query) or current_period_start(due, parent.cycle)
    billed = select(BilledPeriod.id).where(
        BilledPeriod.service_id == parent.id, BilledPeriod.period_start == due
    )
    if session.scalar(billed.limit(1)) is not None:
        return CotermTerm(min(start, on), due, period_for(due, parent.cycle)[1], True)
    return CotermTerm(min(start, on), due, last_day)


def _prices(product: Product, currency: str) -> dict[str, Decimal]:
    return {p.cycle: p.amount for p in product.prices if p.currency == currency}


def _describe(product: Product, language: str, label: str) -> str:
    return product.name(language) + (f" — {label}" if label else "")


def quote_order(
    session: Session,
    ctx: Context,
    customer: Customer,
    items: Sequence[tuple[Product, str]],
    parent: Service | None = None,
    label: str = "",
    on: date | None = None,
    treatment: TaxTreatment | None = None,
) -> Quote:
    """Price ``items`` (product, chosen cycle) for ``customer`` as an order placed ``on``
    (default today) would bill them.

    Without ``parent``: a new order; each item is billed one whole chosen cycle from ``on``
    (``label`` names the first item, the main service). With ``parent``: add-ons for that
    existing service; when :func:`coterm_term` gives a term, each is co-termed: it takes the
    parent's cycle, at the add-on's price for that cycle (or its chosen cycle's price scaled to
    it, see
    :func:`~facturo.billing.proration.price_for_cycle`), and is charged
    :func:`~facturo.billing.proration.prorate` of it from ``on`` to the day before the
    parent's next due date (plus one whole price when the parent's renewal is already
    billed: the add-on then runs to the end of that renewal period). Otherwise each add-on is
    billed one whole chosen cycle.

    ``treatment``: the customer's VAT treatment when the caller already has it (decided here
    otherwise, which may ask VIES). Raises BillingError for a product with no price in the shop's currency (callers that
    validate orders check prices first, with clearer messages)."""
    day = on or ctx.today()
    currency = ctx.settings.currency
    if treatment is None:
        treatment = customer_treatment(ctx, customer, day, session)
    term = coterm_term(session, ctx, parent, day) if parent is not None else None
    lines: list[QuoteLine] = []
    for position, (product, chosen) in enumerate(items):
        prices = _prices(product, currency)
        name = _describe(product, customer.language, label if position == 0 else "")
        if term is not None and parent is not None:
            price = price_for_cycle(prices, parent.cycle, chosen)
            if price is None:
                raise BillingError(f"{product.code} has no price in {currency}")
            amount = prorate(price, term.start, term.next_due, day)
            if term.renewal_billed:
                amount += price
            end = term.through
            cycle, coterm = parent.cycle, True
        else:
            if chosen not in prices:
                raise BillingError(f"{product.code} has no {chosen} price")
            price = amount = to_money(prices[chosen])
            _start, end = period_for(day, chosen)
            cycle, coterm = chosen, False
        tax = tax_amount(amount, treatment.rate)
        lines.append(
            QuoteLine(product.id, name, cycle, price, amount, treatment.rate, tax, day, end, coterm)
        )
    totals = compute_totals([(line.amount, line.tax_rate) for line in lines])
    return Quote(lines, currency, treatment.code, totals.subtotal, totals.tax_total, totals.total)
