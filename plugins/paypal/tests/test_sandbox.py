from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import pytest
from starlette.applications import Starlette

from facturo_paypal.api import OrderRequest, PayPalError
from facturo_paypal.api_clients import AsyncPayPalClient, PayPalClient
from facturo_paypal.sandbox import CERT_PATH, SandboxState
from facturo_paypal.webhooks import (
    AsyncCertificateCache,
    CertificateURLError,
    is_stale,
    parse_event,
    transmission_headers,
    verify_offline,
)

pytestmark = pytest.mark.anyio

ORDER = OrderRequest(
    reference="PRO-2026-000123",
    custom_id="doc:42",
    amount=Decimal("121.00"),
    currency="EUR",
    return_url="https://billing.example/paypal/return?doc=42",
    cancel_url="https://billing.example/paypal/cancel",
    brand_name="Example <S.L.>",
    locale="es-ES",
)


@pytest.fixture
def paypal(http: httpx.AsyncClient, sandbox_url: str, sandbox: SandboxState) -> AsyncPayPalClient:
    """The production client, pointed at the sandbox instead of api-m.paypal.com."""
    return AsyncPayPalClient(http, sandbox_url, sandbox.client_id, sandbox.client_secret)


async def approve(http: httpx.AsyncClient, approval_url: str) -> dict[str, list[str]]:
    """Act as the payer: open the approval page, press Approve, return the redirect's query."""
    page = await http.get(approval_url)
    assert page.status_code == 200
    assert "<script" not in page.text
    assert 'action="/public/paypal-sandbox/checkoutnow/approve"' in page.text
    assert "Example &lt;S.L.&gt;" in page.text and "121.00 EUR" in page.text
    token = parse_qs(urlsplit(approval_url).query)["token"][0]
    answer = await http.post(
        "/public/paypal-sandbox/checkoutnow/approve", data={"token": token, "action": "approve"}
    )
    assert answer.status_code == 303
    location = urlsplit(answer.headers["location"])
    assert (
        f"{location.scheme}://{location.netloc}{location.path}"
        == "https://billing.example/paypal/return"
    )
    return parse_qs(location.query)


async def paid_capture_id(http: httpx.AsyncClient, paypal: AsyncPayPalClient) -> str:
    order = await paypal.create_order(ORDER, "create-PRO-2026-000123")
    await approve(http, order.approval_url)
    capture = await paypal.capture_order(order.order_id, f"capture-{order.order_id}")
    return capture.capture_id


async def test_create_approve_capture_refund(
    http: httpx.AsyncClient, paypal: AsyncPayPalClient, sandbox: SandboxState, sandbox_url: str
) -> None:
    order = await paypal.create_order(ORDER, "create-1")
    assert order.status == "PAYER_ACTION_REQUIRED"
    assert order.approval_url == f"{sandbox_url}/checkoutnow?token={order.order_id}"

    query = await approve(http, order.approval_url)
    assert query["token"] == [order.order_id]
    assert query["doc"] == ["42"]
    assert len(query["PayerID"][0]) == 13

    capture = await paypal.capture_order(order.order_id, f"capture-{order.order_id}")
    assert capture.order_id == order.order_id
    assert capture.order_status == "COMPLETED"
    assert capture.status == "COMPLETED"
    assert capture.amount == Decimal("121.00") and capture.currency == "EUR"
    assert capture.invoice_id == "PRO-2026-000123" and capture.custom_id == "doc:42"

    refund = await paypal.refund_capture(capture.capture_id, Decimal("21.00"), "EUR", "refund-1")
    assert refund.status == "COMPLETED"
    assert refund.amount == Decimal("21.00") and refund.currency == "EUR"
    assert sandbox.captures[capture.capture_id]["status"] == "PARTIALLY_REFUNDED"

    with pytest.raises(PayPalError) as caught:
        await paypal.refund_capture(capture.capture_id, Decimal("100.01"), "EUR", "refund-2")
    assert caught.value.issue == "REFUND_AMOUNT_EXCEEDED"
    await paypal.refund_capture(capture.capture_id, Decimal("100.00"), "EUR", "refund-3")
    assert sandbox.captures[capture.capture_id]["status"] == "REFUNDED"

    assert sandbox.token_requests == 1


