"""Money arithmetic: Decimal amounts rounded half-up to cents."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


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
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(text: str) -> Decimal:
    """Parse user input such as ``"12,50"`` or ``"12.50"`` into money; raise ValueError."""
    cleaned = text.strip().replace(" ", "")
    if "," in cleaned and "." in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    else:
        cleaned = cleaned.replace(",", ".")
    amount = to_money(cleaned)
    return amount


def format_money(amount: Decimal, currency: str = "EUR", locale: str = "es") -> str:
    """Format an amount for people, e.g. ``1.234,50 €`` (es) or ``€1,234.50`` (en)."""
    from babel.numbers import format_currency

    return str(format_currency(amount, currency, locale="es_ES" if locale == "es" else "en_GB"))
