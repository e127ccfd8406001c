"""Card payments as domain operations: start an attempt, settle a notification, refund.

Plain Python over a Session and the Context; the web layer only parses requests and renders.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from facturo.plugin import (
    BillingError,
    Context,
    Customer,
    Document,
    Payment,
    card_details,
    record_payment,
)
from facturo.plugin import RefundResult as CoreRefundResult

from .cards import save_card_from
from .config import NOTIFY_PATH, PLUGIN, terminal_settings
from .models import CardAttempt
from .notification import NotificationMismatch, check_notification
from .orders import new_order_number
from .payment import PaymentAttempt, PaymentForm, build_payment_form, new_attempt
from .redsys import RedsysError, brand_name, get_field
from .refund import refund as redsys_refund

__all__ = [
    "PayError",
    "RuralviaRefundError",
    "attempt_for_customer",
    "payable_document",
    "payment_form",
    "refund_card_payment",
    "settle",
    "start_attempt",
]


class PayError(Exception):
    """The customer cannot pay this document by card (message in English, for gettext)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class RuralviaRefundError(BillingError):
    """The bank did not refund (refused, unreachable or an unreadable answer)."""


def payable_document(session: Session, customer: Customer, document_id: int) -> Document:
    """The customer's own unpaid proforma ``document_id``; raise PayError otherwise."""
    document = session.get(Document, document_id)
    if document is None or document.customer_id != customer.id:
        raise PayError("Document not found.", 404)
    if not customer.is_verified:
        raise PayError("Verify your email address before paying by card.", 403)
    if not document.is_payable:
        raise PayError("This document has nothing left to pay.", 409)
    return document


def start_attempt(
    session: Session, ctx: Context, customer: Customer, document_id: int, save_card: bool = False
) -> CardAttempt:
    """Create a pending attempt with a fresh order number for the balance of the document
    (``save_card``: the customer asked to save the card for renewals).

    The order number is unique (database constraint); a collision is retried, never reused.
    """
    document = payable_document(session, customer, document_id)
    settings = terminal_settings(ctx)
    for _ in range(5):
        order = new_order_number(12, now=ctx.now())
        terms = new_attempt(
            settings, order=order, amount=document.balance, currency_code=document.currency
        )
        attempt = CardAttempt(
            order_number=terms.order,
            document_id=document.id,
            amount=terms.amount,
            currency=terms.currency,
            merchant_code=terms.merchant_code,
            terminal=terms.terminal,
            status="pending",
            response_es="",
            response_en="",
            save_card=save_card,
            kind="cit",
            created_at=ctx.now(),
        )
        try:
            with session.begin_nested():
                session.add(attempt)
                session.flush()
        except IntegrityError:
            continue
        return attempt
    raise PayError("Could not start the payment; please try again.", 503)


def _terms(attempt: CardAttempt) -> PaymentAttempt:
    return PaymentAttempt(
        order=attempt.order_number,
        amount=attempt.amount,
        currency=attempt.currency,
        merchant_code=attempt.merchant_code,
        terminal=attempt.terminal,
    )


def return_path(order: str) -> str:
    """The client page the bank sends the browser back to."""
    return f"/client/ruralvia/return/{order}"


def payment_form(ctx: Context, attempt: CardAttempt, document: Document) -> PaymentForm:
    """The signed form posting ``attempt`` to the payment page (the sandbox in sandbox mode)."""
    settings = terminal_settings(ctx)
    back = ctx.url(return_path(attempt.order_number))
    return build_payment_form(
        settings,
        _terms(attempt),
        notification_url=ctx.url(NOTIFY_PATH),
        ok_url=back,
        ko_url=back + "?result=ko",
        merchant_data=document.reference,
        description=document.reference,
        save_card=attempt.save_card,
    )


def attempt_for_customer(session: Session, customer: Customer, order: str) -> CardAttempt | None:
    """The attempt ``order`` when it pays one of ``customer``'s documents, else None."""
    attempt = session.scalar(select(CardAttempt).where(CardAttempt.order_number == order))
    if attempt is None:
        return None
    document = session.get(Document, attempt.document_id)
    if document is None or document.customer_id != customer.id:
        return None
    return attempt


