"""A local stand-in for the PayPal endpoints this plugin uses, as Starlette routes.

``sandbox_routes(state)`` returns routes meant to be mounted under a prefix (e.g.
``Mount("/public/paypal-sandbox", routes=sandbox_routes(state))``); point the API client's base
URL at that prefix. It speaks the same protocol as PayPal for:

- ``POST /v1/oauth2/token`` (client credentials, HTTP Basic)
- ``POST /v2/checkout/orders``, ``GET /v2/checkout/orders/{id}``
- ``POST /v2/checkout/orders/{id}/capture`` (idempotent by ``PayPal-Request-Id``)
- ``POST /v2/payments/captures/{id}/refund``, ``GET /v2/payments/captures/{id}``
- ``POST /v1/notifications/verify-webhook-signature``
- ``POST /cgi-bin/webscr``: the IPN postback; ``VERIFIED`` only for bodies registered with
  ``state.issue_ipn`` (as PayPal verifies only what it sent), else ``INVALID``.
- ``GET /checkoutnow?token=…``: the payer's approval page (plain HTML forms, no script), whose
  buttons redirect to ``return_url?token=…&PayerID=…`` or ``cancel_url?token=…``.

Webhooks (``CHECKOUT.ORDER.APPROVED``, ``PAYMENT.CAPTURE.COMPLETED`` / ``PENDING``,
``PAYMENT.CAPTURE.REFUNDED``) are signed exactly like PayPal's with a self-signed RSA certificate
generated when the state is created, served at ``{prefix}/v1/notifications/certs/CERT-…``.
Because that URL is not on paypal.com, the receiving side must list the sandbox prefix in
``trusted_prefixes`` (see ``webhooks.validate_cert_url``) or use ``state.signer.certificate_pem``
directly. Webhooks are posted once, without retries, to ``state.webhook_url`` with the injected
``state.http`` client, after the triggering response has been sent; outcomes land in
``state.deliveries``. All state is in memory and lost on restart.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from .sandbox_state import (
    _AMOUNT,
    _CURRENCY,
    _api,
    _base_url,
    _error,
    _iso,
    _paypal_id,
    _unprocessable,
    _with_query,
)
from .sandbox_state import (
    CERT_PATH as CERT_PATH,
)
from .sandbox_state import (
    Delivery as Delivery,
)
from .sandbox_state import (
    Handler as Handler,
)
from .sandbox_state import (
    SandboxSigner as SandboxSigner,
)
from .sandbox_state import (
    SandboxState as SandboxState,
)
from .webhooks import verify_offline

__all__ = ["CERT_PATH", "Delivery", "SandboxSigner", "SandboxState", "sandbox_routes"]


async def _token(state: SandboxState, request: Request) -> Response:
    state.token_requests += 1
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    try:
        client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        client_id = secret = ""
    form = parse_qs((await request.body()).decode("latin-1"))
    if scheme.lower() != "basic" or (client_id, secret) != (state.client_id, state.client_secret):
        body = {"error": "invalid_client", "error_description": "Client Authentication failed"}
        return JSONResponse(body, status_code=401)
    if form.get("grant_type") != ["client_credentials"]:
        body = {"error": "unsupported_grant_type", "error_description": "Grant type not supported"}
        return JSONResponse(body, status_code=400)
    token = secrets.token_urlsafe(32)
    state.tokens[token] = state.clock() + timedelta(seconds=state.token_ttl)
    return JSONResponse(
        {
            "scope": "https://uri.paypal.com/services/payments/payment",
            "access_token": token,
            "token_type": "Bearer",
            "app_id": "APP-FACTURO-SANDBOX",
            "expires_in": state.token_ttl,
            "nonce": secrets.token_hex(16),
        }
    )


def _order_json(order: dict[str, Any], base: str) -> dict[str, Any]:
    links = [{"href": f"{base}/v2/checkout/orders/{order['id']}", "rel": "self", "method": "GET"}]
    if order["status"] == "PAYER_ACTION_REQUIRED":
        href = f"{base}/checkoutnow?{urlencode({'token': order['id']})}"
        links.append({"href": href, "rel": "payer-action", "method": "GET"})
    unit = dict(order["purchase_unit"])
    capture_id = order.get("capture_id")
    body: dict[str, Any] = {
        "id": order["id"],
        "status": order["status"],
        "intent": "CAPTURE",
        "create_time": order["create_time"],
        "links": links,
    }
    if capture_id is not None:
        unit["payments"] = {"captures": [order["captures"][capture_id]]}
        body["payer"] = {"payer_id": order["payer_id"], "address": {"country_code": "ES"}}
    body["purchase_units"] = [unit]
    return body


def _purchase_unit_problem(unit: Any) -> str | None:
    if not isinstance(unit, dict):
        return "purchase_units[0] must be an object"
    amount = unit.get("amount")
    if not isinstance(amount, dict) or not _AMOUNT.match(str(amount.get("value", ""))):
        return "amount.value must be a decimal string with up to two decimals"
    if not _CURRENCY.match(str(amount.get("currency_code", ""))):
        return "amount.currency_code must be a three-letter ISO code"
    for name in ("invoice_id", "custom_id"):
        if name in unit and not 1 <= len(str(unit[name])) <= 127:
            return f"{name} must have 1 to 127 characters"
    return None


async def _create_order(state: SandboxState, request: Request, data: dict[str, Any]) -> Response:
    units = data.get("purchase_units")
    if data.get("intent") != "CAPTURE" or not isinstance(units, list) or len(units) != 1:
        return _error(400, "INVALID_REQUEST", "INVALID_PARAMETER_VALUE", "One CAPTURE unit only")
    problem = _purchase_unit_problem(units[0])
    if problem is not None:
        return _error(400, "INVALID_REQUEST", "INVALID_PARAMETER_VALUE", problem)
    context = data.get("payment_source", {}).get("paypal", {}).get("experience_context", {})
    if not context.get("return_url") or not context.get("cancel_url"):
        return _error(400, "INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER", "return/cancel URL")
    invoice_id = units[0].get("invoice_id")
    if invoice_id and any(c["invoice_id"] == invoice_id for c in state.captures.values()):
        return _unprocessable(
            "DUPLICATE_INVOICE_ID", "Requested invoice number has been previously captured."
        )
    order = {
        "id": _paypal_id(),
        "status": "PAYER_ACTION_REQUIRED",
        "create_time": _iso(state.clock()),
        "purchase_unit": units[0],
        "experience_context": context,
        "captures": {},
    }
    state.orders[order["id"]] = order
    return JSONResponse(_order_json(order, _base_url(state, request)), status_code=201)


async def _get_order(state: SandboxState, request: Request, data: dict[str, Any]) -> Response:
    order = state.orders.get(request.path_params["order_id"])
    if order is None:
        return _error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "Order not found")
    return JSONResponse(_order_json(order, _base_url(state, request)))


def _capture_json(capture: dict[str, Any], base: str) -> dict[str, Any]:
    body = {key: value for key, value in capture.items() if not key.startswith("_")}
    body["links"] = [
        {"href": f"{base}/v2/payments/captures/{capture['id']}", "rel": "self", "method": "GET"},
        {
            "href": f"{base}/v2/payments/captures/{capture['id']}/refund",
            "rel": "refund",
            "method": "POST",
        },
        {
            "href": f"{base}/v2/checkout/orders/{capture['_order_id']}",
            "rel": "up",
            "method": "GET",
        },
    ]
    return body


async def _capture_order(state: SandboxState, request: Request, data: dict[str, Any]) -> Response:
    order = state.orders.get(request.path_params["order_id"])
    if order is None:
        return _error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "Order not found")
    if order["status"] == "COMPLETED":
        return _unprocessable("ORDER_ALREADY_CAPTURED", "Order already captured.")
    if order["status"] != "APPROVED":
        return _unprocessable("ORDER_NOT_APPROVED", "Payer has not yet approved the Order.")
    base = _base_url(state, request)
    unit = order["purchase_unit"]
    amount = dict(unit["amount"])
    now = _iso(state.clock())
    capture: dict[str, Any] = {
        "id": _paypal_id(),
        "status": state.capture_status,
        "amount": amount,
        "final_capture": True,
        "invoice_id": unit.get("invoice_id"),
        "custom_id": unit.get("custom_id"),
        "create_time": now,
        "update_time": now,
        "supplementary_data": {"related_ids": {"order_id": order["id"]}},
        "_order_id": order["id"],
        "_refunded": "0.00",
    }
    if state.capture_status == "PENDING":
        capture["status_details"] = {"reason": "PENDING_REVIEW"}
    state.captures[capture["id"]] = capture
    order["status"] = "COMPLETED"
    order["capture_id"] = capture["id"]
    order["captures"][capture["id"]] = _capture_json(capture, base)
    event = state.event(
        f"PAYMENT.CAPTURE.{state.capture_status}", "capture", _capture_json(capture, base)
    )
    return JSONResponse(
        _order_json(order, base),
        status_code=201,
        background=BackgroundTask(state.deliver, event, base),
    )


async def _get_capture(state: SandboxState, request: Request, data: dict[str, Any]) -> Response:
    capture = state.captures.get(request.path_params["capture_id"])
    if capture is None:
        return _error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "Capture not found")
    return JSONResponse(_capture_json(capture, _base_url(state, request)))


async def _refund(state: SandboxState, request: Request, data: dict[str, Any]) -> Response:
    capture = state.captures.get(request.path_params["capture_id"])
    if capture is None:
        return _error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "Capture not found")
    if capture["status"] not in ("COMPLETED", "PARTIALLY_REFUNDED"):
        return _unprocessable("CAPTURE_FULLY_REFUNDED", f"Capture is {capture['status']}.")
    gross = Decimal(capture["amount"]["value"])
    remaining = gross - Decimal(capture["_refunded"])
    requested = data.get("amount") or {
        "value": f"{remaining:f}",
        "currency_code": capture["amount"]["currency_code"],
    }
    if not isinstance(requested, dict) or not _AMOUNT.match(str(requested.get("value", ""))):
        return _error(400, "INVALID_REQUEST", "INVALID_PARAMETER_VALUE", "amount.value")
    if requested.get("currency_code") != capture["amount"]["currency_code"]:
        return _unprocessable("CURRENCY_MISMATCH", "Refund currency must match the capture.")
    value = Decimal(requested["value"])
    if value <= 0 or value > remaining:
        return _unprocessable("REFUND_AMOUNT_EXCEEDED", "Refund exceeds the refundable amount.")
    refunded = Decimal(capture["_refunded"]) + value
    capture["_refunded"] = f"{refunded:f}"
    capture["status"] = "REFUNDED" if refunded == gross else "PARTIALLY_REFUNDED"
    capture["update_time"] = _iso(state.clock())
    base = _base_url(state, request)
    refund = {
        "id": _paypal_id(),
        "status": "COMPLETED",
        "amount": {"value": requested["value"], "currency_code": requested["currency_code"]},
        "invoice_id": capture.get("invoice_id"),
        "custom_id": capture.get("custom_id"),
        "seller_payable_breakdown": {
            "total_refunded_amount": {
                "value": capture["_refunded"],
                "currency_code": requested["currency_code"],
            }
        },
        "create_time": capture["update_time"],
        "links": [
            {"href": f"{base}/v2/payments/captures/{capture['id']}", "rel": "up", "method": "GET"}
        ],
    }
    state.refunds[refund["id"]] = refund
    state.orders[capture["_order_id"]]["captures"][capture["id"]] = _capture_json(capture, base)
    event = state.event("PAYMENT.CAPTURE.REFUNDED", "refund", refund)
    return JSONResponse(
        refund, status_code=201, background=BackgroundTask(state.deliver, event, base)
    )


async def _verify_signature(
    state: SandboxState, request: Request, data: dict[str, Any]
) -> Response:
    event = data.get("webhook_event")
    ok = (
        isinstance(event, dict)
        and data.get("webhook_id") == state.webhook_id
        and data.get("cert_url") == _base_url(state, request) + CERT_PATH
    )
    if ok:
        # The sandbox signs json.dumps(event); dumping the parsed event again gives the same
        # bytes as long as the receiver forwarded it unchanged.
        headers = {
            "paypal-transmission-id": str(data.get("transmission_id", "")),
            "paypal-transmission-time": str(data.get("transmission_time", "")),
            "paypal-transmission-sig": str(data.get("transmission_sig", "")),
            "paypal-auth-algo": str(data.get("auth_algo", "")),
        }
        body = json.dumps(event).encode()
        ok = verify_offline(headers, body, state.webhook_id, state.signer.certificate_pem)
    return JSONResponse({"verification_status": "SUCCESS" if ok else "FAILURE"})


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>PayPal sandbox</title></head>
<body>
<h1>{brand} &mdash; PayPal sandbox</h1>
<p>Pay <strong>{value} {currency}</strong> for {reference}.</p>
<form method="post" action="{approve}">
<input type="hidden" name="token" value="{token}">
<button type="submit" name="action" value="approve">Approve</button>
</form>
<form method="post" action="{cancel}">
<input type="hidden" name="token" value="{token}">
<button type="submit" name="action" value="cancel">Cancel</button>
</form>
</body></html>
"""


