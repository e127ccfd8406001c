"""Co-terming: what an add-on bought mid-term costs up to its licence's next due date.

Pure functions (no database): :func:`prorate` is the one proration rule of the project.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from facturo.billing.cycles import add_months, months_of
from facturo.billing.money import CENT, to_money


def prorate(price: Decimal, period_start: date, next_due: date, on: date) -> Decimal:
    """The part of ``price`` that pays from ``on`` up to ``next_due``, to the cent.

    The rule: ``price`` is what one whole period of the parent service costs; that period runs
    from ``period_start`` (its first day) to the day before ``next_due`` (the parent's next due
    date, when its renewal period begins). The add-on is charged for the days it will run in
    that period, counting the day it is bought and not ``next_due``::

        amount = price × (next_due − on) / (next_due − period_start)     [in days]

    computed in Decimal and rounded half-up to the cent once, at the end. Bought on the
    period's first day (or earlier) it costs the whole ``price``; bought on or after
    ``next_due`` it costs nothing (the caller then bills a whole period instead). Example: a
    monthly price of 10.00, period 31 Jan 2027 – 27 Feb 2027 (next due 28 Feb), bought on
    15 Feb: 10.00 × 13 / 28 = 4.642857… → 4.64.
    """
    if next_due <= period_start:
        raise ValueError("a period must end after it starts")
    total_days = (next_due - period_start).days
    remaining = min(max((next_due - on).days, 0), total_days)
    exact = Decimal(price) * remaining / total_days
    return exact.quantize(CENT, rounding=ROUND_HALF_UP)


def price_for_cycle(
    prices: dict[str, Decimal], cycle: str, chosen: str | None = None
) -> Decimal | None:
    """An add-on's price for the parent's ``cycle``, from its prices by cycle (``prices``).

    The add-on's own price for ``cycle`` when it has one. Otherwise the price of the cycle
    the customer ``chosen`` (or, without one, of its shortest cycle) scaled by months:
    ``price × months(cycle) / months(that cycle)``, rounded half-up to the cent (an add-on
    sold only monthly at 5.00 co-terms with an annual licence at 60.00 a year). None when it
    has no price at all."""
    if cycle in prices:
        return to_money(prices[cycle])
    if not prices:
        return None
    base = chosen if chosen in prices else min(prices, key=months_of)
    scaled = Decimal(prices[base]) * months_of(cycle) / months_of(base)
    return scaled.quantize(CENT, rounding=ROUND_HALF_UP)


def current_period_start(next_due: date, cycle: str) -> date:
    """The first day of the period that ends the day before ``next_due``, for a service on
    ``cycle`` with no billed line that says it (one cycle back, clamped to month ends)."""
    return add_months(next_due, -months_of(cycle))
