"""A small PayPal REST client: OAuth2 token, Orders v2 create/capture, Payments v2 refund.

The protocol lives in :class:`PayPalRequests` (builds ``httpx.Request`` objects) and the
``parse_*`` functions (read ``httpx.Response`` objects); :class:`PayPalClient` and
:class:`AsyncPayPalClient` only send them, over an injected ``httpx.Client`` /
``httpx.AsyncClient``. Point the base URL at :data:`LIVE_BASE_URL`, :data:`SANDBOX_BASE_URL`, or
the local sandbox (see ``facturo_paypal.sandbox``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

import httpx

from .webhooks import transmission_headers

__all__ = [
    "LIVE_BASE_URL",
    "SANDBOX_BASE_URL",
    "AccessToken",
    "Capture",
    "CreatedOrder",
    "OrderRequest",
    "PayPalError",
    "PayPalRequests",
    "Refund",
    "format_amount",
    "parse_capture",
    "parse_created_order",
    "parse_refund",
    "parse_token",
    "parse_verification",
]

LIVE_BASE_URL = "https://api-m.paypal.com"
SANDBOX_BASE_URL = "https://api-m.sandbox.paypal.com"

#: Seconds before ``expires_in`` at which a cached token is no longer used.
DEFAULT_TOKEN_MARGIN = 60.0
_CENT = Decimal("0.01")


class PayPalError(Exception):
    """A PayPal call failed: an error response, an unexpected body, or a transport error.

    ``status_code`` is ``None`` for transport errors. ``name`` is PayPal's error name (e.g.
    ``UNPROCESSABLE_ENTITY``, ``invalid_client``) and ``issue`` the first detail's issue code
    (e.g. ``ORDER_NOT_APPROVED``, ``DUPLICATE_INVOICE_ID``) when PayPal gives one.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        name: str = "",
        issue: str | None = None,
        debug_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.name = name
        self.issue = issue
        self.debug_id = debug_id

    @property
    def retryable(self) -> bool:
        """True for transport errors, 429 and 5xx: the same call may succeed later."""
        return self.status_code is None or self.status_code == 429 or self.status_code >= 500

    def __str__(self) -> str:
        parts = [f"{self.status_code or '-'} {self.name}: {self.message}"]
        if self.issue:
            parts.append(f"issue={self.issue}")
        if self.debug_id:
            parts.append(f"debug_id={self.debug_id}")
        return " ".join(parts)


def format_amount(amount: Decimal) -> str:
    """``amount`` as PayPal's ``value`` string with exactly two decimals.

    Raises ValueError for a non-positive amount or one with more than two decimals (rounding
    money silently is never right).
    """
    quantized = amount.quantize(_CENT)
    if quantized != amount or quantized <= 0:
        raise ValueError(f"amount must be positive with at most 2 decimals, got {amount}")
    return f"{quantized:f}"


