"""Issued invoices and credit notes are immutable: the ORM refuses any change or deletion.

The database has triggers that refuse it too, for callers that bypass the ORM. Importing this
module registers the guard on every SQLAlchemy session.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, attributes

from facturo.billing.errors import ImmutableDocumentError
from facturo.models import Document, DocumentLine

FROZEN_FIELDS = (
    "number",
    "kind",
    "customer_id",
    "currency",
    "issue_date",
    "invoice_date",
    "subtotal",
    "tax_total",
    "total",
    "tax_treatment",
    "tax_breakdown",
    "legends",
    "seller",
    "customer_data",
    "original_id",
    "reference",
)


@event.listens_for(Session, "before_flush")
def _guard_issued_documents(session: Session, _context: Any, _instances: Any) -> None:
    """Refuse, in Python, any change to an issued document or its lines (the database has
    triggers that refuse it too, for callers that bypass the ORM)."""
    for obj in session.deleted:
        if isinstance(obj, Document) and _was_issued(obj):
            raise ImmutableDocumentError(f"{obj.number} is issued and cannot be deleted")
        if isinstance(obj, DocumentLine) and obj.document is not None and _was_issued(obj.document):
            raise ImmutableDocumentError("lines of an issued document cannot be deleted")
    for obj in session.dirty:
        if isinstance(obj, Document) and _was_issued(obj):
            for name in FROZEN_FIELDS:
                if attributes.get_history(obj, name).has_changes():
                    raise ImmutableDocumentError(f"{obj.number} is issued: {name} cannot change")
            pdf_history = attributes.get_history(obj, "pdf")
            if pdf_history.deleted and pdf_history.deleted[0] is not None:
                raise ImmutableDocumentError(f"{obj.number} is issued: its PDF cannot change")
        if isinstance(obj, DocumentLine) and obj.document is not None and _was_issued(obj.document):
            if session.is_modified(obj):
                raise ImmutableDocumentError("lines of an issued document cannot change")


def _was_issued(document: Document) -> bool:
    history = attributes.get_history(document, "number")
    if history.deleted:
        return history.deleted[0] is not None
    return bool(history.unchanged and history.unchanged[0] is not None)
