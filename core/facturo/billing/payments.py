"""Recording payments (refunds: see refunds).

``record_payment`` is idempotent on (gateway, gateway_txn_id): a repeat returns the first
payment and changes nothing. Partial payments add up; the document is paid when its balance
reaches zero; an overpayment becomes customer credit; a payment in the wrong currency, to a
cancelled proforma or to a document already paid is kept as ``needs_review`` for staff and
changes no document.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from facturo import audit
from facturo.billing.credit import add_credit, lock_document
from facturo.billing.documents import settle
from facturo.billing.errors import BillingError
from facturo.billing.money import ZERO, to_money
from facturo.db.util import insert_ignore
from facturo.delivery.outbox import enqueue_event
from facturo.errors import FacturoError
from facturo.models import Document, Payment

if TYPE_CHECKING:
    from facturo.context import Context


@dataclass(frozen=True)
class PaymentOutcome:
    """``created`` is False when the same (gateway, txn id) had already been recorded."""

    payment: Payment
    created: bool


def record_payment(
    session: Session,
    ctx: Context,
    document: Document | None,
    gateway: str,
    gateway_txn_id: str,
    amount: Decimal,
    currency: str,
    paid_at: datetime,
    raw: dict[str, Any] | None = None,
    actor: str = "system",
    customer_id: int | None = None,
    payer_country: str | None = None,
    details: dict[str, str] | None = None,
    value_date: date | None = None,
) -> PaymentOutcome:
    """Record money received for ``document`` through ``gateway``; idempotent (see module).

    ``payer_country`` is the country of the paying card's issuer or the payer's account as the
    gateway reports it (ISO alpha-2 or numeric); it is evidence of a consumer's place of
    supply. ``details`` is what people are shown about the means of payment
    (``card_brand``, ``card_last4``: see :func:`facturo.billing.methods.card_details`).
    ``value_date``: only the day is known (a bank's value date); it is what people are shown,
    and ``paid_at`` (then any instant of that day) only orders the payment."""
    from facturo.billing.evidence import iso_country

    amount = to_money(amount)
    if amount <= 0:
        raise BillingError("a payment must be more than zero")
    if not gateway_txn_id.strip():
        raise BillingError("a payment needs the gateway's transaction id")
    locked = None
    if document is not None:
        query = select(Document).where(Document.id == document.id)
        if not ctx.db.is_sqlite:
            query = query.with_for_update()
        locked = session.execute(query).scalar_one()
        session.refresh(locked)
    new_id = insert_ignore(
        session,
        Payment.__table__,
        {
            "document_id": locked.id if locked else None,
            "customer_id": locked.customer_id if locked else customer_id,
            "gateway": gateway,
            "gateway_txn_id": gateway_txn_id,
            "amount": amount,
            "currency": currency.upper(),
            "credited": ZERO,
            "refunded": ZERO,
            "paid_at": paid_at,
            "status": "applied",
            "raw": raw or {},
            "payer_country": iso_country(payer_country),
            "details": dict(details or {}),
            "value_date": value_date,
            "created_at": ctx.now(),
        },
        ("gateway", "gateway_txn_id"),
    )
    if new_id is None:
        existing = session.scalars(
            select(Payment).where(
                Payment.gateway == gateway, Payment.gateway_txn_id == gateway_txn_id
            )
        ).one()
        return PaymentOutcome(existing, created=False)
    payment = session.get(Payment, new_id)
    assert payment is not None
    review = _review_reason(locked, currency.upper())
    if review:
        payment.status = "needs_review"
        payment.review_reason = review
    else:
        assert locked is not None
        _apply(session, ctx, locked, payment)
    audit.record(
        session,
        actor,
        "payment.record",
        payment,
        after={
            "document": locked.reference if locked else None,
            "amount": amount,
            "gateway": gateway,
            "txn": gateway_txn_id,
            "status": payment.status,
        },
    )
    enqueue_event(
        session,
        ctx,
        "payment_recorded",
        {"payment_id": payment.id},
        f"payment_recorded:{payment.id}",
    )
    return PaymentOutcome(payment, created=True)


def _review_reason(document: Document | None, currency: str) -> str | None:
    if document is None:
        return "no matching document"
    if document.status == "cancelled":
        return "paid to a cancelled proforma"
    if document.status == "paid" or document.kind != "proforma":
        return "document already paid"
    if currency != document.currency:
        return f"currency {currency} differs from the document's {document.currency}"
    return None


def _apply(session: Session, ctx: Context, document: Document, payment: Payment) -> None:
    due = document.balance
    applied = min(payment.amount, due)
    excess = payment.amount - applied
    document.amount_paid = document.amount_paid + applied
    if excess > 0:
        add_credit(session, document.customer_id, excess)
        payment.credited = excess
    session.flush()
    if document.balance == 0:
        settle(session, ctx, document, payment.paid_at)


def apply_reviewed_payment(
    session: Session, ctx: Context, payment: Payment, document: Document, actor: str
) -> None:
    """Staff decision: apply a payment held for review to ``document`` (same currency only)."""
    document = lock_document(session, document.id)  # then the payment: one lock order
    payment = session.execute(
        select(Payment)
        .where(Payment.id == payment.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if payment.status != "needs_review":
        raise BillingError("only payments held for review can be applied")
    if document.status != "unpaid" or document.kind != "proforma":
        raise BillingError("the document must be an unpaid proforma")
    if payment.currency != document.currency:
        raise BillingError("the payment's currency differs from the document's")
    before = {"status": payment.status, "document_id": payment.document_id}
    payment.document_id = document.id
    payment.customer_id = document.customer_id
    payment.status = "applied"
    payment.review_reason = None
    _apply(session, ctx, document, payment)
    audit.record(
        session,
        actor,
        "payment.apply_reviewed",
        payment,
        before=before,
        after={"status": "applied", "document_id": document.id},
    )


def dismiss_reviewed_payment(session: Session, payment: Payment, actor: str, note: str) -> None:
    """Staff decision: the held payment was refunded outside Facturo or is otherwise settled."""
    if payment.status != "needs_review":
        raise BillingError("only payments held for review can be dismissed")
    payment.status = "dismissed"
    audit.record(
        session,
        actor,
        "payment.dismiss",
        payment,
        before={"status": "needs_review"},
        after={"status": "dismissed", "note": note},
    )


def payment_history(
    session: Session, customer_id: int | None = None, limit: int = 200, offset: int = 0
) -> list[Payment]:
    """Payments, newest first; one customer's when ``customer_id`` is given."""
    query = (
        select(Payment)
        .order_by(Payment.paid_at.desc(), Payment.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if customer_id is not None:
        query = query.where(Payment.customer_id == customer_id)
    return list(session.scalars(query))


def record_manual_payment(
    session: Session,
    ctx: Context,
    document: Document,
    amount: Decimal,
    paid_on: date,
    bank_reference: str,
    actor: str,
    *,
    method: str,
) -> PaymentOutcome:
    """Record a payment checked by hand with the manual (offline) method ``method``: the
    payment's gateway is ``method``, its txn id the reference, so a repeat with the same
    reference changes nothing. ``paid_on`` is a date and is kept as the payment's
    ``value_date`` (shown as a date, never as an hour). The caller picks ``method`` among the
    enabled manual methods (:func:`facturo.gateways.methods.manual_method`)."""
    reference = bank_reference.strip()
    if not reference:
        raise FacturoError("the bank reference is required", field="bank_reference")
    if amount <= 0:
        raise FacturoError("the amount must be more than zero", field="amount")
    if paid_on > ctx.today():
        raise FacturoError("the date cannot be in the future", field="paid_on")
    paid_at = datetime.combine(paid_on, time(12, 0), tzinfo=ctx.settings.zone)
    try:
        return record_payment(
            session,
            ctx,
            document,
            method,
            reference,
            amount,
            document.currency,
            paid_at,
            raw={"source": "manual", "recorded_by": actor},
            actor=actor,
            value_date=paid_on,
        )
    except BillingError as exc:
        raise FacturoError(str(exc), field="amount") from exc
