"""Checking a verified notification against the payment attempt it claims to settle."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .currency import currency, from_minor_units
from .payment import PaymentAttempt
from .redsys import RedsysError, get_field, read_signed_message
from .responses import ResponseText, describe_response, is_payment_approved

__all__ = [
    "NotificationMismatch",
    "NotificationOutcome",
    "check_notification",
    "read_notification",
]


class NotificationMismatch(RedsysError):
    """A correctly signed notification that does not match the attempt; nothing is recorded."""

    def __init__(self, field_name: str, expected: object, received: object) -> None:
        super().__init__(f"{field_name} mismatch: expected {expected!r}, received {received!r}")
        self.field_name = field_name
        self.expected = expected
        self.received = received


@dataclass(frozen=True)
class NotificationOutcome:
    """What a matching notification says about its attempt."""

    approved: bool
    order: str
    response_code: str
    authorisation_code: str | None
    amount: Decimal
    currency: str
    message: ResponseText
    fields: dict[str, Any] = field(repr=False)

    @property
    def status(self) -> str:
        """``"approved"`` or ``"failed"``."""
        return "approved" if self.approved else "failed"


def read_notification(secret_key_b64: str, form: Mapping[str, Any]) -> dict[str, Any]:
    """Verify a posted notification (the three form fields) and return its decoded fields.

    Raises a :class:`~facturo_ruralvia.redsys.RedsysError` (a ``ValueError``) if it is
    unsigned, forged or unreadable. The caller then finds the attempt by ``Ds_Order``.
    """
    return read_signed_message(secret_key_b64, form)


def _same_number(a: str, b: str) -> bool:
    # Redsys pads some numbers ("001" for terminal 1), so compare them as integers.
    return a.isdigit() and b.isdigit() and int(a) == int(b)


def check_notification(fields: Mapping[str, Any], attempt: PaymentAttempt) -> NotificationOutcome:
    """Check verified ``fields`` against ``attempt`` and classify the answer.

    Order, merchant code, terminal, transaction type, currency and amount must all match;
    otherwise :class:`NotificationMismatch` names the first field that does not. A match is
    ``approved`` only for transaction type 0 with ``Ds_Response`` 0000-0099; any other code
    is ``failed`` with its meaning.
    """
    order = get_field(fields, "Ds_Order")
    if order != attempt.order:
        raise NotificationMismatch("Ds_Order", attempt.order, order)
    merchant_code = get_field(fields, "Ds_MerchantCode")
    if not _same_number(merchant_code, attempt.merchant_code):
        raise NotificationMismatch("Ds_MerchantCode", attempt.merchant_code, merchant_code)
    terminal = get_field(fields, "Ds_Terminal")
    if not _same_number(terminal, attempt.terminal):
        raise NotificationMismatch("Ds_Terminal", attempt.terminal, terminal)
    transaction_type = get_field(fields, "Ds_TransactionType")
    if transaction_type != attempt.transaction_type:
        raise NotificationMismatch("Ds_TransactionType", attempt.transaction_type, transaction_type)
    expected_currency = currency(attempt.currency)
    received_currency = get_field(fields, "Ds_Currency")
    if not _same_number(received_currency, expected_currency.numeric):
        raise NotificationMismatch("Ds_Currency", expected_currency.numeric, received_currency)
    amount = get_field(fields, "Ds_Amount")
    if not (amount.isdigit() and int(amount) == attempt.amount_minor):
        raise NotificationMismatch("Ds_Amount", str(attempt.amount_minor), amount)
    response = get_field(fields, "Ds_Response")
    if not response.isdigit():
        raise NotificationMismatch("Ds_Response", "a numeric code", response)
    return NotificationOutcome(
        approved=is_payment_approved(response, transaction_type),
        order=order,
        response_code=response,
        authorisation_code=get_field(fields, "Ds_AuthorisationCode").strip("+ ") or None,
        amount=from_minor_units(amount, expected_currency.code),
        currency=expected_currency.code,
        message=describe_response(response),
        fields=dict(fields),
    )
