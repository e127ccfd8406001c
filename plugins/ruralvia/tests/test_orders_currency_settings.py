from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from facturo_ruralvia.currency import currency, from_minor_units, to_minor_units
from facturo_ruralvia.orders import is_valid_order, new_order_number
from facturo_ruralvia.settings import (
    LIVE_PAYMENT_URL,
    LIVE_REST_URL,
    TEST_PAYMENT_URL,
    TEST_REST_URL,
    Environment,
    RuralviaSettings,
    SettingsError,
)

KEY = "sq7HjrUOBfKmC576ILgskD5srU870gJ7"


@pytest.mark.parametrize("length", range(4, 13))
def test_new_order_numbers_follow_the_rule(length: int) -> None:
    order = new_order_number(length, now=datetime(2026, 3, 5, tzinfo=UTC))
    assert len(order) == length
    assert order.startswith("2603")
    assert is_valid_order(order)


def test_new_order_numbers_are_fresh() -> None:
    assert len({new_order_number() for _ in range(1000)}) == 1000


@pytest.mark.parametrize("length", [3, 13])
def test_new_order_number_rejects_bad_lengths(length: int) -> None:
    with pytest.raises(ValueError):
        new_order_number(length)


@pytest.mark.parametrize(
    ("order", "valid"),
    [
        ("0726qI3H7sZx", True),
        ("1234", True),
        ("123", False),
        ("MN000049", False),
        ("1234567890123", False),
        ("1234-5", False),
    ],
)
def test_order_validation(order: str, valid: bool) -> None:
    assert is_valid_order(order) is valid


def test_minor_units_round_trip() -> None:
    assert to_minor_units(Decimal("49.99"), "EUR") == 4999
    assert to_minor_units(Decimal("1.4500"), "978") == 145
    assert to_minor_units(Decimal("100"), "JPY") == 100
    assert from_minor_units("4999", "EUR") == Decimal("49.99")
    assert from_minor_units(5, 978) == Decimal("0.05")


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-1"), Decimal("1.005")])
def test_minor_units_reject_bad_amounts(amount: Decimal) -> None:
    with pytest.raises(ValueError):
        to_minor_units(amount, "EUR")


def test_unknown_currency_is_rejected() -> None:
    assert currency("eur").numeric == "978"
    with pytest.raises(ValueError):
        currency("XXX")


def test_settings_from_mapping_and_urls() -> None:
    settings = RuralviaSettings.from_mapping(
        {"merchant_code": "999008881", "terminal": "001", "secret_key": KEY}
    )
    assert settings.currency == "EUR"
    assert settings.language_code == "001"
    assert (settings.payment_url, settings.rest_url) == (TEST_PAYMENT_URL, TEST_REST_URL)
    assert KEY not in repr(settings)
    live = RuralviaSettings.from_mapping(
        {
            "merchant_code": "999008881",
            "terminal": "1",
            "secret_key": KEY,
            "environment": "live",
            "language": "en",
        }
    )
    assert (live.payment_url, live.rest_url) == (LIVE_PAYMENT_URL, LIVE_REST_URL)
    assert live.language_code == "002"


def test_sandbox_urls_follow_the_mount_point() -> None:
    sandbox = RuralviaSettings.from_mapping(
        {
            "merchant_code": "999008881",
            "terminal": "1",
            "secret_key": KEY,
            "environment": "sandbox",
            "sandbox_url": "http://shop.test/public/ruralvia/",
        }
    )
    assert sandbox.environment is Environment.SANDBOX
    assert sandbox.payment_url == "http://shop.test/public/ruralvia/sis/realizarPago"
    assert sandbox.rest_url == "http://shop.test/public/ruralvia/sis/rest/trataPeticionREST"


def test_settings_list_every_problem_without_the_secret() -> None:
    with pytest.raises(SettingsError) as info:
        RuralviaSettings.from_mapping(
            {
                "merchant_code": "abc",
                "terminal": "1234",
                "secret_key": "secret-value",
                "currency": "XXX",
                "environment": "prod",
                "language": "xx",
            }
        )
    assert len(info.value.errors) == 6
    assert "secret-value" not in str(info.value)
