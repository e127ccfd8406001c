"""Currencies as Redsys writes them: ISO 4217 numeric codes and amounts in minor units."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

__all__ = ["Currency", "currency", "from_minor_units", "to_minor_units"]


@dataclass(frozen=True)
class Currency:
    """An ISO 4217 currency: alphabetic code, numeric code and number of decimals."""

    code: str
    numeric: str
    exponent: int


_CURRENCIES = (
    Currency("EUR", "978", 2),
    Currency("USD", "840", 2),
    Currency("GBP", "826", 2),
    Currency("CHF", "756", 2),
    Currency("SEK", "752", 2),
    Currency("NOK", "578", 2),
    Currency("DKK", "208", 2),
    Currency("PLN", "985", 2),
    Currency("CAD", "124", 2),
    Currency("AUD", "036", 2),
    Currency("MXN", "484", 2),
    Currency("JPY", "392", 0),
)
_BY_CODE = {c.code: c for c in _CURRENCIES}
_BY_NUMERIC = {int(c.numeric): c for c in _CURRENCIES}


def currency(code: str | int) -> Currency:
    """Look a currency up by alphabetic (``"EUR"``) or numeric (``"978"``, ``978``) code.

    Raises ``ValueError`` for a currency this plugin does not know.
    """
    text = str(code).strip().upper()
    found = _BY_NUMERIC.get(int(text)) if text.isdigit() else _BY_CODE.get(text)
    if found is None:
        raise ValueError(f"unsupported currency {code!r}")
    return found


def to_minor_units(amount: Decimal, code: str | int) -> int:
    """Return ``amount`` in minor units (``Decimal("49.99")`` EUR → ``4999``).

    Raises ``ValueError`` if the amount is not positive or has more decimals than the currency.
    """
    cur = currency(code)
    if not isinstance(amount, Decimal):
        raise TypeError("amounts must be decimal.Decimal")
    try:
        minor = (amount.scaleb(cur.exponent)).to_integral_exact()
    except InvalidOperation as exc:
        raise ValueError(f"invalid amount {amount!r}") from exc
    if minor != amount.scaleb(cur.exponent):
        raise ValueError(f"{amount} has more than {cur.exponent} decimals for {cur.code}")
    if minor <= 0:
        raise ValueError(f"the amount must be positive, not {amount}")
    return int(minor)


def from_minor_units(minor: int | str, code: str | int) -> Decimal:
    """Return the ``Decimal`` amount for ``minor`` units (``"4999"`` EUR → ``Decimal("49.99")``)."""
    cur = currency(code)
    value = int(str(minor).strip())
    return Decimal(value).scaleb(-cur.exponent).quantize(Decimal(1).scaleb(-cur.exponent))