async def test_one_token_call_for_two_api_calls(
    paypal: AsyncPayPalClient, sandbox: SandboxState
) -> None:
    await paypal.create_order(ORDER, "create-1")
    await paypal.create_order(ORDER, "create-2")
    assert sandbox.token_requests == 1
    assert len(sandbox.orders) == 2


async def test_revoked_token_is_replaced_once(
    paypal: AsyncPayPalClient, sandbox: SandboxState
) -> None:
    await paypal.create_order(ORDER, "create-1")
    sandbox.tokens.clear()
    await paypal.create_order(ORDER, "create-2")
    assert sandbox.token_requests == 2


async def test_wrong_credentials(http: httpx.AsyncClient, sandbox_url: str) -> None:
    client = AsyncPayPalClient(http, sandbox_url, "someone", "else")
    with pytest.raises(PayPalError) as caught:
        await client.create_order(ORDER, "create-1")
    assert caught.value.status_code == 401 and caught.value.name == "invalid_client"


async def test_capture_is_idempotent_by_request_id(
    http: httpx.AsyncClient, paypal: AsyncPayPalClient, sandbox: SandboxState
) -> None:
    order = await paypal.create_order(ORDER, "create-1")
    await approve(http, order.approval_url)
    first = await paypal.capture_order(order.order_id, "capture-A")
    again = await paypal.capture_order(order.order_id, "capture-A")
    assert again == first
    assert len(sandbox.captures) == 1
    with pytest.raises(PayPalError) as caught:
        await paypal.capture_order(order.order_id, "capture-B")
    assert caught.value.issue == "ORDER_ALREADY_CAPTURED"


async def test_capture_before_approval_is_refused(paypal: AsyncPayPalClient) -> None:
    order = await paypal.create_order(ORDER, "create-1")
    with pytest.raises(PayPalError) as caught:
        await paypal.capture_order(order.order_id, "capture-1")
    assert (caught.value.status_code, caught.value.issue) == (422, "ORDER_NOT_APPROVED")


async def test_create_is_idempotent_and_invoice_ids_are_unique_once_captured(
    http: httpx.AsyncClient, paypal: AsyncPayPalClient
) -> None:
    first = await paypal.create_order(ORDER, "create-1")
    assert (await paypal.create_order(ORDER, "create-1")).order_id == first.order_id
    await approve(http, first.approval_url)
    await paypal.capture_order(first.order_id, "capture-1")
    with pytest.raises(PayPalError) as caught:
        await paypal.create_order(ORDER, "create-2")
    assert caught.value.issue == "DUPLICATE_INVOICE_ID"


async def test_cancel_redirects_to_cancel_url(
    http: httpx.AsyncClient, paypal: AsyncPayPalClient, sandbox: SandboxState
) -> None:
    order = await paypal.create_order(ORDER, "create-1")
    answer = await http.post(
        "/public/paypal-sandbox/checkoutnow/cancel", data={"token": order.order_id}
    )
    assert answer.status_code == 303
    assert (
        answer.headers["location"]
        == f"https://billing.example/paypal/cancel?token={order.order_id}"
    )
    assert sandbox.orders[order.order_id]["status"] == "PAYER_ACTION_REQUIRED"
    assert (await http.get("/public/paypal-sandbox/checkoutnow?token=NOPE")).status_code == 404


