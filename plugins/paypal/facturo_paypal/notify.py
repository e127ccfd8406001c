"""Server-to-server notifications: verified webhooks and IPN messages, end to end.

The raw body is logged before anything else; authenticity is checked before the event id is
used as the dedupe key (so a forged delivery cannot squat on a real event's id); the books are
changed in one transaction per notification.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

import httpx
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from facturo.plugin import Context, GatewayNotification, log_notification, mark_notification

from .api import PayPalError
from .ipn import Verdict, dedupe_key, interpret_postback, parse_message, postback_request
from .runtime import TIMEOUT, Runtime, runtime
from .service import (
    GATEWAY,
    CaptureReport,
    Outcome,
    apply_capture,
    apply_ipn,
    apply_order_approved,
    apply_refund,
)
from .webhooks import (
    CertificateURLError,
    WebhookEvent,
    is_stale,
    parse_event,
    transmission_headers,
    verify_offline,
)


class RetryLater(Exception):
    """PayPal or the certificate host could not be reached: answer 503 so PayPal retries."""


async def authenticity_problem(rt: Runtime, headers: Mapping[str, str], body: bytes) -> str | None:
    """Why a webhook delivery is not authentic, or None. Raises RetryLater on network errors."""
    parsed = transmission_headers(headers)
    if parsed is None:
        return "missing PayPal transmission headers"
    if is_stale(parsed.transmission_time, rt.ctx.now()):
        return f"stale transmission time {parsed.transmission_time!r}"
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        if rt.settings.verify_mode == "api":
            try:
                ok = await rt.async_client(http).verify_webhook_signature(
                    headers, body, rt.settings.webhook_id
                )
            except PayPalError as exc:
                if exc.retryable:
                    raise RetryLater(str(exc)) from exc
                return f"verification API refused: {exc}"
            return None if ok else "signature refused by PayPal's verification API"
        try:
            cert = await rt.certificates(http).get(parsed.cert_url)
        except CertificateURLError as exc:
            return f"certificate URL refused: {exc}"
        except httpx.HTTPStatusError as exc:
            return f"certificate not available: {exc.response.status_code}"
        except httpx.HTTPError as exc:
            raise RetryLater(str(exc) or type(exc).__name__) from exc
        except ValueError:
            return "certificate URL did not serve a certificate"
    if not verify_offline(headers, body, rt.settings.webhook_id, cert):
        return "invalid signature"
    return None


def _money(resource: Mapping[str, object]) -> tuple[Decimal, str] | None:
    amount = resource.get("amount")
    if not isinstance(amount, dict):
        return None
    try:
        value = Decimal(str(amount.get("value")))
    except InvalidOperation:
        return None
    return value, str(amount.get("currency_code", ""))


def process_event(ctx: Context, event: WebhookEvent) -> Outcome:
    """Apply one verified event in its own transaction."""
    kind = event.event_type
    resource = event.resource
    with ctx.db.transaction() as session:
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


def _stored_status(ctx: Context, notification_id: int) -> str:
    with ctx.db.read_session() as session:
        status = session.scalar(
            select(GatewayNotification.status).where(GatewayNotification.id == notification_id)
        )
    return str(status or "")


async def handle_webhook(ctx: Context, headers: dict[str, str], body: bytes, remote: str) -> int:
    """The whole webhook delivery; returns the HTTP status to answer PayPal with."""
    rt = runtime(ctx)
    text = body.decode("utf-8", "replace")
    try:
        problem = await authenticity_problem(rt, headers, body)
    except RetryLater as exc:
        nid, _new = await run_in_threadpool(log_notification, ctx, GATEWAY, text, headers, remote)
        await run_in_threadpool(mark_notification, ctx, nid, "error", f"retry later: {exc}")
        return 503
    event: WebhookEvent | None = None
    if problem is None:
        try:
            event = parse_event(body)
        except ValueError:
            problem = "not a webhook event"
    if problem is not None or event is None:
        nid, _new = await run_in_threadpool(log_notification, ctx, GATEWAY, text, headers, remote)
        await run_in_threadpool(mark_notification, ctx, nid, "rejected", problem or "")
        return 400
    key = f"webhook:{event.id}"
    nid, new = await run_in_threadpool(log_notification, ctx, GATEWAY, text, headers, remote, key)
    if not new and await run_in_threadpool(_stored_status, ctx, nid) not in ("received", "error"):
        return 200
    try:
        outcome = await run_in_threadpool(process_event, ctx, event)
    except Exception as exc:
        await run_in_threadpool(mark_notification, ctx, nid, "error", repr(exc))
        return 500
    await run_in_threadpool(
        mark_notification,
        ctx,
        nid,
        outcome.status,
        f"{event.event_type}: {outcome.detail}",
        outcome.payment_id,
    )
    return 200


def _apply_ipn(ctx: Context, raw: bytes, receivers: tuple[str, ...]) -> Outcome:
    with ctx.db.transaction() as session:
        return apply_ipn(session, ctx, parse_message(raw), receivers)


async def handle_ipn(ctx: Context, headers: dict[str, str], body: bytes, remote: str) -> None:
    """An IPN: posted back unchanged, logged raw, deduplicated on (txn_id, payment_status) once
    VERIFIED, acted on only when it matches our receiver, amount and currency."""
    rt = runtime(ctx)
    message = parse_message(body)
    txn_id, status = dedupe_key(message)
    text = body.decode("latin-1")
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        try:
            response = await http.send(postback_request(message, rt.settings.ipn_postback_url))
            verdict = interpret_postback(response.status_code, response.content)
        except httpx.HTTPError:
            verdict = Verdict.ERROR
    if verdict is not Verdict.VERIFIED or not txn_id:
        nid, _new = await run_in_threadpool(log_notification, ctx, GATEWAY, text, headers, remote)
        status_name = "error" if verdict is Verdict.ERROR else "rejected"
        detail = f"Invalid postback. ({verdict.value})" if txn_id else "IPN without txn_id"
        await run_in_threadpool(mark_notification, ctx, nid, status_name, detail)
        return
    key = f"ipn:{txn_id}:{status}"
    nid, new = await run_in_threadpool(log_notification, ctx, GATEWAY, text, headers, remote, key)
    if not new and await run_in_threadpool(_stored_status, ctx, nid) not in ("received", "error"):
        return
    try:
        outcome = await run_in_threadpool(_apply_ipn, ctx, body, rt.settings.receiver_emails)
    except Exception as exc:
        await run_in_threadpool(mark_notification, ctx, nid, "error", repr(exc))
        return
    await run_in_threadpool(
        mark_notification, ctx, nid, outcome.status, outcome.detail, outcome.payment_id
    )