def _decimal(value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise PayPalError(f"bad amount {value!r}", name="UNEXPECTED_RESPONSE") from exc


@dataclass(frozen=True)
class OrderRequest:
    """What to ask PayPal for when a customer pays one document.

    ``reference`` (the document reference, e.g. ``PRO-2026-000123``) becomes ``invoice_id`` and
    ``reference_id``; ``custom_id`` is our own opaque id (1–127 chars) echoed in captures and
    webhooks.
    """

    reference: str
    custom_id: str
    amount: Decimal
    currency: str
    return_url: str
    cancel_url: str
    brand_name: str
    locale: str
    description: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``POST /v2/checkout/orders`` body."""
        unit: dict[str, Any] = {
            "reference_id": self.reference,
            "invoice_id": self.reference,
            "custom_id": self.custom_id,
            "amount": {"currency_code": self.currency, "value": format_amount(self.amount)},
        }
        if self.description:
            unit["description"] = self.description
        return {
            "intent": "CAPTURE",
            "purchase_units": [unit],
            "payment_source": {
                "paypal": {
                    "experience_context": {
                        "brand_name": self.brand_name,
                        "locale": self.locale,
                        "user_action": "PAY_NOW",
                        "shipping_preference": "NO_SHIPPING",
                        "return_url": self.return_url,
                        "cancel_url": self.cancel_url,
                    }
                }
            },
        }


@dataclass(frozen=True)
class AccessToken:
    """A bearer token and the clock reading after which it must not be used."""

    value: str
    usable_until: float


@dataclass(frozen=True)
class CreatedOrder:
    """A new order: send the payer to ``approval_url``."""

    order_id: str
    status: str
    approval_url: str


@dataclass(frozen=True)
class Capture:
    """The first capture of a captured order. Only ``status == "COMPLETED"`` means paid."""

    order_id: str
    order_status: str
    capture_id: str
    status: str
    amount: Decimal
    currency: str
    invoice_id: str | None
    custom_id: str | None
    payer_country: str | None = None


@dataclass(frozen=True)
class Refund:
    """A refund of a capture; ``amount`` and ``currency`` are absent in a minimal response."""

    refund_id: str
    status: str
    amount: Decimal | None
    currency: str | None


def _raise_for_error(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise PayPalError(
            response.text[:200] or response.reason_phrase,
            status_code=response.status_code,
            name=f"HTTP_{response.status_code}",
        )
    details = data.get("details") or [{}]
    first = details[0] if isinstance(details[0], dict) else {}
    raise PayPalError(
        str(data.get("message") or data.get("error_description") or first.get("description", "")),
        status_code=response.status_code,
        name=str(data.get("name") or data.get("error") or ""),
        issue=first.get("issue"),
        debug_id=data.get("debug_id") or response.headers.get("paypal-debug-id"),
    )


def _json(response: httpx.Response) -> dict[str, Any]:
    _raise_for_error(response)
    try:
        data = response.json()
    except ValueError as exc:
        raise PayPalError("response is not JSON", name="UNEXPECTED_RESPONSE") from exc
    if not isinstance(data, dict):
        raise PayPalError("response is not a JSON object", name="UNEXPECTED_RESPONSE")
    return data


def parse_token(response: httpx.Response, now: float, margin: float) -> AccessToken:
    """Read a ``/v1/oauth2/token`` response; the token is usable until expiry minus ``margin``."""
    data = _json(response)
    try:
        return AccessToken(str(data["access_token"]), now + float(data["expires_in"]) - margin)
    except (KeyError, ValueError) as exc:
        raise PayPalError("token response without token", name="UNEXPECTED_RESPONSE") from exc


def parse_created_order(response: httpx.Response) -> CreatedOrder:
    """Read a create-order response; the approval link is ``payer-action``, else ``approve``."""
    data = _json(response)
    links = {link.get("rel"): link.get("href") for link in data.get("links", [])}
    approval = links.get("payer-action") or links.get("approve")
    if not approval or "id" not in data:
        raise PayPalError("order without id or approval link", name="UNEXPECTED_RESPONSE")
    return CreatedOrder(
        order_id=str(data["id"]), status=str(data.get("status", "")), approval_url=approval
    )


def parse_capture(response: httpx.Response) -> Capture:
    """Read a capture-order response: ``purchase_units[0].payments.captures[0]``."""
    data = _json(response)
    try:
        capture = data["purchase_units"][0]["payments"]["captures"][0]
        return Capture(
            order_id=str(data["id"]),
            order_status=str(data.get("status", "")),
            capture_id=str(capture["id"]),
            status=str(capture["status"]),
            amount=_decimal(capture["amount"]["value"]),
            currency=str(capture["amount"]["currency_code"]),
            invoice_id=capture.get("invoice_id"),
            custom_id=capture.get("custom_id"),
            payer_country=((data.get("payer") or {}).get("address") or {}).get("country_code"),
        )
    except (KeyError, IndexError, TypeError) as exc:
        raise PayPalError("capture response without a capture", name="UNEXPECTED_RESPONSE") from exc


def parse_refund(response: httpx.Response) -> Refund:
    """Read a refund-capture response."""
    data = _json(response)
    if "id" not in data or "status" not in data:
        raise PayPalError("refund response without id", name="UNEXPECTED_RESPONSE")
    amount = data.get("amount") or {}
    return Refund(
        refund_id=str(data["id"]),
        status=str(data["status"]),
        amount=_decimal(amount["value"]) if "value" in amount else None,
        currency=amount.get("currency_code"),
    )


def parse_verification(response: httpx.Response) -> bool:
    """True only for ``verification_status == "SUCCESS"``."""
    return _json(response).get("verification_status") == "SUCCESS"


class PayPalRequests:
    """Builds the HTTP requests of the protocol; sends nothing."""

    def __init__(self, base_url: str, client_id: str, client_secret: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()

    def _url(self, path: str) -> str:
        return self.base_url + path

    def _post(
        self, token: str, path: str, body: dict[str, Any], request_id: str | None
    ) -> httpx.Request:
        headers = {"Authorization": f"Bearer {token}", "Prefer": "return=representation"}
        if request_id is not None:
            headers["PayPal-Request-Id"] = request_id
        return httpx.Request("POST", self._url(path), headers=headers, json=body)

    def token(self) -> httpx.Request:
        """``POST /v1/oauth2/token`` with client credentials."""
        return httpx.Request(
            "POST",
            self._url("/v1/oauth2/token"),
            headers={"Authorization": f"Basic {self._basic}", "Accept": "application/json"},
            data={"grant_type": "client_credentials"},
        )

    def create_order(self, token: str, order: OrderRequest, request_id: str) -> httpx.Request:
        """``POST /v2/checkout/orders``."""
        return self._post(token, "/v2/checkout/orders", order.to_json(), request_id)

    def get_order(self, token: str, order_id: str) -> httpx.Request:
        """``GET /v2/checkout/orders/{id}`` (the order lookup used by reconciliation)."""
        return httpx.Request(
            "GET",
            self._url(f"/v2/checkout/orders/{quote(order_id, safe='')}"),
            headers={"Authorization": f"Bearer {token}"},
        )

    def capture_order(self, token: str, order_id: str, request_id: str) -> httpx.Request:
        """``POST /v2/checkout/orders/{id}/capture`` with an idempotency key."""
        return self._post(token, f"/v2/checkout/orders/{order_id}/capture", {}, request_id)

    def refund_capture(
        self, token: str, capture_id: str, amount: Decimal, currency: str, request_id: str
    ) -> httpx.Request:
        """``POST /v2/payments/captures/{id}/refund`` for ``amount`` (partial refunds allowed)."""
        body = {"amount": {"value": format_amount(amount), "currency_code": currency}}
        return self._post(token, f"/v2/payments/captures/{capture_id}/refund", body, request_id)

    def verify_webhook_signature(
        self, token: str, headers: Mapping[str, str], body: bytes, webhook_id: str
    ) -> httpx.Request | None:
        """``POST /v1/notifications/verify-webhook-signature``; ``None`` if headers are missing.

        The raw event bytes are spliced into the request unchanged: re-serialising the event is
        the classic cause of constant ``FAILURE`` answers.
        """
        parsed = transmission_headers(headers)
        if parsed is None:
            return None
        fields = {
            "auth_algo": parsed.auth_algo,
            "cert_url": parsed.cert_url,
            "transmission_id": parsed.transmission_id,
            "transmission_sig": parsed.transmission_sig,
            "transmission_time": parsed.transmission_time,
            "webhook_id": webhook_id,
        }
        content = json.dumps(fields)[:-1].encode() + b', "webhook_event": ' + body + b"}"
        return httpx.Request(
            "POST",
            self._url("/v1/notifications/verify-webhook-signature"),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            content=content,
        )
