"""Redsys HMAC_SHA256_V1 signatures and the three-field message envelope.

Every Redsys message, in either direction, is the same envelope: ``Ds_SignatureVersion``,
``Ds_MerchantParameters`` (base64 of a JSON object) and ``Ds_Signature``. The signature is an
HMAC-SHA256 of the base64 text, keyed with the order number encrypted under the merchant's
3DES secret key.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Mapping
from hashlib import sha256
from typing import Any
from urllib.parse import unquote_plus

from cryptography.hazmat.primitives.ciphers import Cipher, modes

try:
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
except ImportError:  # cryptography < 43
    from cryptography.hazmat.primitives.ciphers.algorithms import (  # type: ignore[attr-defined,no-redef,unused-ignore]
        TripleDES,
    )

__all__ = [
    "SIGNATURE_VERSION",
    "MalformedMessage",
    "RedsysError",
    "SignatureError",
    "decode_parameters",
    "encode_parameters",
    "get_field",
    "merchant_signature",
    "order_key",
    "order_of",
    "read_signed_message",
    "sign",
    "signed_message",
    "verify_notification",
    "verify_request",
]

SIGNATURE_VERSION = "HMAC_SHA256_V1"


class RedsysError(ValueError):
    """Base class of every error raised on a malformed or untrusted Redsys message."""


class SignatureError(RedsysError):
    """The signature is missing, malformed, of an unknown version, or does not match."""


class MalformedMessage(RedsysError):
    """The parameters are not base64 of a JSON object, or a required field is missing."""


def _b64decode_any(text: str) -> bytes:
    """Decode base64 in the standard or the URL-safe alphabet, with or without padding."""
    cleaned = text.strip().replace("-", "+").replace("_", "/").rstrip("=")
    cleaned += "=" * (-len(cleaned) % 4)
    return base64.b64decode(cleaned, validate=True)


def _secret_key(secret_key_b64: str) -> bytes:
    try:
        key = _b64decode_any(secret_key_b64)
    except (binascii.Error, ValueError) as exc:
        raise RedsysError("the Redsys secret key is not valid base64") from exc
    if len(key) != 24:
        raise RedsysError(f"the Redsys secret key must decode to 24 bytes, not {len(key)}")
    return key


def order_key(secret_key_b64: str, order: str) -> bytes:
    """Return the per-order HMAC key: 3DES-CBC (zero IV) of the zero-padded order.

    The order is padded with NUL bytes to the next multiple of 8 only when needed, so an
    8-character order stays one block and a 9-character one becomes two.
    """
    data = order.encode("utf-8")
    if not data:
        raise MalformedMessage("the order number is empty")
    data += b"\0" * (-len(data) % 8)
    encryptor = Cipher(TripleDES(_secret_key(secret_key_b64)), modes.CBC(b"\0" * 8)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def _mac(secret_key_b64: str, order: str, merchant_parameters_b64: str) -> bytes:
    key = order_key(secret_key_b64, order)
    return hmac.new(key, merchant_parameters_b64.encode("ascii"), sha256).digest()


def sign(
    secret_key_b64: str, order: str, merchant_parameters_b64: str, *, urlsafe: bool = False
) -> str:
    """Sign ``merchant_parameters_b64`` (the exact base64 text) for ``order``.

    Requests use the standard alphabet; Redsys signs its redirect notifications in the
    URL-safe alphabet (``urlsafe=True``), keeping the ``=`` padding.
    """
    mac = _mac(secret_key_b64, order, merchant_parameters_b64)
    return (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(mac).decode("ascii")


def encode_parameters(parameters: Mapping[str, Any]) -> str:
    """Return ``Ds_MerchantParameters``: standard base64 of compact JSON, keys in given order."""
    text = json.dumps(dict(parameters), separators=(",", ":"))
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def decode_parameters(merchant_parameters_b64: str) -> dict[str, Any]:
    """Decode ``Ds_MerchantParameters`` (either base64 alphabet) into the raw JSON object.

    Values are returned as sent; see :func:`verify_notification` for URL-decoding.
    """
    try:
        data = json.loads(_b64decode_any(merchant_parameters_b64).decode("utf-8"))
    except (binascii.Error, ValueError) as exc:
        raise MalformedMessage("Ds_MerchantParameters is not base64-encoded JSON") from exc
    if not isinstance(data, dict):
        raise MalformedMessage("Ds_MerchantParameters is not a JSON object")
    return data


def _field(parameters: Mapping[str, Any], *names: str) -> Any:
    """Look a field up by any of ``names``, ignoring case (Redsys accepts both spellings)."""
    folded = {key.upper(): value for key, value in parameters.items()}
    for name in names:
        if name.upper() in folded:
            return folded[name.upper()]
    return None


#: ``Ds_Card_Brand`` codes → the brand people know (Redsys' integration guide).
CARD_BRANDS = {
    "1": "Visa",
    "2": "Mastercard",
    "6": "Diners",
    "8": "American Express",
    "9": "JCB",
    "22": "UnionPay",
}


def brand_name(code: str) -> str:
    """The brand of a ``Ds_Card_Brand`` code; an unknown code gives "" (nothing is shown)."""
    return CARD_BRANDS.get(code.strip(), "")


def get_field(parameters: Mapping[str, Any], name: str) -> str:
    """Return field ``name`` (any case) as stripped text, or ``""`` when it is absent."""
    value = _field(parameters, name)
    return "" if value is None else str(value).strip()


def order_of(parameters: Mapping[str, Any]) -> str:
    """Return the order of a request (``DS_MERCHANT_ORDER``) or notification (``Ds_Order``)."""
    order = _field(parameters, "DS_MERCHANT_ORDER", "Ds_Order")
    if order is None or str(order) == "":
        raise MalformedMessage("the parameters carry no order number")
    return str(order)


def merchant_signature(secret_key_b64: str, merchant_parameters_b64: str) -> str:
    """Return the standard-base64 ``Ds_Signature`` of a request's ``Ds_MerchantParameters``.

    The order number is read from the parameters (``DS_MERCHANT_ORDER``, any case).
    """
    order = order_of(decode_parameters(merchant_parameters_b64))
    return sign(secret_key_b64, order, merchant_parameters_b64)


def _is_url_encoded(fields: Mapping[str, Any]) -> bool:
    # Redirect notifications URL-encode every value; REST answers do not. The date and hour
    # always contain a separator, so they tell the two apart.
    return any(
        isinstance(fields.get(name), str) and "%" in fields[name] for name in ("Ds_Date", "Ds_Hour")
    )


def _verify(secret_key_b64: str, order: str, merchant_parameters_b64: str, signature: str) -> None:
    try:
        received = _b64decode_any(signature)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError("Ds_Signature is not valid base64") from exc
    expected = _mac(secret_key_b64, order, merchant_parameters_b64)
    if not hmac.compare_digest(expected, received):
        raise SignatureError("Ds_Signature does not match the parameters and the secret key")


def verify_notification(
    secret_key_b64: str, merchant_parameters_b64: str, signature: str
) -> dict[str, Any]:
    """Verify a notification or REST answer and return its decoded fields.

    The order comes from ``Ds_Order`` in the parameters; the signature may use either base64
    alphabet and is compared in constant time. URL-encoded values (redirect notifications)
    are decoded one by one after the check. Raises :class:`SignatureError` on a bad signature
    and :class:`MalformedMessage` on unreadable parameters, both subclasses of ``ValueError``.
    """
    fields = decode_parameters(merchant_parameters_b64)
    order = _field(fields, "Ds_Order")
    if order is None or str(order) == "":
        raise MalformedMessage("the notification carries no Ds_Order")
    _verify(secret_key_b64, str(order), merchant_parameters_b64, signature)
    if _is_url_encoded(fields):
        fields = {
            key: unquote_plus(value) if isinstance(value, str) else value
            for key, value in fields.items()
        }
    return fields


def verify_request(
    secret_key_b64: str, merchant_parameters_b64: str, signature: str
) -> dict[str, Any]:
    """Verify a merchant's request (order from ``DS_MERCHANT_ORDER``) and return its fields.

    This is the gateway's side of :func:`merchant_signature`, used by the sandbox.
    """
    fields = decode_parameters(merchant_parameters_b64)
    _verify(secret_key_b64, order_of(fields), merchant_parameters_b64, signature)
    return fields


def signed_message(
    secret_key_b64: str, parameters: Mapping[str, Any], *, urlsafe: bool = False
) -> dict[str, str]:
    """Encode and sign ``parameters`` into the three-field envelope."""
    merchant_parameters = encode_parameters(parameters)
    order = order_of(parameters)
    return {
        "Ds_SignatureVersion": SIGNATURE_VERSION,
        "Ds_MerchantParameters": merchant_parameters,
        "Ds_Signature": sign(secret_key_b64, order, merchant_parameters, urlsafe=urlsafe),
    }


def read_signed_message(secret_key_b64: str, message: Mapping[str, Any]) -> dict[str, Any]:
    """Check the version of a received envelope (form or JSON) and verify it.

    Returns the decoded fields. Only ``HMAC_SHA256_V1`` is accepted for now; any other
    version raises :class:`SignatureError`.
    """
    version = message.get("Ds_SignatureVersion")
    parameters = message.get("Ds_MerchantParameters")
    signature = message.get("Ds_Signature")
    if version != SIGNATURE_VERSION:
        raise SignatureError(f"unsupported Ds_SignatureVersion {version!r}")
    if not isinstance(parameters, str) or not parameters:
        raise MalformedMessage("Ds_MerchantParameters is missing")
    if not isinstance(signature, str) or not signature:
        raise SignatureError("Ds_Signature is missing")
    return verify_notification(secret_key_b64, parameters, signature)
