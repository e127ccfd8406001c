"""Refunds from the staff area: POST /v2/payments/captures/{id}/refund with the sync client."""

from __future__ import annotations

from decimal import Decimal

import httpx
from sqlalchemy.orm import Session

from facturo.plugin import Context, Payment, RefundResult

from .runtime import TIMEOUT, runtime
from .service import lock_for_refund, record_staff_refund


def refund(ctx: Context, session: Session, payment: Payment, amount: Decimal) -> RefundResult:
    """Refund ``amount`` of ``payment`` (a capture) through PayPal; raises PayPalError on
    failure (nothing recorded). The refund id is remembered so its webhook is not credited
    twice; the payment row is locked so that webhook waits for this transaction."""
    lock_for_refund(session, ctx, payment)
    rt = runtime(ctx)
    request_id = f"refund-{payment.id}-{payment.refunded}-{amount}"
    with httpx.Client(timeout=TIMEOUT) as http:
        result = rt.sync_client(http).refund_capture(
            payment.gateway_txn_id, amount, payment.currency, request_id
        )
    record_staff_refund(
        session, ctx, payment.gateway_txn_id, result.refund_id, amount, payment.currency
    )
    status = "completed" if result.status == "COMPLETED" else "pending"
    return RefundResult(
        gateway_refund_id=result.refund_id,
        status=status,
        amount=result.amount if result.amount is not None else amount,
        raw={"status": result.status},
    )