async def test_sandbox_webhooks_verify_offline(
    http: httpx.AsyncClient,
    paypal: AsyncPayPalClient,
    sandbox: SandboxState,
    sandbox_url: str,
    received: list[tuple[dict[str, str], bytes]],
) -> None:
    capture_id = await paid_capture_id(http, paypal)
    await paypal.refund_capture(capture_id, Decimal("121.00"), "EUR", "refund-1")

    deliveries = received
    events = [parse_event(body) for _, body in deliveries]
    assert [e.event_type for e in events] == [
        "CHECKOUT.ORDER.APPROVED",
        "PAYMENT.CAPTURE.COMPLETED",
        "PAYMENT.CAPTURE.REFUNDED",
    ]
    assert [d.status_code for d in sandbox.deliveries] == [200, 200, 200]

    certs = AsyncCertificateCache(http, trusted_prefixes=[sandbox_url + CERT_PATH])
    for headers, body in deliveries:
        parsed = transmission_headers(headers)
        assert parsed is not None
        assert parsed.cert_url == sandbox_url + CERT_PATH
        assert not is_stale(parsed.transmission_time, sandbox.clock())
        cert = await certs.get(parsed.cert_url)
        assert cert == sandbox.signer.certificate_pem
        assert verify_offline(headers, body, sandbox.webhook_id, cert)
        assert not verify_offline(headers, body, "WEBHOOK_ID", cert)
        assert not verify_offline(headers, body + b" ", sandbox.webhook_id, cert)

    completed, refunded = events[1], events[2]
    assert completed.resource["id"] == capture_id
    assert completed.resource["invoice_id"] == "PRO-2026-000123"
    assert completed.resource["amount"] == {"currency_code": "EUR", "value": "121.00"}
    assert refunded.related_capture_id == capture_id

    with pytest.raises(CertificateURLError):
        await AsyncCertificateCache(http).get(sandbox_url + CERT_PATH)


async def test_sandbox_webhooks_verify_through_the_api(
    http: httpx.AsyncClient,
    paypal: AsyncPayPalClient,
    sandbox: SandboxState,
    received: list[tuple[dict[str, str], bytes]],
) -> None:
    await paid_capture_id(http, paypal)
    headers, body = received[-1]
    assert await paypal.verify_webhook_signature(headers, body, sandbox.webhook_id)
    assert not await paypal.verify_webhook_signature(headers, body, "OTHER-WEBHOOK")
    forged = body.replace(b'"121.00"', b'"1.00"')
    assert forged != body
    assert not await paypal.verify_webhook_signature(headers, forged, sandbox.webhook_id)


async def test_pending_capture_is_not_completed(
    http: httpx.AsyncClient,
    paypal: AsyncPayPalClient,
    sandbox: SandboxState,
    received: list[tuple[dict[str, str], bytes]],
) -> None:
    sandbox.capture_status = "PENDING"
    order = await paypal.create_order(ORDER, "create-1")
    await approve(http, order.approval_url)
    capture = await paypal.capture_order(order.order_id, "capture-1")
    assert (capture.order_status, capture.status) == ("COMPLETED", "PENDING")
    _, body = received[-1]
    assert parse_event(body).event_type == "PAYMENT.CAPTURE.PENDING"
    with pytest.raises(PayPalError) as caught:
        await paypal.refund_capture(capture.capture_id, Decimal("1.00"), "EUR", "refund-1")
    assert caught.value.status_code == 422


class ThreadedASGITransport(httpx.BaseTransport):
    """Lets a sync httpx.Client, running in a worker thread, call an ASGI app on the event loop."""

    def __init__(self, app: Starlette) -> None:
        self._inner = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def call() -> httpx.Response:
            response = await self._inner.handle_async_request(request)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content)

        return anyio.from_thread.run(call)


async def test_sync_client_against_the_sandbox(
    app: Starlette, sandbox: SandboxState, sandbox_url: str
) -> None:
    def pay_and_refund() -> str:
        transport = ThreadedASGITransport(app)
        with httpx.Client(transport=transport, base_url="http://testserver") as http:
            paypal = PayPalClient(http, sandbox_url, sandbox.client_id, sandbox.client_secret)
            order = paypal.create_order(ORDER, "create-1")
            answer = http.post(
                "/public/paypal-sandbox/checkoutnow/approve", data={"token": order.order_id}
            )
            assert answer.status_code == 303
            capture = paypal.capture_order(order.order_id, f"capture-{order.order_id}")
            assert capture.status == "COMPLETED"
            refund = paypal.refund_capture(capture.capture_id, Decimal("121.00"), "EUR", "r-1")
            assert refund.status == "COMPLETED"
            return capture.capture_id

    capture_id = await anyio.to_thread.run_sync(pay_and_refund)
    assert sandbox.token_requests == 1
    assert sandbox.captures[capture_id]["status"] == "REFUNDED"