def _page_error(status: int, text: str) -> HTMLResponse:
    body = f"<!doctype html><title>PayPal sandbox</title><p>{html.escape(text)}</p>"
    return HTMLResponse(body, status_code=status)


def _checkout_page(state: SandboxState) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        order = state.orders.get(request.query_params.get("token", ""))
        if order is None:
            return _page_error(404, "Unknown order.")
        if order["status"] != "PAYER_ACTION_REQUIRED":
            return _page_error(409, f"This order is {order['status']}.")
        root = urlsplit(_base_url(state, request)).path
        unit = order["purchase_unit"]
        page = _PAGE.format(
            brand=html.escape(str(order["experience_context"].get("brand_name", "Merchant"))),
            value=html.escape(unit["amount"]["value"]),
            currency=html.escape(unit["amount"]["currency_code"]),
            reference=html.escape(str(unit.get("invoice_id") or order["id"])),
            token=html.escape(order["id"]),
            approve=html.escape(f"{root}/checkoutnow/approve"),
            cancel=html.escape(f"{root}/checkoutnow/cancel"),
        )
        return HTMLResponse(page)

    return endpoint


def _checkout_decision(
    state: SandboxState, approve: bool
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        order = state.orders.get(form.get("token", [""])[0])
        if order is None:
            return _page_error(404, "Unknown order.")
        if order["status"] != "PAYER_ACTION_REQUIRED":
            return _page_error(409, f"This order is {order['status']}.")
        context = order["experience_context"]
        if not approve:
            return RedirectResponse(_with_query(context["cancel_url"], token=order["id"]), 303)
        order["status"] = "APPROVED"
        order["payer_id"] = _paypal_id(13)
        base = _base_url(state, request)
        event = state.event("CHECKOUT.ORDER.APPROVED", "checkout-order", _order_json(order, base))
        target = _with_query(context["return_url"], token=order["id"], PayerID=order["payer_id"])
        return RedirectResponse(target, 303, background=BackgroundTask(state.deliver, event, base))

    return endpoint


def _certificate(state: SandboxState) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return Response(state.signer.certificate_pem, media_type="application/x-pem-file")

    return endpoint


def _token_endpoint(state: SandboxState) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await _token(state, request)

    return endpoint


def _ipn_postback(state: SandboxState) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        prefix = b"cmd=_notify-validate&"
        known = raw.startswith(prefix) and raw[len(prefix) :] in state.ipn_messages
        return Response(b"VERIFIED" if known else b"INVALID", media_type="text/plain")

    return endpoint


def sandbox_routes(state: SandboxState) -> list[BaseRoute]:
    """The sandbox's routes, relative to the prefix they are mounted at."""
    return [
        Route("/v1/oauth2/token", _token_endpoint(state), methods=["POST"]),
        Route("/v2/checkout/orders", _api(state, _create_order), methods=["POST"]),
        Route("/v2/checkout/orders/{order_id}", _api(state, _get_order), methods=["GET"]),
        Route(
            "/v2/checkout/orders/{order_id}/capture",
            _api(state, _capture_order),
            methods=["POST"],
        ),
        Route("/v2/payments/captures/{capture_id}", _api(state, _get_capture), methods=["GET"]),
        Route("/v2/payments/captures/{capture_id}/refund", _api(state, _refund), methods=["POST"]),
        Route(
            "/v1/notifications/verify-webhook-signature",
            _api(state, _verify_signature),
            methods=["POST"],
        ),
        Route(CERT_PATH, _certificate(state), methods=["GET"]),
        Route("/checkoutnow", _checkout_page(state), methods=["GET"]),
        Route("/checkoutnow/approve", _checkout_decision(state, True), methods=["POST"]),
        Route("/checkoutnow/cancel", _checkout_decision(state, False), methods=["POST"]),
        Route("/cgi-bin/webscr", _ipn_postback(state), methods=["POST"]),
    ]
