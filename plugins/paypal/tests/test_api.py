from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from facturo_paypal.api import (
    LIVE_BASE_URL,
    SANDBOX_BASE_URL,
    OrderRequest,
    PayPalError,
    format_amount,
)
from facturo_paypal.api_clients import PayPalClient, TokenCache

ORDER = OrderRequest(
    reference="PRO-2026-000123",
    custom_id="doc:42",
    amount=Decimal("121"),
    currency="EUR",
    return_url="https://billing.example/paypal/return",
    cancel_url="https://billing.example/paypal/cancel",
    brand_name="Example S.L.",
    locale="es-ES",
)


class FakePayPal:
    """A scripted PayPal for client-side unit tests: records requests, answers in order."""

    def __init__(self, *responses: httpx.Response) -> None:
        self.requests: list[httpx.Request] = []
        self.responses = list(responses)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.responses.pop(0)

    def client(self) -> PayPalClient:
        http = httpx.Client(transport=httpx.MockTransport(self))
        return PayPalClient(http, SANDBOX_BASE_URL, "id", "secret")


def token(value: str = "T1", expires_in: int = 32400) -> httpx.Response:
    return httpx.Response(200, json={"access_token": value, "expires_in": expires_in})


def test_base_urls() -> None:
    assert LIVE_BASE_URL == "https://api-m.paypal.com"
    assert SANDBOX_BASE_URL == "https://api-m.sandbox.paypal.com"


@pytest.mark.parametrize(
    ("amount", "text"),
    [(Decimal("121"), "121.00"), (Decimal("0.5"), "0.50"), (Decimal("1E+2"), "100.00")],
)
def test_format_amount(amount: Decimal, text: str) -> None:
    assert format_amount(amount) == text


@pytest.mark.parametrize("amount", [Decimal("1.005"), Decimal("0"), Decimal("-1.00")])
def test_format_amount_refuses_rounding_and_non_positive(amount: Decimal) -> None:
    with pytest.raises(ValueError):
        format_amount(amount)


def test_order_body() -> None:
    body = ORDER.to_json()
    assert body["intent"] == "CAPTURE"
    unit = body["purchase_units"][0]
    assert unit["invoice_id"] == unit["reference_id"] == "PRO-2026-000123"
    assert unit["custom_id"] == "doc:42"
    assert unit["amount"] == {"currency_code": "EUR", "value": "121.00"}
    context = body["payment_source"]["paypal"]["experience_context"]
    assert context["user_action"] == "PAY_NOW"
    assert context["brand_name"] == "Example S.L."
    assert context["locale"] == "es-ES"
    assert context["return_url"] == ORDER.return_url
    assert context["cancel_url"] == ORDER.cancel_url
    assert "application_context" not in body


def test_token_request_uses_basic_auth_and_is_cached() -> None:
    order = {
        "id": "5O190127TN364715T",
        "status": "PAYER_ACTION_REQUIRED",
        "links": [
            {"rel": "payer-action", "href": "https://www.sandbox.paypal.com/checkoutnow?token=5O"}
        ],
    }
    fake = FakePayPal(token(), httpx.Response(201, json=order), httpx.Response(201, json=order))
    client = fake.client()
    created = client.create_order(ORDER, "create-1")
    client.create_order(ORDER, "create-1")
    token_call, first, _ = fake.requests
    assert str(token_call.url) == SANDBOX_BASE_URL + "/v1/oauth2/token"
    assert token_call.headers["authorization"] == "Basic aWQ6c2VjcmV0"
    assert token_call.content == b"grant_type=client_credentials"
    assert first.headers["authorization"] == "Bearer T1"
    assert first.headers["paypal-request-id"] == "create-1"
    assert json.loads(first.content) == ORDER.to_json()
    assert created.order_id == "5O190127TN364715T"
    assert created.approval_url.endswith("token=5O")


