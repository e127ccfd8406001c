"""What an order will cost before it is placed: its lines, tax, total and billing period.

The figures come from :func:`facturo.billing.orders.place_order` itself, run inside a
SAVEPOINT that is rolled back: the review shows exactly what the order would create (prices,
rounding, the customer's tax treatment, credit applied) and nothing is kept — no service, no
proforma, no reference, no email. :func:`review_order` is the one adapter the web layer calls,
so a dedicated quote function can replace its body without touching the pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from facturo.billing.orders import place_order
from facturo.models import Customer, Product

if TYPE_CHECKING:
    from facturo.context import Context


@dataclass(frozen=True)
class ReviewLine:
    """One line of the order as it would be billed."""

    description: str
    amount: Decimal
    tax_rate: Decimal
    period_start: date | None
    period_end: date | None


@dataclass(frozen=True)
class OrderReview:
    """The order's bill before it exists: lines, totals, credit and what is left to pay."""

    lines: tuple[ReviewLine, ...]
    currency: str
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    credit_applied: Decimal
    balance: Decimal
    period_start: date | None
    period_end: date | None

    @property
    def tax_rates(self) -> tuple[Decimal, ...]:
        """The distinct tax rates on the lines, lowest first."""
        return tuple(sorted({line.tax_rate for line in self.lines}))


def review_order(
    session: Session,
    ctx: Context,
    customer: Customer,
    product: Product,
    cycle: str,
    addons: Sequence[tuple[Product, str]] = (),
    label: str = "",
) -> OrderReview:
    """The bill ``place_order`` would create for these choices; raises what it raises
    (``OrderError`` and other ``BillingError``) and keeps nothing in ``session``."""
    savepoint = session.begin_nested()
    try:
        _services, document = place_order(session, ctx, customer, product, cycle, addons, label)
        lines = tuple(
            ReviewLine(
                line.description, line.amount, line.tax_rate, line.period_start, line.period_end
            )
            for line in sorted(document.lines, key=lambda line: line.position)
        )
        starts = {line.period_start for line in lines}
        ends = {line.period_end for line in lines}
        review = OrderReview(
            lines=lines,
            currency=document.currency,
            subtotal=document.subtotal,
            tax_total=document.tax_total,
            total=document.total,
            credit_applied=document.credit_applied,
            balance=document.balance,
            period_start=starts.pop() if len(starts) == 1 else None,
            period_end=ends.pop() if len(ends) == 1 else None,
        )
    finally:
        savepoint.rollback()
    session.expire_all()
    return review
