"""VAT treatment of electronically supplied services sold from mainland Spain."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from facturo.billing.documents import LineSpec, compute_totals, create_proforma
from facturo.billing.taxes import LEGENDS, standard_rate, tax_amount, treatment_for
from facturo.models import Customer
from facturo.testing import make_customer
from tests.billing.conftest import Billing

ON = date(2026, 3, 2)


@pytest.mark.parametrize(
    ("country", "tax_id", "postal", "code", "rate", "legend"),
    [
        ("ES", "12345678Z", "28001", "domestic", "21.00", None),
        ("ES", "", "08001", "domestic", "21.00", None),
        ("DE", "DE136695976", "10115", "eu_reverse_charge", "0.00", "eu_reverse_charge"),
        ("FR", "", "75001", "eu_oss", "20.00", None),
        ("DE", "", "10115", "eu_oss", "19.00", None),
        ("DE", "DE000000000", "10115", "eu_oss", "19.00", None),  # invalid number: consumer
        ("US", "", "10001", "not_subject", "0.00", "not_subject"),
        ("ES", "12345678Z", "35001", "special_territory", "0.00", "special_territory"),
        ("ES", "12345678Z", "38001", "special_territory", "0.00", "special_territory"),
        ("ES", "12345678Z", "51001", "special_territory", "0.00", "special_territory"),
    ],
)
def test_treatment(
    country: str, tax_id: str, postal: str, code: str, rate: str, legend: str | None
) -> None:
    treatment = treatment_for(country, tax_id, postal, ON)
    assert treatment.code == code
    assert treatment.rate == Decimal(rate)
    assert treatment.legend == (LEGENDS[legend] if legend else "")


def test_vies_answer_overrides_format_check() -> None:
    assert treatment_for("DE", "DE136695976", "10115", ON, vies_valid=False).code == "eu_oss"


def test_dated_rates() -> None:
    assert standard_rate("FI", date(2024, 8, 31)) == Decimal("24.00")
    assert standard_rate("FI", date(2024, 9, 1)) == Decimal("25.50")


def test_rounding_half_up_per_rate_on_sum_of_bases() -> None:
    assert tax_amount(Decimal("0.50"), Decimal("21")) == Decimal("0.11")  # 0.105 → 0.11
    # three lines of 0.50: per-line tax would be 3 × 0.11 = 0.33; on the sum it is 0.32 (0.315)
    totals = compute_totals([(Decimal("0.50"), Decimal("21"))] * 3)
    assert totals.tax_total == Decimal("0.32")
    assert totals.total == Decimal("1.82")


@pytest.mark.parametrize(
    ("country", "tax_id", "postal", "total", "legends"),
    [
        ("ES", "12345678Z", "28001", "180.29", 0),
        ("IE", "IE6388047V", "D02", "149.00", 1),
        ("FR", "", "75001", "178.80", 0),
        ("DE", "", "10115", "177.31", 0),
        ("US", "", "10001", "149.00", 1),
        ("ES", "12345678Z", "35001", "149.00", 1),
    ],
)
def test_proforma_carries_treatment(
    billing: Billing, country: str, tax_id: str, postal: str, total: str, legends: int
) -> None:
    ctx = billing.ctx
    customer = make_customer(ctx, country=country, tax_id=tax_id, postal_code=postal)
    with ctx.db.transaction() as session:
        who = session.get(Customer, customer.id)
        assert who is not None
        document = create_proforma(
            session, ctx, who, [LineSpec(description="Licencia", unit_price=Decimal("149.00"))]
        )
        assert document.total == Decimal(total)
        assert len(document.legends) == legends
        assert document.tax_breakdown[0]["base"] == "149.00"
