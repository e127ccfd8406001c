"""Money arithmetic: Decimal amounts rounded half-up to cents."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from facturo.errors import FacturoError

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
#: The largest amount a money column (``Numeric(12, 2)``) holds.
MAX_AMOUNT = Decimal("9999999999.99")


def to_money(value: Decimal | int | str) -> Decimal:
    """Return ``value`` as a Decimal rounded half-up to cents; floats are refused."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    if isinstance(value, bool):
        raise TypeError("money must not be a bool")
    try:
        amount = Decimal(value)
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    try:
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:  # more digits than the context's precision
        raise ValueError(f"not an amount: {value!r}") from exc


def parse_amount(text: str) -> Decimal:
    """Parse user input such as ``"12,50"`` or ``"12.50"`` into money; raise ValueError (also
    beyond ``MAX_AMOUNT`` either way)."""
    cleaned = text.strip().replace(" ", "")
    if "," in cleaned and "." in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    else:
        cleaned = cleaned.replace(",", ".")
    amount = to_money(cleaned)
    if abs(amount) > MAX_AMOUNT:
        raise ValueError(f"amount too large: {text!r}")
    return amount


def parse_money_field(raw: str, field: str) -> Decimal:
    """A non-negative amount with at most 2 decimals; FacturoError otherwise."""
    try:
        value = Decimal(raw.strip().replace(",", "."))
    except (InvalidOperation, AttributeError):
        raise FacturoError("not an amount", field=field) from None
    try:
        valid = value.is_finite() and 0 <= value <= MAX_AMOUNT and value == value.quantize(CENT)
    except InvalidOperation:  # more digits than the decimal context holds
        valid = False
    if not valid:
        raise FacturoError("give an amount such as 149.00", field=field)
    return value.quantize(Decimal("0.01"))


def format_money(amount: Decimal, currency: str = "EUR", locale: str = "es") -> str:
    """Format an amount for people, e.g. ``1.234,50 €`` (es) or ``€1,234.50`` (en)."""
    try:
        return _format_money(amount, currency, locale)
    except TypeError:  # an unhashable value (a signalling NaN): format it uncached
        return _format_money.__wrapped__(amount, currency, locale)


@lru_cache(maxsize=4096)
def _format_money(amount: Decimal, currency: str, locale: str) -> str:
    # Cached: bulk email rendering formats the same few totals many times. Equal amounts
    # (1.0 and 1.00) share an entry, which is right: babel shows the currency's digits.
    from babel.numbers import format_currency

    return str(format_currency(amount, currency, locale="es_ES" if locale == "es" else "en_GB"))
