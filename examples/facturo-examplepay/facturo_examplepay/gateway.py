"""ExamplePay as a core :class:`~facturo.plugin.Gateway`.

The customer pays on ExamplePay's hosted page (in sandbox mode: the plugin's own stand-in,
see ``sandbox``); ExamplePay then posts a signed JSON notification server to server.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from facturo.plugin import (
    Applied,
    BaseGateway,
    BillingError,
    Context,
    Document,
    NotificationRejected,
    Payment,
    PendingAttempt,
    PluginSettings,
    RefundResult,
    RetryLater,
    SettingField,
    StartedPayment,
    Verified,
    record_payment,
)

from .models import Attempt

PLUGIN = "examplepay"
NOTIFY_PATH = "/public/examplepay/notify"
SANDBOX_PATH = "/public/examplepay/sandbox"
SIGNATURE_HEADER = "x-examplepay-signature"


# region: settings
def settings_schema() -> PluginSettings:
    """``[plugin.examplepay]``: the shared secret, and where the hosted page lives."""
    return PluginSettings(
        plugin=PLUGIN,
        fields=(
            SettingField("secret", required=True, secret=True, help="Shared HMAC secret"),
            SettingField("sandbox", kind="bool", default=False, help="Serve the local sandbox"),
            SettingField("gateway_url", default="", help="ExamplePay's URL (not in sandbox)"),
        ),
    )


def gateway_url(ctx: Context) -> str:
    """The hosted page's base URL: the local sandbox when ``sandbox = true``."""
    settings = ctx.settings_for(PLUGIN)
    if settings["sandbox"]:
        return ctx.url(SANDBOX_PATH)
    return str(settings["gateway_url"]).rstrip("/")


# endregion


# region: sign
def sign(secret: str, message: str) -> str:
    """HMAC-SHA256 of ``message`` with the shared secret, in hex."""
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def signature_ok(secret: str, message: str, signature: str) -> bool:
    """Constant-time check of ``signature`` (never compare signatures with ``==``)."""
    return hmac.compare_digest(sign(secret, message), signature)


# endregion


def event_key(payload: Mapping[str, Any]) -> str:
    """One outcome of one attempt: a notification and a status query of the same outcome
    share it, so whichever arrives second is a duplicate."""
    return f"{payload['reference']}:{payload['status']}"


