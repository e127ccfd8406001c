"""Deciding a proforma's VAT again: when a VAT-number check comes back, when staff override
it, and at the moment the proforma is numbered as an invoice.

The tax treatment of an invoice is the one in force when it is numbered, decided with the
latest answer about the customer's VAT number. When it differs from the proforma's, the lines
are re-priced (the net prices never change, only the VAT) and no money is lost:

* less to pay (VIES confirmed the number after the customer paid VAT): the difference goes
  back first to the credit that had been applied, then to the customer's credit balance, and
  the payment records that part as credited; the invoice is numbered for the new total.
* more to pay (the number is no longer valid): the payment stays applied to the proforma, which
  is not numbered until the rest is paid (available credit is applied first); the customer is
  emailed why.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from facturo import audit
from facturo.billing.errors import BillingError
from facturo.billing.evidence import record_vat_check
from facturo.billing.money import ZERO
from facturo.billing.totals import compute_totals
from facturo.billing.vat import customer_treatment, legends_of
from facturo.models import Customer, Document, Payment, TaxEvidence

if TYPE_CHECKING:
    from facturo.billing.taxes import TaxTreatment
    from facturo.context import Context


def locked_customer(session: Session, ctx: Context, customer_id: int) -> Customer:
    """The customer row, locked for a change of its credit balance."""
    query = select(Customer).where(Customer.id == customer_id)
    if not ctx.db.is_sqlite:
        query = query.with_for_update()
    return session.execute(query.execution_options(populate_existing=True)).scalar_one()


def differs(document: Document, treatment: TaxTreatment) -> bool:
    """True when ``treatment`` would change the document's VAT."""
    return document.tax_treatment != treatment.code or any(
        line.tax_rate != treatment.rate for line in document.lines
    )


def apply_treatment(
    session: Session,
    ctx: Context,
    document: Document,
    treatment: TaxTreatment,
    customer: Customer,
    actor: str,
) -> Decimal:
    """Re-price an unnumbered ``document`` with ``treatment`` and conserve what was paid
    (see the module); return the change of its total."""
    if document.is_issued or document.status != "unpaid":
        raise BillingError("only unpaid proformas can be re-priced")
    before = {
        "treatment": document.tax_treatment,
        "total": document.total,
        "amount_paid": document.amount_paid,
        "credit_applied": document.credit_applied,
    }
    for line in document.lines:
        line.tax_rate = treatment.rate
    totals = compute_totals([(line.amount, line.tax_rate) for line in document.lines])
    change = totals.total - document.total
    document.subtotal, document.tax_total, document.total = (
        totals.subtotal,
        totals.tax_total,
        totals.total,
    )
    document.tax_breakdown = totals.breakdown
    document.tax_treatment = treatment.code
    document.legends = legends_of(treatment, customer.tax_id)
    excess = document.amount_paid + document.credit_applied - document.total
    credited = ZERO
    if excess > 0:
        owner = locked_customer(session, ctx, customer.id)
        back = min(excess, document.credit_applied)
        document.credit_applied -= back
        from_payments = excess - back
        document.amount_paid -= from_payments
        owner.credit_balance += excess
        credited = excess
        _credit_payments(session, document, from_payments)
    elif document.balance > 0:
        owner = locked_customer(session, ctx, customer.id)
        if owner.credit_balance > 0:
            applied = min(owner.credit_balance, document.balance)
            owner.credit_balance -= applied
            document.credit_applied += applied
    session.flush()
    audit.record(
        session,
        actor,
        "document.retax",
        document,
        before=before,
        after={
            "treatment": document.tax_treatment,
            "total": document.total,
            "amount_paid": document.amount_paid,
            "credit_applied": document.credit_applied,
            "to_credit_balance": credited,
            "vat_check": treatment.vat_check.status if treatment.vat_check else "",
        },
    )
    return change


def _credit_payments(session: Session, document: Document, amount: Decimal) -> None:
    """Mark ``amount`` of the document's payments (newest first) as moved to credit."""
    if amount <= 0:
        return
    payments = session.scalars(
        select(Payment)
        .where(Payment.document_id == document.id, Payment.status == "applied")
        .order_by(Payment.id.desc())
    )
    left = amount
    for payment in payments:
        room = payment.amount - payment.credited
        take = min(room, left)
        if take > 0:
            payment.credited += take
            left -= take
        if left == 0:
            break


def decide_again(
    session: Session, ctx: Context, document: Document, on: date, actor: str = "system"
) -> bool:
    """Decide the treatment of an unpaid proforma again with the latest VAT-number answer and
    re-price it when it changed; True when it changed."""
    customer = session.get(Customer, document.customer_id)
    assert customer is not None
    treatment = customer_treatment(ctx, customer, on, session)
    record_vat_check(session, ctx, document, treatment, customer.tax_id)
    if not differs(document, treatment):
        return False
    apply_treatment(session, ctx, document, treatment, customer, actor)
    return True


def pending_vat_checks(session: Session, limit: int = 100) -> list[Document]:
    """Unpaid proformas priced while the VAT-number service could not answer."""
    query = (
        select(Document)
        .join(TaxEvidence, TaxEvidence.document_id == Document.id)
        .where(
            Document.status == "unpaid",
            Document.number.is_(None),
            TaxEvidence.vat_status == "unknown",
        )
        .order_by(Document.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def reprice_unpaid(session: Session, ctx: Context, customer: Customer, actor: str) -> int:
    """Decide again the treatment of every unpaid proforma of ``customer`` (after its VAT
    number was checked again or overridden); returns how many changed."""
    query = select(Document).where(
        Document.customer_id == customer.id,
        Document.status == "unpaid",
        Document.number.is_(None),
        Document.kind == "proforma",
    )
    changed = 0
    for document in session.scalars(query.order_by(Document.id)):
        if decide_again(session, ctx, document, ctx.today(), actor=actor):
            changed += 1
    return changed
