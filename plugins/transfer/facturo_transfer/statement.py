"""The bank-statement line shared by the Norma 43 and camt.053 parsers."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal


class Direction(enum.StrEnum):
    """Whether money came into the account (credit) or left it (debit)."""

    CREDIT = "credit"
    DEBIT = "debit"


class StatementError(ValueError):
    """A statement file that cannot be trusted; the message names the line and the problem."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}" if line is not None else message)


@dataclass(frozen=True)
class StatementLine:
    """One booked movement of a bank statement.

    `identity` is stable across re-imports of the same movement (and of overlapping statements),
    so it can carry a unique index. `amount` is always positive; `direction` gives the sign.
    `remittance` is the free text the payer wrote, joined from every field that carries it.
    """

    identity: str
    account: str
    statement_id: str
    booking_date: date
    value_date: date
    amount: Decimal
    direction: Direction
    currency: str
    remittance: str
    bank_reference: str = ""
    end_to_end_id: str = ""
    structured_reference: str = ""
    original_amount: Decimal | None = None
    original_currency: str = ""
    return_reason: str = ""
    source_line: int | None = None

    @property
    def signed_amount(self) -> Decimal:
        """The amount with its sign: positive for credits, negative for debits."""
        return self.amount if self.direction is Direction.CREDIT else -self.amount

    @property
    def is_credit(self) -> bool:
        """True when money came in."""
        return self.direction is Direction.CREDIT


def digest_identity(prefix: str, *parts: object) -> str:
    """Return `prefix:` followed by a 32-hex-digit digest of `parts` (a stable opaque identity)."""
    text = "\x1f".join(str(part) for part in parts)
    return f"{prefix}:{hashlib.sha256(text.encode('utf-8')).hexdigest()[:32]}"
