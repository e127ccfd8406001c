"""PayPal as a core :class:`~facturo.plugin.Gateway`: webhooks and IPN verified and applied
through the core pipeline; pending checkout attempts looked up with
``GET /v2/checkout/orders/{id}`` by the reconciliation job."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from facturo.plugin import (
    Applied,
    BaseGateway,
    Context,
    NotificationRejected,
    Payment,
    PendingAttempt,
    RefundResult,
    RetryLater,
    Verified,
)

from .api import PayPalError
from .ipn import (
    IPNMessage,
    Verdict,
    dedupe_key,
    interpret_postback,
    parse_message,
    postback_request,
)
from .models import CheckoutAttempt
from .runtime import TIMEOUT, Runtime, runtime
from .service import GATEWAY, CaptureReport, apply_capture, apply_ipn
from .webhooks import (
    CertificateCache,
    CertificateURLError,
    WebhookEvent,
    is_stale,
    parse_event,
    transmission_headers,
    verify_offline,
)

__all__ = ["PAYPAL", "PayPalGateway", "verify_ipn", "verify_webhook"]


def _certificate(rt: Runtime, http: httpx.Client, url: str) -> bytes:
    cache = CertificateCache(http, trusted_prefixes=rt.settings.trusted_cert_prefixes)
    cache._certs = rt._cert_store  # the store outlives requests
    return cache.get(url)


def verify_webhook(ctx: Context, body: bytes, headers: Mapping[str, str]) -> Verified:
    """A webhook delivery's authenticity (offline RSA check or PayPal's verification API),
    then its event; the dedupe key is the event id. Raises NotificationRejected / RetryLater."""
    rt = runtime(ctx)
    parsed = transmission_headers(headers)
    if parsed is None:
        raise NotificationRejected("missing PayPal transmission headers")
    if is_stale(parsed.transmission_time, ctx.now()):
        raise NotificationRejected(f"stale transmission time {parsed.transmission_time!r}")
    with httpx.Client(timeout=TIMEOUT) as http:
        if rt.settings.verify_mode == "api":
            try:
                ok = rt.sync_client(http).verify_webhook_signature(
                    headers, body, rt.settings.webhook_id
                )
            except PayPalError as exc:
                if exc.retryable:
                    raise RetryLater(str(exc)) from exc
                raise NotificationRejected(f"verification API refused: {exc}") from exc
            if not ok:
                raise NotificationRejected("signature refused by PayPal's verification API")
        else:
            try:
                cert = _certificate(rt, http, parsed.cert_url)
            except CertificateURLError as exc:
                raise NotificationRejected(f"certificate URL refused: {exc}") from exc
            except httpx.HTTPStatusError as exc:
                raise NotificationRejected(
                    f"certificate not available: {exc.response.status_code}"
                ) from exc
            except httpx.HTTPError as exc:
                raise RetryLater(str(exc) or type(exc).__name__) from exc
            except ValueError as exc:
                raise NotificationRejected("certificate URL did not serve a certificate") from exc
            if not verify_offline(headers, body, rt.settings.webhook_id, cert):
                raise NotificationRejected("invalid signature")
    try:
        event = parse_event(body)
    except ValueError as exc:
        raise NotificationRejected("not a webhook event") from exc
    return Verified(f"webhook:{event.id}", event)


def verify_ipn(ctx: Context, body: bytes) -> Verified:
    """An IPN posted back unchanged; only VERIFIED with a txn_id is accepted (keyed on
    ``(txn_id, payment_status)``)."""
    rt = runtime(ctx)
    message = parse_message(body)
    txn_id, status = dedupe_key(message)
    with httpx.Client(timeout=TIMEOUT) as http:
        try:
            response = http.send(postback_request(message, rt.settings.ipn_postback_url))
            verdict = interpret_postback(response.status_code, response.content)
        except httpx.HTTPError:
            verdict = Verdict.ERROR
    if verdict is Verdict.ERROR:
        raise RetryLater(f"Invalid postback. ({verdict.value})")
    if verdict is not Verdict.VERIFIED:
        raise NotificationRejected(f"Invalid postback. ({verdict.value})")
    if not txn_id:
        raise NotificationRejected("IPN without txn_id")
    return Verified(f"ipn:{txn_id}:{status}", message)


class PayPalGateway(BaseGateway):
    """PayPal Checkout (Orders v2), webhooks and legacy IPN."""

    name = GATEWAY

    def verify_notification(self, ctx: Context, body: str, headers: Mapping[str, str]) -> Verified:
        """A stored message: JSON bodies are webhooks, form bodies are IPN (stored latin-1)."""
        if body.lstrip().startswith("{"):
            return verify_webhook(ctx, body.encode("utf-8"), headers)
        return verify_ipn(ctx, body.encode("latin-1"))

    def apply_notification(self, ctx: Context, session: Session, verified: Verified) -> Applied:
        """Apply a webhook event, an IPN or a capture found by an order lookup."""
        from .notify import apply_event

        payload: Any = verified.payload
        if isinstance(payload, WebhookEvent):
            outcome = apply_event(session, ctx, payload)
            detail = f"{payload.event_type}: {outcome.detail}"
        elif isinstance(payload, IPNMessage):
            outcome = apply_ipn(session, ctx, payload, runtime(ctx).settings.receiver_emails)
            detail = outcome.detail
        elif isinstance(payload, CaptureReport):
            outcome = apply_capture(session, ctx, payload, {"source": "order lookup"})
            detail = f"order lookup: {outcome.detail}"
        else:
            return Applied("rejected", f"unknown payload {type(payload).__name__}")
        return Applied(outcome.status, detail, outcome.payment_id)

    def pending_attempts(
        self, ctx: Context, started_before: datetime, started_after: datetime
    ) -> Sequence[PendingAttempt]:
        """Checkout attempts not yet completed, denied or refunded, inside the window."""
        with ctx.db.read_session() as session:
            rows = session.scalars(
                select(CheckoutAttempt)
                .where(
                    CheckoutAttempt.status.in_(("created", "approved", "pending")),
                    CheckoutAttempt.created_at <= started_before,
                    CheckoutAttempt.created_at >= started_after,
                )
                .order_by(CheckoutAttempt.id)
                .limit(500)
            )
            return [
                PendingAttempt(a.paypal_order_id, a.document_id, a.amount, a.currency, a.created_at)
                for a in rows
            ]

    def query_payment(self, ctx: Context, attempt: PendingAttempt) -> tuple[str, Verified] | None:
        """``GET /v2/checkout/orders/{id}``: a final capture is applied, anything else waits."""
        rt = runtime(ctx)
        try:
            with httpx.Client(timeout=TIMEOUT) as http:
                status, capture = rt.sync_client(http).get_order(attempt.reference)
        except PayPalError as exc:
            if exc.status_code == 404:
                return None
            raise RetryLater(str(exc)) from exc
        if capture is None or capture.status not in ("COMPLETED", "DECLINED", "FAILED"):
            return None
        report = CaptureReport(
            order_id=capture.order_id,
            capture_id=capture.capture_id,
            status=capture.status,
            amount=capture.amount,
            currency=capture.currency,
            payer_country=capture.payer_country,
        )
        raw = (
            f"GET /v2/checkout/orders/{attempt.reference}: order {status}, capture "
            f"{capture.capture_id} {capture.status} {capture.amount} {capture.currency}"
        )
        return raw, Verified(f"capture:{capture.capture_id}:{capture.status}", report)

    def refund(
        self, ctx: Context, session: Session, payment: Payment, amount: Decimal
    ) -> RefundResult:
        """Refund a capture (see ``refunds.refund_paypal_payment``)."""
        from .refunds import refund

        return refund(ctx, session, payment, amount)

    def form_action_hosts(self, ctx: Context) -> list[str]:
        """PayPal's approval page origin (the local sandbox is this site itself)."""
        environment = str(ctx.settings_for("paypal").get("environment") or "live")
        return {
            "live": ["https://www.paypal.com"],
            "sandbox": ["https://www.sandbox.paypal.com"],
        }.get(environment, [])


PAYPAL = PayPalGateway()
