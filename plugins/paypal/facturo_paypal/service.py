"""PayPal's effects on Facturo's books: checkout attempts, captures, refunds and IPN payments.

Plain functions over a Session; no HTTP. Every function is idempotent: PayPal repeats
notifications, the browser repeats the return, and both report the same capture.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from facturo.plugin import (
    BillingError,
    Context,
    Customer,
    Document,
    Payment,
    insert_ignore,
    record_payment,
    refund_invoice,
    to_money,
)

from .ipn import Expected, IPNMessage, validate
from .models import CheckoutAttempt, PayPalRefund

GATEWAY = "paypal"


@dataclass(frozen=True)
class Outcome:
    """What a notification or capture did: ``status`` is a notification status (processed,
    rejected, duplicate) and ``detail`` says why, for staff."""

    status: str
    detail: str = ""
    payment_id: int | None = None


@dataclass(frozen=True)
class CaptureReport:
    """A capture as PayPal reported it (capture response, webhook or status lookup)."""

    order_id: str | None
    capture_id: str
    status: str
    amount: Decimal
    currency: str
    payer_country: str | None = None


def payable_problem(document: Document | None, customer: Customer) -> str | None:
    """Why ``customer`` may not pay ``document`` by PayPal now, or None if they may."""
    if document is None or document.customer_id != customer.id:
        return "not found"
    if not document.is_payable:
        return "This document has nothing left to pay."
    if customer.email_verified_at is None:
        return "Confirm your email address before paying online."
    return None


def save_attempt(
    session: Session, ctx: Context, document: Document, order_id: str, amount: Decimal
) -> CheckoutAttempt:
    """Store the PayPal order created for ``document`` (idempotent on the order id)."""
    existing = session.scalar(
        select(CheckoutAttempt).where(CheckoutAttempt.paypal_order_id == order_id)
    )
    if existing is not None:
        return existing
    attempt = CheckoutAttempt(
        paypal_order_id=order_id,
        document_id=document.id,
        customer_id=document.customer_id,
        amount=to_money(amount),
        currency=document.currency,
        status="created",
        detail="",
        created_at=ctx.now(),
        updated_at=ctx.now(),
    )
    session.add(attempt)
    session.flush()
    return attempt


def _lock_attempt(
    session: Session, ctx: Context, order_id: str | None, capture_id: str | None
) -> CheckoutAttempt | None:
    query = select(CheckoutAttempt)
    if order_id:
        query = query.where(CheckoutAttempt.paypal_order_id == order_id)
    elif capture_id:
        query = query.where(CheckoutAttempt.capture_id == capture_id)
    else:
        return None
    if not ctx.db.is_sqlite:
        query = query.with_for_update()
    return session.scalar(query)


def _refunded(session: Session, capture_id: str) -> bool:
    found = session.scalar(select(PayPalRefund.id).where(PayPalRefund.capture_id == capture_id))
    return found is not None


def apply_capture(
    session: Session, ctx: Context, report: CaptureReport, raw: dict[str, Any]
) -> Outcome:
    """Apply a capture: COMPLETED records the payment once (idempotent on the capture id);
    PENDING and DENIED only update the attempt; a wrong amount or currency records nothing."""
    attempt = _lock_attempt(session, ctx, report.order_id, report.capture_id)
    if attempt is None:
        return Outcome("rejected", f"no checkout attempt for capture {report.capture_id}")
    if report.amount != attempt.amount or report.currency != attempt.currency:
        attempt.detail = (
            f"mismatch: PayPal reported {report.amount} {report.currency}, "
            f"expected {attempt.amount} {attempt.currency}"
        )
        attempt.updated_at = ctx.now()
        return Outcome("rejected", attempt.detail)
    if attempt.capture_id is None:
        attempt.capture_id = report.capture_id
    elif attempt.capture_id != report.capture_id:
        return Outcome("rejected", f"attempt {attempt.id} already has another capture")
    attempt.updated_at = ctx.now()
    if report.status == "COMPLETED":
        if attempt.status == "refunded" or _refunded(session, report.capture_id):
            attempt.status = "refunded"
            return Outcome("processed", "capture already refunded; nothing recorded")
        document = session.get(Document, attempt.document_id)
        result = record_payment(
            session,
            ctx,
            document,
            gateway=GATEWAY,
            gateway_txn_id=report.capture_id,
            amount=report.amount,
            currency=report.currency,
            paid_at=ctx.now(),
            raw=raw,
            actor="paypal",
            payer_country=report.payer_country,
        )
        attempt.status = "completed"
        detail = "payment recorded" if result.created else "payment already recorded"
        return Outcome("processed", detail, result.payment.id)
    if report.status == "PENDING":
        if attempt.status not in ("completed", "refunded"):
            attempt.status = "pending"
        return Outcome("processed", "capture pending")
    if report.status in ("DENIED", "DECLINED", "FAILED"):
        if attempt.status not in ("completed", "refunded"):
            attempt.status = "denied"
            attempt.detail = f"capture {report.status.lower()}"
        return Outcome("processed", f"capture {report.status.lower()}")
    return Outcome("processed", f"capture status {report.status} ignored")


def apply_order_approved(session: Session, ctx: Context, order_id: str) -> Outcome:
    """CHECKOUT.ORDER.APPROVED: the payer approved; nothing is paid yet."""
    attempt = _lock_attempt(session, ctx, order_id, None)
    if attempt is None:
        return Outcome("rejected", f"no checkout attempt for order {order_id}")
    if attempt.status == "created":
        attempt.status = "approved"
        attempt.updated_at = ctx.now()
    return Outcome("processed", "order approved")


def _lock_payment(session: Session, ctx: Context, capture_id: str) -> Payment | None:
    query = select(Payment).where(Payment.gateway == GATEWAY, Payment.gateway_txn_id == capture_id)
    if not ctx.db.is_sqlite:
        query = query.with_for_update()
    return session.scalar(query)


def apply_refund(
    session: Session,
    ctx: Context,
    capture_id: str,
    refund_id: str,
    amount: Decimal,
    currency: str,
    reason: str,
) -> Outcome:
    """A refund or reversal PayPal reported: a credit note for ``amount`` and the services it
    paid for terminated, once per ``refund_id`` (a staff refund through Facturo is not credited
    twice). A refund of a capture not yet recorded marks the attempt refunded: its later
    COMPLETED then records nothing."""
    payment = _lock_payment(session, ctx, capture_id)
    new = insert_ignore(
        session,
        PayPalRefund.__table__,
        {
            "refund_id": refund_id,
            "capture_id": capture_id,
            "amount": to_money(amount),
            "currency": currency,
            "source": "webhook",
            "created_at": ctx.now(),
        },
        ("refund_id",),
    )
    if new is None:
        return Outcome("duplicate", f"refund {refund_id} already recorded")
    attempt = _lock_attempt(session, ctx, None, capture_id)
    if attempt is not None:
        attempt.status = "refunded"
        attempt.updated_at = ctx.now()
    if payment is None or payment.document_id is None:
        return Outcome("processed", f"{reason} before the payment was recorded; nothing to credit")
    invoice = session.get(Document, payment.document_id)
    if invoice is None or invoice.status != "paid" or invoice.kind != "invoice":
        return Outcome("rejected", f"{reason}: the payment is not applied to a paid invoice")
    if currency != invoice.currency:
        return Outcome("rejected", f"{reason} in {currency}, invoice in {invoice.currency}")
    remaining = invoice.total - invoice.refunded_total
    gross = min(to_money(amount), remaining)
    if gross <= 0:
        return Outcome("processed", f"{reason}: invoice already fully credited")
    try:
        note, _refund = refund_invoice(
            session,
            ctx,
            invoice,
            gross,
            f"PayPal {reason} {refund_id}",
            actor="paypal",
            through_gateway=False,
            deprovision=True,
        )
    except BillingError as exc:
        return Outcome("rejected", f"{reason}: {exc}")
    return Outcome("processed", f"credit note {note.number} for {gross} {currency}", payment.id)


def record_staff_refund(
    session: Session, ctx: Context, capture_id: str, refund_id: str, amount: Decimal, currency: str
) -> None:
    """Remember a refund Facturo asked for, so that its webhook does not credit it again."""
    insert_ignore(
        session,
        PayPalRefund.__table__,
        {
            "refund_id": refund_id,
            "capture_id": capture_id,
            "amount": to_money(amount),
            "currency": currency,
            "source": "staff",
            "created_at": ctx.now(),
        },
        ("refund_id",),
    )


def lock_for_refund(session: Session, ctx: Context, payment: Payment) -> None:
    """Serialise a staff refund with the webhooks about the same capture (row lock)."""
    _lock_payment(session, ctx, payment.gateway_txn_id)


def apply_ipn(
    session: Session, ctx: Context, message: IPNMessage, receiver_emails: tuple[str, ...]
) -> Outcome:
    """A VERIFIED IPN: Completed records the payment on the document whose reference is in
    ``invoice``; Refunded/Reversed credit it; any mismatch records nothing."""
    status = message.get("payment_status")
    txn_id = message.get("txn_id")
    document = session.scalar(select(Document).where(Document.reference == message.get("invoice")))
    if status in ("Refunded", "Reversed"):
        receivers = {email.casefold() for email in receiver_emails}
        if message.get("receiver_email").strip().casefold() not in receivers:
            return Outcome("rejected", f"Invalid receiver_email. ({message.get('receiver_email')})")
        try:
            amount = abs(Decimal(message.get("mc_gross")))
        except ArithmeticError:
            return Outcome("rejected", f"Invalid mc_gross. ({message.get('mc_gross')})")
        parent = message.get("parent_txn_id")
        if not parent:
            return Outcome("rejected", "refund without parent_txn_id")
        return apply_refund(
            session, ctx, parent, txn_id, amount, message.get("mc_currency"), status.lower()
        )
    if document is None:
        return Outcome("rejected", f"no document with reference {message.get('invoice')!r}")
    expected = document.balance if document.status == "unpaid" else document.total
    problems = validate(message, Expected(receiver_emails, expected, document.currency))
    if problems:
        return Outcome("rejected", "; ".join(problems))
    if status != "Completed":
        return Outcome("processed", f"payment_status {status}; nothing recorded")
    result = record_payment(
        session,
        ctx,
        document,
        gateway=GATEWAY,
        gateway_txn_id=txn_id,
        amount=Decimal(message.get("mc_gross")),
        currency=message.get("mc_currency"),
        paid_at=ctx.now(),
        raw=dict(message.fields),
        actor="paypal",
        payer_country=message.get("residence_country") or None,
    )
    return Outcome("processed", "IPN payment recorded", result.payment.id)
