"""What refunds did to an invoice, as people read it: derived from its credit notes.

An invoice whose credit notes add up to its total is ``refunded``; one with credit notes for
less is ``partly_refunded``; otherwise its own status stands. Nothing is stored: the credit
notes are the record (a refund still reserved at the gateway has no credit note yet, so it
does not change what the customer is shown).
"""

from __future__ import annotations

from decimal import Decimal

from facturo.billing.money import ZERO
from facturo.models import Document

REFUNDED = "refunded"
PARTLY_REFUNDED = "partly_refunded"


def credited_total(document: Document) -> Decimal:
    """The amount (tax included, positive) the credit notes of ``document`` give back."""
    if document.kind != "invoice":
        return ZERO
    return -sum((note.total for note in document.credit_notes if note.is_issued), ZERO)


def refund_state(document: Document) -> str | None:
    """``refunded``, ``partly_refunded`` or None (no credit note, or not an invoice)."""
    credited = credited_total(document)
    if credited <= 0:
        return None
    return REFUNDED if credited >= document.total else PARTLY_REFUNDED


def display_status(document: Document) -> str:
    """The status a person is shown: the refund state when there is one, else the stored
    status (``paid``, ``unpaid``, ``cancelled``, ``issued``)."""
    return refund_state(document) or document.status