def settle(
    session: Session, ctx: Context, fields: Mapping[str, Any]
) -> tuple[str, str, int | None]:
    """Check verified ``fields`` (a notification or a query answer) against their attempt and
    apply them in ``session``: (status, detail, payment id).

    An approved answer records one payment however often it arrives (unique on the order
    number); a denied one marks the attempt failed with the code and its meaning; a mismatch
    is ``rejected`` and records nothing.
    """
    order = get_field(fields, "Ds_Order")
    query = select(CardAttempt).where(CardAttempt.order_number == order)
    if not ctx.db.is_sqlite:
        query = query.with_for_update()
    attempt = session.scalar(query)
    if attempt is None:
        return "rejected", f"unknown order {order!r}", None
    try:
        outcome = check_notification(fields, _terms(attempt))
    except NotificationMismatch as exc:
        return "rejected", str(exc), None
    attempt.response_code = outcome.response_code
    attempt.updated_at = ctx.now()
    if not outcome.approved:
        if attempt.status == "approved":
            return "duplicate", f"{outcome.response_code} after an approval: ignored", None
        attempt.status = "failed"
        attempt.response_es = outcome.message.es
        attempt.response_en = outcome.message.en
        return "processed", f"denied {outcome.response_code}: {outcome.message.en}", None
    document = session.get(Document, attempt.document_id)
    result = record_payment(
        session,
        ctx,
        document,
        gateway=PLUGIN,
        gateway_txn_id=attempt.order_number,
        amount=outcome.amount,
        currency=outcome.currency,
        paid_at=ctx.now(),
        raw=dict(outcome.fields),
        payer_country=get_field(outcome.fields, "Ds_Card_Country") or None,
        details=card_details(
            brand_name(get_field(outcome.fields, "Ds_Card_Brand")),
            # Redirection notifications say Ds_Card_Number, REST answers Ds_CardNumber.
            get_field(outcome.fields, "Ds_Card_Number")
            or get_field(outcome.fields, "Ds_CardNumber"),
        ),
    )
    attempt.status = "approved"
    attempt.response_es = outcome.message.es
    attempt.response_en = outcome.message.en
    attempt.payment_id = result.payment.id
    if attempt.save_card and document is not None:
        save_card_from(session, ctx, document.customer_id, attempt.order_number, outcome.fields)
    if not result.created:
        return "duplicate", "payment already recorded", result.payment.id
    return "processed", f"approved {outcome.response_code}", result.payment.id


def refund_card_payment(ctx: Context, payment: Payment, amount: Decimal) -> CoreRefundResult:
    """Refund ``amount`` of a card ``payment`` through the Redsys REST endpoint.

    Raises RuralviaRefundError when the bank refuses, cannot be reached or answers
    something unreadable; nothing is then recorded by the caller.
    """
    settings = terminal_settings(ctx)
    try:
        with httpx.Client(timeout=20) as client:
            answer = redsys_refund(
                client,
                settings,
                order=payment.gateway_txn_id,
                amount=amount,
                currency_code=payment.currency,
            )
    except httpx.HTTPError as exc:
        raise RuralviaRefundError(f"the card refund could not be sent: {exc}") from exc
    except RedsysError as exc:
        raise RuralviaRefundError(f"the bank's refund answer is not valid: {exc}") from exc
    if not answer.approved:
        code = answer.error_code or answer.response_code or "?"
        raise RuralviaRefundError(f"the bank refused the refund ({code}: {answer.message.en})")
    refunded_before = int((payment.refunded * 100).to_integral_value())
    reference = f"{payment.gateway_txn_id}/{answer.authorisation_code or refunded_before}"
    return CoreRefundResult(
        gateway_refund_id=reference,
        status="completed",
        amount=answer.amount,
        raw={str(k): v for k, v in answer.fields.items()},
    )
