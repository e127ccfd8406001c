"""Returned direct debits (R-transactions) read from imported bank statements.

The transfer plugin hands every movement of an imported statement to
``on_bank_statement_imported``; a debit that names one of our end-to-end ids (the field
camt.053 reports, or the remittance text of a Norma 43 line) is the return of that debit.

* A debit returned before its collection was settled: the item is marked returned and the
  proforma, never paid, is open again (out of the collection, payable by other means).
* A debit returned after settlement (the payment was recorded and the invoice issued): the
  payment is reversed the way the core reverses payments, a credit note (``refund_invoice``
  with no gateway call: the bank already took the money back), and the amount is billed again
  on a new proforma with the invoice's lines.

Either way the customer is emailed. A re-import of the statement finds the item already
returned and does nothing (the item row is locked while it changes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from facturo.plugin import (
    BankStatementEntry,
    Context,
    Customer,
    Document,
    LineSpec,
    audit_record,
    create_proforma,
    enqueue_email,
    refund_invoice,
)

from .models import CollectionItem

ACTOR = "sepa:bank-return"
_E2E = re.compile(r"FACSDD-\d+-\d+", re.IGNORECASE)

#: ISO 20022 reason codes of returned debits, as people are told them.
REASONS: dict[str, dict[str, str]] = {
    "AC01": {"es": "número de cuenta incorrecto", "en": "wrong account number"},
    "AC04": {"es": "cuenta cancelada", "en": "account closed"},
    "AC06": {"es": "cuenta bloqueada", "en": "account blocked"},
    "AC13": {"es": "cuenta no válida para B2B", "en": "account not valid for B2B"},
    "AG01": {"es": "operación no permitida", "en": "transaction forbidden"},
    "AM04": {"es": "saldo insuficiente", "en": "insufficient funds"},
    "MD01": {"es": "sin mandato", "en": "no mandate"},
    "MD06": {"es": "devolución pedida por el titular", "en": "refund requested by the debtor"},
    "MS02": {"es": "rechazado por el titular", "en": "refused by the debtor"},
    "MS03": {"es": "motivo no indicado", "en": "no reason given"},
}


def reason_text(code: str, language: str) -> str:
    """The reason of a return in ``language``, or the bare code when unknown."""
    found = REASONS.get(code.upper())
    if found is None:
        return code or ("motivo no indicado" if language == "es" else "no reason given")
    return found.get(language, found["en"])


def find_item(session: Session, entry: BankStatementEntry) -> CollectionItem | None:
    """The debit ``entry`` returns: by its end-to-end id, else one named in its text."""
    keys = [entry.end_to_end_id] if entry.end_to_end_id else []
    keys += [match.upper() for match in _E2E.findall(entry.remittance)]
    for key in keys:
        item = session.scalars(
            select(CollectionItem).where(CollectionItem.end_to_end_id == key.upper())
        ).first()
        if item is not None:
            return item
    return None


def apply_returns(session: Session, ctx: Context, entries: Iterable[BankStatementEntry]) -> int:
    """Apply the returns among ``entries``; how many debits were returned now."""
    count = 0
    for entry in entries:
        if entry.direction != "debit":
            continue
        item = find_item(session, entry)
        if item is None or entry.amount != item.amount or entry.currency != item.currency:
            continue
        count += int(return_item(session, ctx, item.id, entry.return_reason))
    return count


def return_item(session: Session, ctx: Context, item_id: int, reason: str) -> bool:
    """Mark the debit returned, reopen what it paid, email the customer; False on a repeat."""
    query = select(CollectionItem).where(CollectionItem.id == item_id)
    item = session.scalars(query if ctx.db.is_sqlite else query.with_for_update()).one()
    session.refresh(item)
    if item.status == "returned":
        return False
    was_collected = item.status == "collected"
    item.status = "returned"
    item.open_document_id = None
    item.return_reason = (reason or "")[:8].upper()
    item.returned_at = ctx.now()
    session.flush()
    document = session.get(Document, item.document_id)
    assert document is not None
    reopened = document
    if was_collected and document.status == "paid":
        why = f"SEPA direct debit returned ({item.return_reason or 'no reason'})"
        refund_invoice(session, ctx, document, item.amount, why, ACTOR, through_gateway=False)
        customer = session.get(Customer, document.customer_id)
        assert customer is not None
        lines = [
            LineSpec(
                description=line.description,
                unit_price=line.unit_price,
                quantity=line.quantity,
                period_start=line.period_start,
                period_end=line.period_end,
            )
            for line in document.lines
        ]
        reopened = create_proforma(
            session,
            ctx,
            customer,
            lines,
            currency=document.currency,
            source="manual",
            actor=ACTOR,
            notify=False,
        )
    audit_record(
        session,
        ACTOR,
        "sepa.debit_returned",
        item,
        after={"reason": item.return_reason, "reopened": reopened.reference},
    )
    _email(session, ctx, item, document, reopened)
    return True


def _email(
    session: Session, ctx: Context, item: CollectionItem, returned: Document, reopened: Document
) -> None:
    customer = session.get(Customer, returned.customer_id)
    assert customer is not None
    enqueue_email(
        session,
        ctx,
        "sepa_returned",
        customer.email,
        customer.language,
        {
            "customer": customer,
            "returned": returned,
            "document": reopened,
            "amount": item.amount,
            "currency": item.currency,
            "reason": reason_text(item.return_reason, customer.language),
            "reason_code": item.return_reason,
            "mandate_reference": item.mandate.reference,
            "document_url": ctx.url(f"/client/documents/{reopened.id}"),
        },
        dedupe_key=f"sepa:returned:{item.id}",
        customer_id=customer.id,
    )
