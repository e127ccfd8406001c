"""The co-term proration rule, exact to the cent (issue 21, point 3)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from facturo.billing.proration import current_period_start, price_for_cycle, prorate


def test_month_end_period_31_january_to_28_february() -> None:
    # 31 Jan 2027 + 1 month is 28 Feb: the period is 31 Jan – 27 Feb, 28 days.
    # Bought on 15 Feb: 13 days left → 10.00 × 13 / 28 = 4.642857… → 4.64.
    assert prorate(Decimal("10.00"), date(2027, 1, 31), date(2027, 2, 28), date(2027, 2, 15)) == (
        Decimal("4.64")
    )


def test_month_end_in_a_leap_year_31_january_to_29_february() -> None:
    # 2028 is a leap year: 31 Jan 2028 + 1 month is 29 Feb, so the period has 29 days.
    # Bought on 15 Feb 2028: 14 days left → 10.00 × 14 / 29 = 4.827586… → 4.83.
    assert prorate(Decimal("10.00"), date(2028, 1, 31), date(2028, 2, 29), date(2028, 2, 15)) == (
        Decimal("4.83")
    )


def test_bought_on_the_leap_day_of_a_year_that_holds_it() -> None:
    # Period 1 Mar 2027 – 29 Feb 2028: 366 days; bought on 29 Feb 2028, one day is left.
    # 120.00 × 1 / 366 = 0.327868… → 0.33.
    assert prorate(Decimal("120.00"), date(2027, 3, 1), date(2028, 3, 1), date(2028, 2, 29)) == (
        Decimal("0.33")
    )


def test_annual_period_starting_on_the_leap_day() -> None:
    # 29 Feb 2028 + 12 months is 28 Feb 2029: a 365-day period. Bought on 1 Mar 2028:
    # 364 days left → 149.00 × 364 / 365 = 148.591780… → 148.59.
    assert prorate(Decimal("149.00"), date(2028, 2, 29), date(2029, 2, 28), date(2028, 3, 1)) == (
        Decimal("148.59")
    )


def test_half_a_cent_rounds_up() -> None:
    # 0.25 × 14 / 28 = 0.125 exactly: half-up gives 0.13 (half-even would give 0.12).
    assert prorate(Decimal("0.25"), date(2027, 2, 1), date(2027, 3, 1), date(2027, 2, 15)) == (
        Decimal("0.13")
    )


def test_whole_period_and_nothing_left() -> None:
    start, due = date(2026, 3, 13), date(2027, 3, 13)
    assert prorate(Decimal("29.00"), start, due, start) == Decimal("29.00")
    assert prorate(Decimal("29.00"), start, due, date(2026, 1, 1)) == Decimal("29.00")
    assert prorate(Decimal("29.00"), start, due, due) == Decimal("0.00")
    assert prorate(Decimal("29.00"), start, due, date(2027, 3, 12)) == Decimal("0.08")  # 1/365


def test_an_empty_period_is_refused() -> None:
    with pytest.raises(ValueError):
        prorate(Decimal("1.00"), date(2027, 3, 1), date(2027, 3, 1), date(2027, 3, 1))


def test_price_for_the_parents_cycle() -> None:
    prices = {"monthly": Decimal("5.00"), "quarterly": Decimal("14.00")}
    assert price_for_cycle(prices, "monthly") == Decimal("5.00")
    assert price_for_cycle(prices, "annual") == Decimal("60.00")  # shortest cycle × 12
    assert price_for_cycle(prices, "annual", "quarterly") == Decimal("56.00")  # chosen × 4
    assert price_for_cycle({"annual": Decimal("100.00")}, "monthly") == Decimal("8.33")
    assert price_for_cycle({}, "annual") is None


def test_current_period_start_is_one_cycle_back() -> None:
    assert current_period_start(date(2028, 2, 29), "monthly") == date(2028, 1, 29)
    assert current_period_start(date(2029, 2, 28), "annual") == date(2028, 2, 28)
    assert current_period_start(date(2027, 1, 15), "quarterly") == date(2026, 10, 15)
