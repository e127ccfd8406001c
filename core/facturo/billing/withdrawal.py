"""The consumer's withdrawal from a contract (TRLGDCU arts. 102–108; Directive 2023/2673's
"withdraw from contract here" function).

A consumer who did not ask for immediate supply may withdraw from an order within 14 calendar
days of placing it (``[legal] withdrawal_days``), from the client area, in two steps: the
statement (name, order, the email the acknowledgement goes to) and "confirm withdrawal". An
unpaid order is cancelled; a paid one is refunded in full through the gateway it was paid with,
a credit note is issued and the services are terminated. The acknowledgement, with the
declaration's content and date and time, is emailed. Refused, with the reason: business
orders, renewals, orders with consent to immediate supply, after the period, twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from facturo import audit
from facturo.billing.consent import is_consumer, terms_of
from facturo.billing.documents import cancel_proforma, queue_document_email, services_billed
from facturo.billing.money import ZERO
from facturo.billing.payments import refund_invoice
from facturo.billing.services import change_status
from facturo.models import Customer, Document, Withdrawal

if TYPE_CHECKING:
    from facturo.context import Context

REFUND_REASON = "Desistimiento del consumidor / Consumer withdrawal"


@dataclass(frozen=True)
class WithdrawalStatus:
    """Whether the order billed by a document may be withdrawn from now: if not, ``reason``
    (an English message id) with ``params`` says why; ``deadline`` is the period's end."""

    allowed: bool
    reason: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    deadline: datetime | None = None

    @property
    def last_day(self) -> date | None:
        """The last calendar day of the period (the deadline is the midnight after it)."""
        return (self.deadline - timedelta(days=1)).date() if self.deadline else None


class WithdrawalRefused(Exception):
    """The withdrawal is not allowed; ``status`` says why."""

    def __init__(self, status: WithdrawalStatus) -> None:
        super().__init__(status.reason)
        self.status = status


def deadline_of(ctx: Context, ordered_at: datetime) -> datetime:
    """The end of the withdrawal period of an order placed at ``ordered_at``: midnight
    (seller's time) after its last day."""
    placed = ordered_at.astimezone(ctx.settings.zone).date()
    last = placed + timedelta(days=ctx.settings.legal.withdrawal_days)
    return datetime.combine(last + timedelta(days=1), datetime.min.time(), ctx.settings.zone)


def withdrawal_status(session: Session, ctx: Context, document: Document) -> WithdrawalStatus:
    """May the customer withdraw from the order billed by ``document`` now? (see module)"""
    if document.kind not in ("proforma", "invoice") or document.source != "order":
        return WithdrawalStatus(False, "Only orders placed in the client area can be withdrawn.")
    if session.scalar(select(Withdrawal.id).where(Withdrawal.document_id == document.id)):
        return WithdrawalStatus(False, "You have already withdrawn from this contract.")
    terms = terms_of(session, document.id)
    customer = session.get(Customer, document.customer_id)
    assert customer is not None
    if terms is None or not is_consumer(customer, document.tax_treatment):
        return WithdrawalStatus(
            False, "The right of withdrawal is for consumers; business purchases do not have it."
        )
    deadline = deadline_of(ctx, terms.created_at)
    if terms.immediate_supply and terms.consent_at is not None:
        return WithdrawalStatus(
            False,
            "When ordering you asked for immediate supply and acknowledged losing the right "
            "of withdrawal (%(when)s).",
            {"when": terms.consent_at},
            deadline,
        )
    if document.status == "cancelled":
        return WithdrawalStatus(False, "This order was cancelled.", deadline=deadline)
    if document.refunded_total > 0:
        return WithdrawalStatus(False, "This invoice has already been refunded.", deadline=deadline)
    if document.status == "unpaid" and document.amount_paid > 0:
        return WithdrawalStatus(
            False, "This order is partly paid: contact us to withdraw.", deadline=deadline
        )
    if ctx.now() >= deadline:
        return WithdrawalStatus(
            False,
            "The %(days)s-day withdrawal period ended on %(when)s.",
            {"days": ctx.settings.legal.withdrawal_days, "when": deadline - timedelta(days=1)},
            deadline,
        )
    return WithdrawalStatus(True, deadline=deadline)


def withdraw(session: Session, ctx: Context, customer: Customer, document_id: int) -> Withdrawal:
    """Withdraw ``customer`` from the order billed by ``document_id`` (see module); raises
    WithdrawalRefused, and LookupError when the document is not the customer's."""
    query = select(Document).where(Document.id == document_id)
    if not ctx.db.is_sqlite:
        query = query.with_for_update()
    document = session.execute(query.execution_options(populate_existing=True)).scalar_one_or_none()
    if document is None or document.customer_id != customer.id:
        raise LookupError("no such document")
    status = withdrawal_status(session, ctx, document)
    if not status.allowed:
        raise WithdrawalRefused(status)
    actor = f"customer:{customer.id}"
    statement = (
        f"{customer.name} <{customer.email}> desiste del contrato {document.display_number} / "
        f"withdraws from contract {document.display_number}"
    )
    withdrawal = Withdrawal(
        document_id=document.id,
        customer_id=customer.id,
        requested_at=ctx.now(),
        outcome="cancelled",
        amount=ZERO,
        statement=statement,
    )
    if document.status == "unpaid":
        cancel_proforma(session, ctx, document, actor=actor, reason=REFUND_REASON)
        for service in services_billed(session, document):
            if service.status == "pending":
                change_status(session, ctx, service, "cancelled", None, "withdrawal", actor)
    else:
        note, refund = refund_invoice(
            session, ctx, document, None, REFUND_REASON, actor, deprovision=True
        )
        withdrawal.outcome = "refunded"
        withdrawal.amount = refund.amount
        withdrawal.credit_note_id = note.id
        withdrawal.refund_id = refund.id
        for service in services_billed(session, document):
            if service.status == "pending":
                change_status(session, ctx, service, "cancelled", None, "withdrawal", actor)
    session.add(withdrawal)
    session.flush()
    audit.record(
        session,
        actor,
        "order.withdraw",
        document,
        after={"outcome": withdrawal.outcome, "amount": withdrawal.amount},
    )

    queue_document_email(
        session,
        ctx,
        document,
        "withdrawal_confirmed",
        key=f"withdrawal:{document.id}",
        extra={"withdrawal": withdrawal, "statement": statement},
    )
    return withdrawal
