"""Redsys order numbers: 4 to 12 characters, the first four digits, new for every attempt."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

__all__ = ["ORDER_PATTERN", "is_valid_order", "new_order_number"]

ORDER_PATTERN = re.compile(r"[0-9]{4}[0-9A-Za-z]{0,8}")

# Upper case and digits only: some bank back offices fold case, so mixed case could collide.
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def is_valid_order(order: str) -> bool:
    """Return whether ``order`` follows the documented rule (strict form)."""
    return ORDER_PATTERN.fullmatch(order) is not None


def new_order_number(length: int = 12, *, now: datetime | None = None) -> str:
    """Return a fresh order number of ``length`` characters (4 to 12).

    The first four characters are the UTC year and month (``YYMM``), which keeps them digits
    and helps reconciliation; the rest are random upper-case letters and digits. The caller
    stores it under a unique constraint, so the rare collision is retried, never reused.
    """
    if not 4 <= length <= 12:
        raise ValueError("Redsys order numbers have 4 to 12 characters")
    stamp = (now or datetime.now(UTC)).strftime("%y%m")
    return stamp + "".join(secrets.choice(_ALPHABET) for _ in range(length - 4))
