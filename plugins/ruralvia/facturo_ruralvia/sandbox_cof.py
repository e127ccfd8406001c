"""The sandbox's Credential-on-File side: tokens issued on a payment that asks for one, and
merchant-initiated charges (MIT) through the REST endpoint with their real fields and codes.

Test cards decide what later charges answer: most approve (``0000``); the "declines" card
approves the first payment and refuses every MIT with ``0116`` (insufficient funds); the
"expires" card's MITs answer ``0101`` (expired card). :meth:`SandboxLedger.withdraw` makes a
reference answer ``SIS0467`` (withdrawn) as if the bank had revoked it.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .redsys import get_field, signed_message
from .responses import is_payment_approved

if TYPE_CHECKING:
    from .sandbox import SandboxLedger

__all__ = [
    "DECLINING_CARD",
    "EXPIRING_CARD",
    "MIT_RESPONSES",
    "SandboxToken",
    "answer_mit",
    "issue_token",
]

DECLINING_CARD = "4548814479727229"
EXPIRING_CARD = "4548817212493017"
#: ``Ds_Response`` of merchant-initiated charges, by card (others approve).
MIT_RESPONSES = {DECLINING_CARD: "0116", EXPIRING_CARD: "0101", "5576440022788500": "0190"}
_EXCEPTIONS = ("MIT", "LWV", "TRA", "COR", "ATD", "NDF")
_COF_TYPES = ("I", "R", "H", "E", "D", "M", "N", "C")


@dataclass
class SandboxToken:
    """A reference the sandbox issued: the card behind it and the COF series id."""

    identifier: str
    cof_txnid: str
    card_number: str
    brand: str
    expiry: str
    withdrawn: bool = False
    charges: int = 0


def _masked(number: str) -> str:
    return number[:6] + "*" * max(len(number) - 10, 0) + number[-4:]


def _expiry(text: str) -> str:
    """``MM/YY`` as typed on the payment page → ``YYMM`` (``Ds_ExpiryDate``)."""
    month, _, year = text.strip().partition("/")
    if month.isdigit() and year.isdigit():
        return f"{int(year) % 100:02d}{int(month):02d}"
    return "4912"


def issue_token(
    ledger: SandboxLedger, card_number: str, brand: str, expiry_text: str
) -> dict[str, str]:
    """Issue a reference for an approved first payment; return the notification's extra
    fields (``Ds_Merchant_Identifier``, ``Ds_Merchant_Cof_Txnid``, ``Ds_ExpiryDate``)."""
    token = SandboxToken(
        identifier=secrets.token_hex(20),
        cof_txnid=f"{secrets.randbelow(10**13):013d}",
        card_number=card_number.replace(" ", ""),
        brand=brand,
        expiry=_expiry(expiry_text),
    )
    ledger.tokens[token.identifier] = token
    return {
        "Ds_Merchant_Identifier": token.identifier,
        "Ds_Merchant_Cof_Txnid": token.cof_txnid,
        "Ds_ExpiryDate": token.expiry,
    }


def _mit_error(fields: Mapping[str, Any], ledger: SandboxLedger) -> str | None:
    """The ``errorCode`` Redsys would answer to this MIT request, if any."""
    identifier = get_field(fields, "DS_MERCHANT_IDENTIFIER")
    if not identifier or identifier.upper() == "REQUIRED":
        return "SIS0023"  # the sandbox's REST endpoint charges saved references only
    if len(identifier) > 40:
        return "SIS0541"
    exception = get_field(fields, "DS_MERCHANT_EXCEP_SCA")
    if exception and exception not in _EXCEPTIONS:
        return "SIS0616"
    cof_type = get_field(fields, "DS_MERCHANT_COF_TYPE")
    if cof_type and cof_type not in _COF_TYPES:
        return "SIS0802"
    txnid = get_field(fields, "DS_MERCHANT_COF_TXNID")
    if exception == "MIT" and (get_field(fields, "DS_MERCHANT_COF_INI") != "N" or not txnid):
        return "SIS0617"
    token = ledger.tokens.get(identifier)
    if token is None:
        return "SIS0466"
    if token.withdrawn:
        return "SIS0467"
    if txnid and txnid != token.cof_txnid:
        return "SIS0296"
    return None


def answer_mit(
    secret_key_b64: str, ledger: SandboxLedger, fields: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """The JSON answer to a REST transaction type 0 on a saved reference (see module doc)."""
    from .sandbox import _Payment

    error = _mit_error(fields, ledger)
    key = (
        get_field(fields, "DS_MERCHANT_MERCHANTCODE"),
        int(get_field(fields, "DS_MERCHANT_TERMINAL") or 0),
        get_field(fields, "DS_MERCHANT_ORDER"),
    )
    if error is None and key in ledger.payments:
        error = "SIS0051"
    if error is not None:
        return {"errorCode": error}
    token = ledger.tokens[get_field(fields, "DS_MERCHANT_IDENTIFIER")]
    direct = get_field(fields, "DS_MERCHANT_DIRECTPAYMENT").lower()
    exempt = get_field(fields, "DS_MERCHANT_EXCEP_SCA") == "MIT" and direct == "true"
    response = MIT_RESPONSES.get(token.card_number, "0000") if exempt else "0195"
    approved = is_payment_approved(response, "0")
    authorisation = f"{secrets.randbelow(10**6):06d}" if approved else ""
    amount = int(get_field(fields, "DS_MERCHANT_AMOUNT"))
    ledger.payments[key] = _Payment(
        amount,
        get_field(fields, "DS_MERCHANT_CURRENCY"),
        approved,
        response=response,
        authorisation=authorisation,
        paid_at=now,
    )
    token.charges += 1
    answer = {
        "Ds_Amount": str(amount),
        "Ds_Currency": get_field(fields, "DS_MERCHANT_CURRENCY"),
        "Ds_Order": key[2],
        "Ds_MerchantCode": key[0],
        "Ds_Terminal": str(key[1]),
        "Ds_Response": response,
        "Ds_AuthorisationCode": authorisation,
        "Ds_TransactionType": "0",
        "Ds_SecurePayment": "0",
        "Ds_Language": "1",
        "Ds_CardNumber": _masked(token.card_number),
        "Ds_Card_Brand": token.brand,
        "Ds_Card_Country": "724",
        "Ds_Merchant_Identifier": token.identifier,
        "Ds_MerchantData": get_field(fields, "DS_MERCHANT_MERCHANTDATA"),
        "Ds_ProcessedPayMethod": "3",
        f"Ds_Control_{int(now.timestamp() * 1000)}": str(int(now.timestamp() * 1000)),
    }
    return signed_message(secret_key_b64, answer)
