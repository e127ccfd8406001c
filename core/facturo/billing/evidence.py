"""The evidence behind a document's VAT: the VAT-number check, and where the customer is.

For consumers the place of supply is where they live (Reg. 282/2011 art. 24b and 24f): an
invoice keeps two pieces of evidence, the billing country and the country of the paying card
or PayPal account as the gateway reports it. When they disagree the invoice is flagged and
shown on the staff dashboard until someone reviews it (with a note).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from facturo import audit
from facturo.billing.errors import BillingError
from facturo.models import Customer, Document, Payment, TaxEvidence

if TYPE_CHECKING:
    from facturo.billing.taxes import TaxTreatment
    from facturo.context import Context

#: Treatments where the place of supply is the customer's country of residence.
CONSUMER_TREATMENTS = frozenset({"domestic", "eu_oss", "not_subject", "special_territory"})


def iso_country(value: object) -> str | None:
    """An ISO 3166 alpha-2 country from a gateway's report: alpha-2 as is, numeric (Redsys'
    ``Ds_Card_Country``, e.g. "724") through the CLDR aliases Babel ships; None when unknown."""
    from babel.core import get_global

    text = str(value or "").strip().upper()
    if len(text) == 2 and text.isalpha():
        return text
    if text.isdigit() and len(text) <= 3:
        aliases = get_global("territory_aliases").get(text.zfill(3)) or []
        found = next((a for a in aliases if len(a) == 2 and a.isalpha() and a != "ZZ"), None)
        return found.upper() if found else None
    return None


def evidence_of(session: Session, document_id: int) -> TaxEvidence | None:
    """The evidence row of a document, if any."""
    return session.scalar(select(TaxEvidence).where(TaxEvidence.document_id == document_id))


def _row(session: Session, ctx: Context, document: Document) -> TaxEvidence:
    row = evidence_of(session, document.id)
    if row is None:
        row = TaxEvidence(document_id=document.id, updated_at=ctx.now())
        session.add(row)
    return row


def record_vat_check(
    session: Session, ctx: Context, document: Document, treatment: TaxTreatment, tax_id: str
) -> None:
    """Keep on ``document`` the VAT-number check its treatment was decided with (or none)."""
    if treatment.vat_check is None and evidence_of(session, document.id) is None:
        return
    row = _row(session, ctx, document)
    check = treatment.vat_check
    row.vat_number = tax_id if check else ""
    row.vat_status = check.status if check else ""
    row.vat_reference = check.reference[:64] if check else ""
    row.vat_checked_at = check.checked_at if check else None
    row.vat_detail = check.detail if check else ""
    row.vat_source = check.source[:32] if check else ""
    row.updated_at = ctx.now()


def record_place_of_supply(
    session: Session, ctx: Context, document: Document, customer: Customer
) -> TaxEvidence:
    """Record the billing country and the payer's country on a document being numbered, and
    flag a consumer's invoice whose two countries disagree."""
    row = _row(session, ctx, document)
    row.billing_country = customer.country.upper()
    payment = session.scalar(
        select(Payment)
        .where(
            Payment.document_id == document.id,
            Payment.status == "applied",
            Payment.payer_country.is_not(None),
        )
        .order_by(Payment.amount.desc(), Payment.id)
        .limit(1)
    )
    if payment is not None and payment.payer_country:
        row.payment_country = payment.payer_country.upper()
        row.payment_source = payment.gateway
    row.conflict = bool(
        document.tax_treatment in CONSUMER_TREATMENTS
        and row.payment_country
        and row.payment_country != row.billing_country
    )
    row.updated_at = ctx.now()
    session.flush()
    return row


def open_conflicts(session: Session, limit: int = 50) -> list[tuple[TaxEvidence, Document]]:
    """Invoices whose place-of-supply evidence disagrees and no one has reviewed yet."""
    query = (
        select(TaxEvidence, Document)
        .join(Document, Document.id == TaxEvidence.document_id)
        .where(TaxEvidence.conflict.is_(True), TaxEvidence.reviewed_at.is_(None))
        .options(selectinload(Document.customer))
        .order_by(Document.id)
        .limit(limit)
    )
    return [(row.TaxEvidence, row.Document) for row in session.execute(query)]


def review_conflict(
    session: Session, ctx: Context, document: Document, staff_label: str, note: str
) -> TaxEvidence:
    """Staff decision on a flagged invoice: reviewed, with a note saying why (required)."""
    note = note.strip()
    if not note:
        raise BillingError("write what you checked")
    if len(note) > 2000:
        raise BillingError("the note is too long (2,000 characters at most)")
    row = evidence_of(session, document.id)
    if row is None or not row.conflict:
        raise BillingError("this document has no place-of-supply conflict")
    if row.reviewed_at is not None:
        raise BillingError("this conflict was already reviewed")
    row.reviewed_at = ctx.now()
    row.reviewed_by = staff_label[:64]
    row.review_note = note
    audit.record(
        session,
        staff_label,
        "evidence.review",
        document,
        after={
            "billing_country": row.billing_country,
            "payment_country": row.payment_country,
            "note": note,
        },
    )
    return row