def test_token_is_renewed_after_expiry_minus_margin() -> None:
    now = [1000.0]
    fake = FakePayPal(token("T1", expires_in=100), token("T2"))
    client = PayPalClient(
        httpx.Client(transport=httpx.MockTransport(fake)),
        SANDBOX_BASE_URL,
        "id",
        "secret",
        tokens=TokenCache(margin=30, clock=lambda: now[0]),
    )
    assert client.access_token() == "T1"
    now[0] += 69
    assert client.access_token() == "T1"
    now[0] += 1
    assert client.access_token() == "T2"
    assert len(fake.requests) == 2


def test_error_response_becomes_paypal_error() -> None:
    error = {
        "name": "UNPROCESSABLE_ENTITY",
        "message": "The requested action could not be performed.",
        "debug_id": "abc123",
        "details": [{"issue": "DUPLICATE_INVOICE_ID", "description": "previously captured"}],
    }
    client = FakePayPal(token(), httpx.Response(422, json=error)).client()
    with pytest.raises(PayPalError) as caught:
        client.create_order(ORDER, "create-1")
    assert caught.value.status_code == 422
    assert caught.value.issue == "DUPLICATE_INVOICE_ID"
    assert caught.value.debug_id == "abc123"
    assert not caught.value.retryable
    assert "DUPLICATE_INVOICE_ID" in str(caught.value)


def test_bad_credentials_and_transport_errors() -> None:
    denied = httpx.Response(401, json={"error": "invalid_client", "error_description": "nope"})
    with pytest.raises(PayPalError) as caught:
        FakePayPal(denied).client().access_token()
    assert (caught.value.status_code, caught.value.name) == (401, "invalid_client")

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = PayPalClient(
        httpx.Client(transport=httpx.MockTransport(down)), SANDBOX_BASE_URL, "i", "s"
    )
    with pytest.raises(PayPalError) as caught:
        client.access_token()
    assert caught.value.status_code is None and caught.value.retryable


def test_unexpected_body_is_a_paypal_error() -> None:
    client = FakePayPal(token(), httpx.Response(201, json={"id": "X", "links": []})).client()
    with pytest.raises(PayPalError, match="approval link"):
        client.create_order(ORDER, "create-1")


def test_verify_via_api_forwards_the_raw_event_bytes() -> None:
    raw = b'{"id":"WH-1","event_type":"PAYMENT.CAPTURE.COMPLETED","resource":{"amount":"1.10"}}'
    fake = FakePayPal(token(), httpx.Response(200, json={"verification_status": "SUCCESS"}))
    headers = {
        "paypal-transmission-id": "t-1",
        "paypal-transmission-time": "2026-01-01T00:00:00Z",
        "paypal-transmission-sig": "c2ln",
        "paypal-cert-url": "https://api.paypal.com/v1/notifications/certs/CERT-1",
        "paypal-auth-algo": "SHA256withRSA",
    }
    assert fake.client().verify_webhook_signature(headers, raw, "WH-ID") is True
    sent = fake.requests[1]
    assert sent.url.path == "/v1/notifications/verify-webhook-signature"
    assert sent.content.endswith(b'"webhook_event": ' + raw + b"}")
    payload = json.loads(sent.content)
    assert payload["webhook_id"] == "WH-ID"
    assert payload["transmission_sig"] == "c2ln"
    assert payload["cert_url"] == headers["paypal-cert-url"]


def test_verify_via_api_failure_and_bad_input() -> None:
    fake = FakePayPal(token(), httpx.Response(200, json={"verification_status": "FAILURE"}))
    headers = {
        "PAYPAL-TRANSMISSION-ID": "t",
        "PAYPAL-TRANSMISSION-TIME": "x",
        "PAYPAL-TRANSMISSION-SIG": "s",
    }
    client = fake.client()
    assert client.verify_webhook_signature(headers, b"{}", "WH-ID") is False
    assert client.verify_webhook_signature(headers, b"not json", "WH-ID") is False
    assert client.verify_webhook_signature({}, b"{}", "WH-ID") is False
    assert len(fake.requests) == 2