class ExamplePayGateway(BaseGateway):
    """The whole gateway: the core drives these methods; none of them commits."""

    name = PLUGIN

    # region: start
    def start_payment(self, ctx: Context, session: Session, document: Document) -> StartedPayment:
        """Create a pending attempt for the balance and the signed hosted-page URL."""
        if document.kind != "proforma" or document.status != "unpaid" or document.balance <= 0:
            raise ValueError("this document has nothing left to pay")
        attempt = Attempt(
            reference=secrets.token_hex(8),
            document_id=document.id,
            amount=document.balance,
            currency=document.currency,
            status="pending",
            created_at=ctx.now(),
        )
        session.add(attempt)
        session.flush()  # the unique reference is checked now; the caller commits
        fields = {
            "reference": attempt.reference,
            "amount": str(attempt.amount),
            "currency": attempt.currency,
            "notify_url": ctx.url(NOTIFY_PATH),
            "return_url": ctx.url(f"/client/documents/{document.id}"),
        }
        query = urlencode(fields)
        secret = ctx.settings_for(PLUGIN)["secret"]
        url = f"{gateway_url(ctx)}/pay?{query}&signature={sign(secret, query)}"
        return StartedPayment(attempt.reference, redirect_url=url)

    # endregion

    # region: verify
    def verify_notification(self, ctx: Context, body: str, headers: Mapping[str, str]) -> Verified:
        """Authentic means signed with our secret; anything else is rejected (and stored)."""
        secret = ctx.settings_for(PLUGIN)["secret"]
        if not signature_ok(secret, body, headers.get(SIGNATURE_HEADER, "")):
            raise NotificationRejected("bad signature")
        try:
            payload = json.loads(body)
            return Verified(event_key(payload), payload)
        except (ValueError, KeyError, TypeError) as exc:
            raise NotificationRejected(f"unreadable notification: {exc}") from exc

    # endregion

    # region: apply
    def apply_notification(self, ctx: Context, session: Session, verified: Verified) -> Applied:
        """Settle the attempt in the core's transaction; idempotent on the attempt's reference."""
        data = verified.payload
        query = select(Attempt).where(Attempt.reference == data["reference"])
        attempt = session.scalar(query if ctx.db.is_sqlite else query.with_for_update())
        if attempt is None:
            return Applied("rejected", f"unknown reference {data['reference']!r}")
        if Decimal(data["amount"]) != attempt.amount or data["currency"] != attempt.currency:
            return Applied("rejected", "amount or currency differ from the attempt")
        if data["status"] != "paid":
            if attempt.status == "pending":
                attempt.status = "failed"
            return Applied("processed", f"payment {data['status']}")
        document = session.get(Document, attempt.document_id)
        outcome = record_payment(
            session,
            ctx,
            document,
            gateway=PLUGIN,
            gateway_txn_id=attempt.reference,  # unique per gateway: never paid twice
            amount=attempt.amount,
            currency=attempt.currency,
            paid_at=ctx.now(),
            raw=dict(data),
        )
        attempt.status = "paid"
        attempt.payment_id = outcome.payment.id
        status = "processed" if outcome.created else "duplicate"
        return Applied(status, "paid", outcome.payment.id)

    # endregion

    # region: query
    def pending_attempts(
        self, ctx: Context, started_before: datetime, started_after: datetime
    ) -> Sequence[PendingAttempt]:
        """Attempts still pending that started inside the reconciliation window."""
        with ctx.db.read_session() as session:
            rows = session.scalars(
                select(Attempt)
                .where(
                    Attempt.status == "pending",
                    Attempt.created_at <= started_before,
                    Attempt.created_at >= started_after,
                )
                .order_by(Attempt.id)
            )
            return [
                PendingAttempt(a.reference, a.document_id, a.amount, a.currency, a.created_at)
                for a in rows
            ]

    def query_payment(self, ctx: Context, attempt: PendingAttempt) -> tuple[str, Verified] | None:
        """Ask ExamplePay's status endpoint; None while the customer has not finished."""
        secret = ctx.settings_for(PLUGIN)["secret"]
        url = f"{gateway_url(ctx)}/payments/{attempt.reference}"
        try:
            answer = httpx.get(url, headers={SIGNATURE_HEADER: sign(secret, attempt.reference)})
        except httpx.HTTPError as exc:
            raise RetryLater(f"status query failed: {exc}") from exc
        if answer.status_code == 404:
            return None
        if answer.status_code != 200:
            raise RetryLater(f"status query answered {answer.status_code}")
        verified = self.verify_notification(ctx, answer.text, answer.headers)
        if verified.payload["status"] == "pending":
            return None
        return answer.text, verified

    # endregion

    # region: refund
    def refund(
        self, ctx: Context, session: Session, payment: Payment, amount: Decimal
    ) -> RefundResult:
        """Send money back; raising leaves nothing recorded (the core rolls back)."""
        secret = ctx.settings_for(PLUGIN)["secret"]
        body = json.dumps({"reference": payment.gateway_txn_id, "amount": str(amount)})
        try:
            answer = httpx.post(
                f"{gateway_url(ctx)}/refunds",
                content=body,
                headers={SIGNATURE_HEADER: sign(secret, body), "content-type": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise BillingError(f"the refund could not be sent: {exc}") from exc
        if answer.status_code != 200 or not signature_ok(
            secret, answer.text, answer.headers.get(SIGNATURE_HEADER, "")
        ):
            raise BillingError(f"ExamplePay refused the refund ({answer.status_code})")
        data = answer.json()
        return RefundResult(data["refund_id"], "completed", Decimal(data["amount"]), raw=data)

    # endregion

    # region: hosts
    def form_action_hosts(self, ctx: Context) -> list[str]:
        """The pay button's form is redirected to the hosted page: allow its origin."""
        parts = urlsplit(gateway_url(ctx))
        return [f"{parts.scheme}://{parts.netloc}"]

    # endregion


GATEWAY = ExamplePayGateway()
