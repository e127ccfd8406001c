"""Proformas, invoices and credit notes: building, numbering, cancelling, rendering.

Rules: lines round half-up to cents; tax is computed per rate on the sum of that rate's bases;
a proforma consumes only a proforma reference; on full payment it becomes an invoice numbered
from the gap-free yearly series inside the payment's transaction, with seller and customer
data frozen on it; an issued document can only be corrected by a credit note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, select
from sqlalchemy.orm import Session, selectinload

from facturo import audit
from facturo.billing import (
    immutability,  # noqa: F401  (registers the guard on every session)
    numbering,
)
from facturo.billing.consent import is_consumer
from facturo.billing.credit import add_credit, lock_customer, lock_document, spend_credit
from facturo.billing.errors import BillingError
from facturo.billing.evidence import record_place_of_supply, record_vat_check
from facturo.billing.money import ZERO, to_money
from facturo.billing.retax import decide_again
from facturo.billing.services import apply_paid_lines, date_first_periods
from facturo.billing.taxes import TaxTreatment
from facturo.billing.totals import Totals, compute_totals
from facturo.billing.vat import customer_treatment, legends_of
from facturo.delivery.outbox import enqueue_email, enqueue_event
from facturo.models import BilledPeriod, Customer, Document, DocumentLine, Service

if TYPE_CHECKING:
    from facturo.context import Context


@dataclass(frozen=True)
class LineSpec:
    """A line to bill: ``unit_price`` excludes tax; ``service_id``/``action`` drive provisioning."""

    description: str
    unit_price: Decimal
    quantity: Decimal = Decimal("1")
    service_id: int | None = None
    action: str | None = None
    period_start: date | None = None
    period_end: date | None = None


def seller_snapshot(ctx: Context) -> dict[str, Any]:
    """The seller data frozen on an issued document."""
    return asdict(ctx.settings.seller)


def create_proforma(
    session: Session,
    ctx: Context,
    customer: Customer,
    lines: Sequence[LineSpec],
    currency: str | None = None,
    source: str = "order",
    issue_date: date | None = None,
    due_date: date | None = None,
    actor: str = "system",
    notify: bool = True,
    email_extra: dict[str, Any] | None = None,
    treatment: TaxTreatment | None = None,
) -> Document:
    """Create a proforma for ``lines``; apply the customer's credit; queue its email
    (``email_extra`` adds values to it, e.g. the order's consent to immediate supply).
    ``treatment``: the customer's VAT treatment when the caller already decided it (an order
    priced by its quote), so the VAT number is not checked twice; decided here otherwise.

    When credit covers the whole amount the document is paid (and numbered) at once.
    """
    if not lines:
        raise BillingError("a document needs at least one line")
    customer = lock_customer(session, customer.id)  # before the number series: lock order
    issued = issue_date or ctx.today()
    if treatment is None:
        treatment = customer_treatment(ctx, customer, issued, session)
    document = Document(
        kind="proforma",
        status="unpaid",
        reference=numbering.allocate(
            session, "proforma", issued.year, ctx.settings.billing.proforma_format
        ),
        customer_id=customer.id,
        currency=currency or ctx.settings.currency,
        issue_date=issued,
        due_date=due_date or issued + timedelta(days=ctx.settings.billing.payment_terms_days),
        tax_treatment=treatment.code,
        legends=legends_of(treatment, customer.tax_id),
        source=source,
        language=customer.language,
        amount_paid=ZERO,
        credit_applied=ZERO,
        refunded_total=ZERO,
    )
    priced: list[tuple[Decimal, Decimal]] = []
    for position, spec in enumerate(lines):
        amount = to_money(spec.unit_price * spec.quantity)
        priced.append((amount, treatment.rate))
        document.lines.append(
            DocumentLine(
                position=position,
                service_id=spec.service_id,
                action=spec.action,
                description=spec.description,
                quantity=spec.quantity,
                unit_price=to_money(spec.unit_price),
                amount=amount,
                tax_rate=treatment.rate,
                period_start=spec.period_start,
                period_end=spec.period_end,
            )
        )
    totals = compute_totals(priced)
    document.subtotal, document.tax_total, document.total = (
        totals.subtotal,
        totals.tax_total,
        totals.total,
    )
    document.tax_breakdown = totals.breakdown
    session.add(document)
    session.flush()
    record_vat_check(session, ctx, document, treatment, customer.tax_id)
    audit.record(
        session,
        actor,
        "document.create",
        document,
        after={"reference": document.reference, "total": document.total},
    )
    enqueue_event(
        session,
        ctx,
        "invoice_created",
        {"document_id": document.id},
        f"invoice_created:{document.id}",
    )
    applied = spend_credit(session, customer.id, document.total)
    if applied > 0:
        document.credit_applied = applied
        audit.record(session, "system", "credit.apply", document, after={"applied": applied})
    extra = dict(email_extra or {})
    if "terms" in extra:
        extra["terms"] = {**extra["terms"], "consumer": is_consumer(customer, treatment.code)}
    if document.balance == 0:
        settle(session, ctx, document, paid_at=ctx.now(), email_extra=extra)
    elif notify:
        check = treatment.vat_check
        extra["vat_pending"] = check is not None and check.status == "unknown"
        queue_document_email(session, ctx, document, "proforma_issued", extra=extra)
    return document


def queue_document_email(
    session: Session,
    ctx: Context,
    document: Document,
    template: str,
    key: str | None = None,
    extra: dict[str, Any] | None = None,
) -> bool:
    """Queue ``template`` about ``document`` to its customer, with the document's PDF attached
    (``extra`` adds values to the template's context)."""
    customer = session.get(Customer, document.customer_id)
    assert customer is not None
    return enqueue_email(
        session,
        ctx,
        template,
        to=customer.email,
        language=customer.language,
        context={
            "document": document,
            "customer": customer,
            "url": ctx.url(f"/client/documents/{document.id}"),
            **(extra or {}),
        },
        dedupe_key=key or f"{template}:{document.id}",
        customer_id=customer.id,
        attachments=[{"document_id": document.id}],
    )


def cancel_proforma(
    session: Session, ctx: Context, document: Document, actor: str = "system", reason: str = ""
) -> None:
    """Cancel an unpaid proforma; its credit goes back to the customer. Paid ones raise.

    The document is locked and re-read first, so a payment or another cancellation running
    at the same time cannot make its credit come back twice."""
    document = lock_document(session, document.id)
    if document.status != "unpaid" or document.is_issued:
        raise BillingError(
            f"only unpaid proformas can be cancelled ({document.reference} is {document.status})"
        )
    if document.amount_paid > 0:
        raise BillingError("a partly paid proforma cannot be cancelled; refund or complete it")
    if document.credit_applied > 0:
        add_credit(session, document.customer_id, document.credit_applied)
    document.status = "cancelled"
    document.cancelled_at = ctx.now()
    document.reason = reason

    for period in session.scalars(
        select(BilledPeriod).where(BilledPeriod.document_id == document.id)
    ):
        session.delete(period)
    audit.record(
        session,
        actor,
        "document.cancel",
        document,
        before={"status": "unpaid"},
        after={"status": "cancelled", "reason": reason},
    )


def settle(
    session: Session,
    ctx: Context,
    document: Document,
    paid_at: datetime,
    email_extra: dict[str, Any] | None = None,
) -> None:
    """Turn a fully paid proforma into a numbered invoice and queue what follows payment.

    Runs inside the payment's transaction: the number comes from the gap-free series under the
    counter's row lock; services billed are activated, renewed or unsuspended here, and the
    ``invoice_paid`` event (hooks, provisioning) and the receipt email are queued.
    """
    invoice_date = paid_at.astimezone(ctx.settings.zone).date()
    customer = session.get(Customer, document.customer_id)
    assert customer is not None
    covered = document.amount_paid + document.credit_applied
    if decide_again(session, ctx, document, invoice_date) and document.balance > 0:
        # The VAT went up (the VAT number is no longer valid): what was paid stays applied
        # and the invoice waits for the rest; the customer is told why.
        queue_document_email(
            session,
            ctx,
            document,
            "proforma_issued",
            key=f"proforma_repriced:{document.id}:{document.total}",
            extra={"repriced": True},
        )
        return
    date_first_periods(session, document, invoice_date)
    document.kind = "invoice"
    document.status = "paid"
    document.paid_at = paid_at
    document.invoice_date = invoice_date
    document.number = numbering.allocate(
        session, "invoice", invoice_date.year, ctx.settings.billing.invoice_format
    )
    document.seller = seller_snapshot(ctx)
    document.customer_data = customer.snapshot()
    session.flush()
    record_place_of_supply(session, ctx, document, customer)
    ctx.hook.on_document_issued(ctx=ctx, session=session, document=document)

    apply_paid_lines(session, ctx, document, invoice_date)
    enqueue_event(
        session, ctx, "invoice_paid", {"document_id": document.id}, f"invoice_paid:{document.id}"
    )
    credited = covered - document.amount_paid - document.credit_applied
    queue_document_email(
        session,
        ctx,
        document,
        "payment_receipt",
        extra={**(email_extra or {}), "credited": max(credited, ZERO)},
    )


def create_credit_note(
    session: Session,
    ctx: Context,
    invoice: Document,
    amount: Decimal | None,
    reason: str,
    actor: str = "system",
    reserved: bool = False,
) -> Document:
    """Issue a credit note (factura rectificativa) for all of ``invoice`` or ``amount`` of it.

    ``amount`` is tax-inclusive; a partial credit is split over the invoice's rates in
    proportion to their bases. The invoice row is locked and its ``refunded_total`` grows by
    the amount; raises BillingError when more than what is left would be credited.
    ``reserved``: a refund already added ``amount`` to ``refunded_total`` (see refunds).
    """
    invoice = lock_document(session, invoice.id)
    if invoice.kind != "invoice" or not invoice.is_issued:
        raise BillingError("credit notes can only correct an issued invoice")
    if not reason.strip():
        raise BillingError("a credit note needs a reason")
    remaining = invoice.total - invoice.refunded_total
    if reserved:
        if amount is None or not 0 < amount <= invoice.refunded_total:
            raise BillingError("a reserved credit needs the amount that was reserved")
        remaining = to_money(amount)
    gross = remaining if amount is None else to_money(amount)
    if gross <= 0 or gross > remaining:
        raise BillingError(f"the amount must be more than 0 and at most {remaining}")
    today = ctx.today()
    note = Document(
        kind="credit_note",
        status="issued",
        customer_id=invoice.customer_id,
        currency=invoice.currency,
        issue_date=today,
        due_date=today,
        invoice_date=today,
        tax_treatment=invoice.tax_treatment,
        legends=list(invoice.legends),
        original_id=invoice.id,
        reason=reason.strip(),
        source="credit",
        language=invoice.language,
        amount_paid=ZERO,
        credit_applied=ZERO,
        refunded_total=ZERO,
    )
    priced: list[tuple[Decimal, Decimal]] = []
    if gross == invoice.total:
        for position, line in enumerate(invoice.lines):
            priced.append((-line.amount, line.tax_rate))
            note.lines.append(
                DocumentLine(
                    position=position,
                    service_id=line.service_id,
                    description=line.description,
                    quantity=line.quantity,
                    unit_price=-line.unit_price,
                    amount=-line.amount,
                    tax_rate=line.tax_rate,
                    period_start=line.period_start,
                    period_end=line.period_end,
                )
            )
    else:
        priced = _split_partial(invoice, gross)
        for position, (base, rate) in enumerate(priced):
            note.lines.append(
                DocumentLine(
                    position=position,
                    description=f"Rectificación parcial de {invoice.number} / Partial credit of {invoice.number}",
                    quantity=Decimal("1"),
                    unit_price=base,
                    amount=base,
                    tax_rate=rate,
                )
            )
    totals = compute_totals(priced)
    # A partial credit must add up exactly to the amount asked: put any cent of rounding on tax.
    if gross != invoice.total and totals.total != -gross:
        drift = -gross - totals.total
        totals = Totals(totals.subtotal + drift, totals.tax_total, -gross, totals.breakdown)
        first = note.lines[0]
        first.unit_price = first.amount = first.amount + drift
        totals.breakdown[0]["base"] = str(Decimal(totals.breakdown[0]["base"]) + drift)
    note.subtotal, note.tax_total, note.total = totals.subtotal, totals.tax_total, totals.total
    note.tax_breakdown = totals.breakdown
    number = numbering.allocate(
        session, "credit_note", today.year, ctx.settings.billing.credit_note_format
    )
    note.reference = number
    note.seller = seller_snapshot(ctx)
    note.customer_data = dict(invoice.customer_data or {})
    session.add(note)
    if not reserved:
        invoice.refunded_total = invoice.refunded_total + gross
    # Lines first, then the number: the immutability triggers refuse lines of a numbered document.
    session.flush()
    note.number = number
    session.flush()
    ctx.hook.on_document_issued(ctx=ctx, session=session, document=note)
    audit.record(
        session,
        actor,
        "credit_note.create",
        note,
        after={
            "number": note.number,
            "original": invoice.number,
            "total": note.total,
            "reason": reason,
        },
    )
    queue_document_email(session, ctx, note, "credit_note")
    return note


def _split_partial(invoice: Document, gross: Decimal) -> list[tuple[Decimal, Decimal]]:
    parts: list[tuple[Decimal, Decimal]] = []
    for row in invoice.tax_breakdown:
        rate = Decimal(row["rate"])
        share = (
            (Decimal(row["base"]) + Decimal(row["tax"])) / invoice.total
            if invoice.total
            else Decimal(1)
        )
        part_gross = to_money(gross * share)
        base = to_money(part_gross / (1 + rate / 100))
        parts.append((-base, rate))
    return parts


def customer_documents(
    session: Session,
    customer_id: int,
    status: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[Document]:
    """A customer's documents, unpaid first then newest first; ``limit`` rows from
    ``offset`` (all when ``limit`` is None)."""
    unpaid_first = case((Document.status == "unpaid", 0), else_=1)
    query = (
        select(Document)
        .where(Document.customer_id == customer_id)
        .options(selectinload(Document.credit_notes))
        .order_by(unpaid_first, Document.id.desc())
    )
    if status:
        query = query.where(Document.status == status)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return list(session.scalars(query))


def services_billed(session: Session, document: Document) -> list[Service]:
    """The services a document's lines refer to."""
    ids = [line.service_id for line in document.lines if line.service_id]
    if not ids:
        return []
    return list(session.scalars(select(Service).where(Service.id.in_(ids))))
