"""Refunds (transaction type 3) through the Redsys REST endpoint ``trataPeticionREST``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from .currency import currency, from_minor_units, to_minor_units
from .notification import NotificationMismatch
from .redsys import MalformedMessage, get_field, read_signed_message, signed_message
from .responses import ResponseText, describe_error, describe_response, is_refund_approved
from .settings import RuralviaSettings

__all__ = [
    "RefundRequest",
    "RefundResult",
    "build_refund_request",
    "parse_refund_response",
    "refund",
    "refund_async",
]

REFUND_TRANSACTION_TYPE = "3"


@dataclass(frozen=True)
class RefundRequest:
    """A signed refund request: POST ``body`` as JSON to ``url``."""

    url: str
    body: dict[str, str]
    order: str
    amount_minor: int
    currency: str
    merchant_code: str
    terminal: str


@dataclass(frozen=True)
class RefundResult:
    """Redsys' answer to a refund. ``approved`` only for a signed ``Ds_Response`` 0900."""

    approved: bool
    order: str
    amount: Decimal
    response_code: str | None
    error_code: str | None
    authorisation_code: str | None
    message: ResponseText
    fields: dict[str, Any] = field(repr=False)


def build_refund_request(
    settings: RuralviaSettings, *, order: str, amount: Decimal, currency_code: str
) -> RefundRequest:
    """Return the signed request refunding ``amount`` of the payment made under ``order``."""
    cur = currency(currency_code)
    minor = to_minor_units(amount, cur.code)
    parameters = {
        "DS_MERCHANT_ORDER": order,
        "DS_MERCHANT_MERCHANTCODE": settings.merchant_code,
        "DS_MERCHANT_TERMINAL": settings.terminal,
        "DS_MERCHANT_TRANSACTIONTYPE": REFUND_TRANSACTION_TYPE,
        "DS_MERCHANT_AMOUNT": str(minor),
        "DS_MERCHANT_CURRENCY": cur.numeric,
    }
    return RefundRequest(
        url=settings.rest_url,
        body=signed_message(settings.secret_key, parameters),
        order=order,
        amount_minor=minor,
        currency=cur.code,
        merchant_code=settings.merchant_code,
        terminal=settings.terminal,
    )


def parse_refund_response(
    secret_key_b64: str, request: RefundRequest, payload: Mapping[str, Any]
) -> RefundResult:
    """Interpret the JSON answer to ``request``.

    ``{"errorCode": "SIS0057"}`` is a refusal with the error's meaning. A signed answer is
    verified (:class:`~facturo_ruralvia.redsys.SignatureError` if forged) and must echo the
    request's order, merchant, terminal and amount (:class:`NotificationMismatch` if not).
    """
    amount = from_minor_units(request.amount_minor, request.currency)
    error_code = payload.get("errorCode")
    if error_code:
        return RefundResult(
            approved=False,
            order=request.order,
            amount=amount,
            response_code=None,
            error_code=str(error_code),
            authorisation_code=None,
            message=describe_error(str(error_code)),
            fields=dict(payload),
        )
    fields = read_signed_message(secret_key_b64, payload)
    checks = (
        ("Ds_Order", request.order, get_field(fields, "Ds_Order"), False),
        ("Ds_MerchantCode", request.merchant_code, get_field(fields, "Ds_MerchantCode"), True),
        ("Ds_Terminal", request.terminal, get_field(fields, "Ds_Terminal"), True),
        ("Ds_Amount", str(request.amount_minor), get_field(fields, "Ds_Amount"), True),
    )
    for name, expected, received, numeric in checks:
        same = (
            received.isdigit() and int(received) == int(expected)
            if numeric
            else received == expected
        )
        if not same:
            raise NotificationMismatch(name, expected, received)
    response = get_field(fields, "Ds_Response")
    transaction_type = get_field(fields, "Ds_TransactionType") or REFUND_TRANSACTION_TYPE
    return RefundResult(
        approved=is_refund_approved(response, transaction_type),
        order=request.order,
        amount=amount,
        response_code=response,
        error_code=None,
        authorisation_code=get_field(fields, "Ds_AuthorisationCode").strip("+ ") or None,
        message=describe_response(response),
        fields=fields,
    )


def _answer(response: httpx.Response) -> dict[str, Any]:
    response.raise_for_status()
    try:
        payload = response.json()
    except ValueError as exc:
        raise MalformedMessage("the refund answer is not JSON") from exc
    if not isinstance(payload, dict):
        raise MalformedMessage("the refund answer is not a JSON object")
    return payload


def refund(
    client: httpx.Client,
    settings: RuralviaSettings,
    *,
    order: str,
    amount: Decimal,
    currency_code: str,
) -> RefundResult:
    """Ask Redsys to refund ``amount`` of the payment ``order`` and return its answer.

    Transport errors and non-2xx answers raise ``httpx.HTTPError``: the outcome is unknown
    and the caller should check later rather than assume either way.
    """
    request = build_refund_request(
        settings, order=order, amount=amount, currency_code=currency_code
    )
    answer = _answer(client.post(request.url, json=request.body))
    return parse_refund_response(settings.secret_key, request, answer)


async def refund_async(
    client: httpx.AsyncClient,
    settings: RuralviaSettings,
    *,
    order: str,
    amount: Decimal,
    currency_code: str,
) -> RefundResult:
    """:func:`refund` with an ``httpx.AsyncClient``, for callers on the event loop."""
    request = build_refund_request(
        settings, order=order, amount=amount, currency_code=currency_code
    )
    answer = _answer(await client.post(request.url, json=request.body))
    return parse_refund_response(settings.secret_key, request, answer)
