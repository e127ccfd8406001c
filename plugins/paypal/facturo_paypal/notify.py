"""Server-to-server notifications: verified webhooks and IPN messages, end to end.

The raw body is logged before anything else; authenticity is checked before the event id is
used as the dedupe key (so a forged delivery cannot squat on a real event's id); the books are
changed in one transaction per notification.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from functools import partial

from sqlalchemy.orm import Session

from facturo.plugin import Context, receive_notification

from .gateway import PAYPAL, verify_ipn, verify_webhook
from .service import (
    GATEWAY,
    CaptureReport,
    Outcome,
    apply_capture,
    apply_order_approved,
    apply_refund,
)
from .webhooks import WebhookEvent, parse_event


def _money(resource: Mapping[str, object]) -> tuple[Decimal, str] | None:
    amount = resource.get("amount")
    if not isinstance(amount, dict):
        return None
    try:
        value = Decimal(str(amount.get("value")))
    except InvalidOperation:
        return None
    return value, str(amount.get("currency_code", ""))


def apply_event(session: Session, ctx: Context, event: WebhookEvent) -> Outcome:
    """Apply one verified event in ``session`` (idempotent: unique capture and refund ids)."""
    kind = event.event_type
    resource = event.resource
    if kind.startswith("CUSTOMER.DISPUTE."):
        dispute = resource.get("dispute_id", "")
        reason = resource.get("reason", "")
        return Outcome("processed", f"dispute {kind.rsplit('.', 1)[-1]}: {dispute} {reason}")
    if kind == "CHECKOUT.ORDER.APPROVED":
        return apply_order_approved(session, ctx, str(resource.get("id", "")))
    if kind in ("PAYMENT.CAPTURE.REFUNDED", "PAYMENT.CAPTURE.REVERSED"):
        money = _money(resource)
        if money is None:
            return Outcome("rejected", "refund without an amount")
        if kind.endswith("REFUNDED"):
            capture_id = event.related_capture_id
            refund_id = str(resource.get("id", ""))
            reason = "refund"
        else:
            capture_id = str(resource.get("id", ""))
            refund_id = f"REVERSAL-{capture_id}"
            reason = "reversal"
        if not capture_id or not refund_id:
            return Outcome("rejected", f"{reason} without a capture id")
        return apply_refund(session, ctx, capture_id, refund_id, money[0], money[1], reason)
    if kind.startswith("PAYMENT.CAPTURE."):
        money = _money(resource)
        if money is None:
            return Outcome("rejected", "capture without an amount")
        related = resource.get("supplementary_data", {})
        order_id = None
        if isinstance(related, dict):
            order_id = related.get("related_ids", {}).get("order_id")
        report = CaptureReport(
            order_id=str(order_id) if order_id else None,
            capture_id=str(resource.get("id", "")),
            status=str(resource.get("status", kind.rsplit(".", 1)[-1])),
            amount=money[0],
            currency=money[1],
        )
        return apply_capture(session, ctx, report, dict(resource))
    return Outcome("processed", f"event {kind} ignored")


def _headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {str(k): str(v) for k, v in headers.items()}


def _event_key(body: bytes) -> str | None:
    """The event id a delivery claims, used to skip redeliveries before verifying again (a
    forged delivery that claims it is rejected and releases it at once)."""
    try:
        return f"webhook:{parse_event(body).id}"
    except ValueError:
        return None


def receive_webhook(ctx: Context, headers: Mapping[str, str], body: bytes, remote: str) -> int:
    """The whole webhook delivery through the core pipeline; returns the HTTP status: 200 once
    stored and authentic (whatever applying did), 400 when forged or unreadable, 503 when it
    could not be stored or verification could not reach PayPal (PayPal retries)."""
    receipt = receive_notification(
        ctx,
        GATEWAY,
        body.decode("utf-8", "replace"),
        _headers(headers),
        remote,
        verify=lambda _text, hdrs: verify_webhook(ctx, body, hdrs),
        apply=partial(PAYPAL.apply_notification, ctx),
        event_key=_event_key(body),
    )
    if receipt.http_status != 200:
        return receipt.http_status
    return 400 if receipt.refused else 200


def receive_ipn(ctx: Context, headers: Mapping[str, str], body: bytes, remote: str) -> int:
    """An IPN through the core pipeline: posted back unchanged, deduplicated on
    (txn_id, payment_status) once VERIFIED, applied only when it matches our receiver, amount
    and currency. 200 once stored; 503 when it could not be stored."""
    receipt = receive_notification(
        ctx,
        GATEWAY,
        body.decode("latin-1"),
        _headers(headers),
        remote,
        verify=lambda _text, _hdrs: verify_ipn(ctx, body),
        apply=partial(PAYPAL.apply_notification, ctx),
    )
    return 503 if not receipt.stored else 200
