"""A document's totals: tax per rate on the sum of that rate's bases, rounded half-up."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from facturo.billing.money import ZERO
from facturo.billing.taxes import tax_amount


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    breakdown: list[dict[str, str]]


def compute_totals(amounts_and_rates: Sequence[tuple[Decimal, Decimal]]) -> Totals:
    """Totals of lines given as (line amount, rate): tax per rate on the sum of its bases."""
    bases: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    for amount, rate in amounts_and_rates:
        bases[rate] += amount
    breakdown = []
    tax_total = ZERO
    for rate in sorted(bases):
        tax = tax_amount(bases[rate], rate)
        tax_total += tax
        breakdown.append({"rate": str(rate), "base": str(bases[rate]), "tax": str(tax)})
    subtotal = sum(bases.values(), ZERO)
    return Totals(subtotal, tax_total, subtotal + tax_total, breakdown)
