"""Merchant-initiated charges (MIT) of a saved card through the Redsys REST endpoint.

A later charge of a Credential-on-File series: transaction type 0 with a new order, the
stored reference (``DS_MERCHANT_IDENTIFIER``), ``COF_INI=N``, ``COF_TYPE=R``, the first
operation's ``COF_TXNID``, and the exemption from strong authentication
(``EXCEP_SCA=MIT``, ``DIRECTPAYMENT=true``). The answer is signed like a notification, or an
unsigned ``{"errorCode": "SIS0xxx"}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from .currency import currency, to_minor_units
from .redsys import MalformedMessage, get_field, read_signed_message, signed_message
from .settings import RuralviaSettings

__all__ = [
    "DEAD_TOKEN_ERRORS",
    "MitAnswer",
    "MitRequest",
    "NEEDS_CUSTOMER",
    "TRANSIENT",
    "build_mit_request",
    "classify_mit",
    "send_mit",
]

#: ``errorCode`` answers meaning the stored reference is dead: drop it, ask for a new card.
DEAD_TOKEN_ERRORS = frozenset({"SIS0466", "SIS0467", "SIS0321", "SIS0447", "SIS0468", "SIS0296"})
#: ``Ds_Response`` codes after which only the customer can act (expired card, SCA required,
#: "do not repeat", "not without updated card data"): the card is not charged again.
NEEDS_CUSTOMER = frozenset({"0101", "0191", "0195", "0184", "0172", "0173"})
#: Codes that say nothing was decided (system error, issuer unavailable): retry.
TRANSIENT = frozenset({"0909", "0912", "9912"})


@dataclass(frozen=True)
class MitRequest:
    """A signed merchant-initiated charge: POST ``body`` as JSON to ``url``."""

    url: str
    body: dict[str, str]
    order: str
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class MitAnswer:
    """What Redsys answered: the verified ``fields`` of a signed answer, or an
    ``error_code``; ``raw`` is the body as received (stored before it is applied)."""

    raw: str
    error_code: str | None = None
    fields: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def response_code(self) -> str:
        """``Ds_Response`` as four digits ("" for an error answer)."""
        code = get_field(self.fields, "Ds_Response")
        return f"{int(code):04d}" if code.isdigit() else code


def build_mit_request(
    settings: RuralviaSettings,
    *,
    order: str,
    amount: Decimal,
    currency_code: str,
    identifier: str,
    cof_txnid: str,
    merchant_data: str | None = None,
) -> MitRequest:
    """Return the signed MIT request charging ``amount`` to the saved reference."""
    cur = currency(currency_code)
    minor = to_minor_units(amount, cur.code)
    parameters = {
        "DS_MERCHANT_TRANSACTIONTYPE": "0",
        "DS_MERCHANT_ORDER": order,
        "DS_MERCHANT_MERCHANTCODE": settings.merchant_code,
        "DS_MERCHANT_TERMINAL": settings.terminal,
        "DS_MERCHANT_AMOUNT": str(minor),
        "DS_MERCHANT_CURRENCY": cur.numeric,
        "DS_MERCHANT_IDENTIFIER": identifier,
        "DS_MERCHANT_COF_INI": "N",
        "DS_MERCHANT_COF_TYPE": "R",
        "DS_MERCHANT_COF_TXNID": cof_txnid,
        "DS_MERCHANT_EXCEP_SCA": "MIT",
        "DS_MERCHANT_DIRECTPAYMENT": "true",
    }
    if merchant_data:
        parameters["DS_MERCHANT_MERCHANTDATA"] = merchant_data[:1024]
    return MitRequest(
        url=settings.rest_url,
        body=signed_message(settings.secret_key, parameters),
        order=order,
        amount_minor=minor,
        currency=cur.code,
    )


def send_mit(client: httpx.Client, settings: RuralviaSettings, request: MitRequest) -> MitAnswer:
    """Send ``request`` and return the verified answer.

    Transport errors and non-2xx answers raise ``httpx.HTTPError`` (the outcome is unknown);
    a forged or unreadable answer raises a ``RedsysError`` (a ``ValueError``).
    """
    response = client.post(request.url, json=request.body)
    response.raise_for_status()
    try:
        payload = response.json()
    except ValueError as exc:
        raise MalformedMessage("the charge answer is not JSON") from exc
    if not isinstance(payload, dict):
        raise MalformedMessage("the charge answer is not a JSON object")
    raw = json.dumps(payload, separators=(",", ":"))
    if payload.get("errorCode"):
        return MitAnswer(raw, error_code=str(payload["errorCode"]).strip().upper())
    return MitAnswer(raw, fields=read_signed_message(settings.secret_key, payload))


def classify_mit(answer: MitAnswer) -> str:
    """The collection outcome of an answer: ``paid``, ``declined``, ``unusable`` or ``error``."""
    if answer.error_code is not None:
        return "unusable" if answer.error_code in DEAD_TOKEN_ERRORS else "error"
    code = answer.response_code
    if code.isdigit() and 0 <= int(code) <= 99:
        return "paid"
    if code in NEEDS_CUSTOMER:
        return "unusable"
    if code in TRANSIENT:
        return "error"
    return "declined"
