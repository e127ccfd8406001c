"""A customer's invoices and credit notes: searched by number or text, and gathered per year
into one ZIP of PDFs (what an accountant asks for at year end)."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import extract, func, or_, select
from sqlalchemy.orm import Session

from facturo.billing.pdf import document_pdf
from facturo.models import Document, DocumentLine

if TYPE_CHECKING:
    from facturo.context import Context

ARCHIVED_KINDS = ("invoice", "credit_note")


def search_documents(session: Session, customer_id: int, text: str) -> set[int]:
    """Ids of ``customer_id``'s documents whose number, reference or a line's description
    contains ``text`` (case-insensitive)."""
    pattern = f"%{text.strip().lower()}%"
    by_line = (
        select(DocumentLine.document_id)
        .join(Document, Document.id == DocumentLine.document_id)
        .where(Document.customer_id == customer_id)
        .where(func.lower(DocumentLine.description).like(pattern))
    )
    query = select(Document.id).where(
        Document.customer_id == customer_id,
        or_(
            func.lower(func.coalesce(Document.number, "")).like(pattern),
            func.lower(Document.reference).like(pattern),
            Document.id.in_(by_line),
        ),
    )
    return set(session.scalars(query))


def archive_years(session: Session, customer_id: int) -> list[int]:
    """Years (newest first) in which ``customer_id`` has invoices or credit notes."""
    year = extract("year", Document.invoice_date)
    query = (
        select(year)
        .where(
            Document.customer_id == customer_id,
            Document.kind.in_(ARCHIVED_KINDS),
            Document.invoice_date.is_not(None),
        )
        .group_by(year)
    )
    return sorted({int(value) for value in session.scalars(query)}, reverse=True)


def yearly_documents(session: Session, customer_id: int, year: int) -> list[Document]:
    """``customer_id``'s invoices and credit notes dated in ``year``, in number order."""
    query = (
        select(Document)
        .where(
            Document.customer_id == customer_id,
            Document.kind.in_(ARCHIVED_KINDS),
            Document.invoice_date >= date(year, 1, 1),
            Document.invoice_date <= date(year, 12, 31),
        )
        .order_by(Document.invoice_date, Document.number)
    )
    return list(session.scalars(query))


def yearly_zip(ctx: Context, session: Session, customer_id: int, year: int) -> bytes | None:
    """One ZIP with the PDF of each of ``customer_id``'s invoices and credit notes of ``year``
    (rendered and kept where not yet rendered); None when there is none."""
    documents = yearly_documents(session, customer_id, year)
    if not documents:
        return None
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for document in documents:
            archive.writestr(f"{file_name(document)}.pdf", document_pdf(ctx, session, document))
    return buffer.getvalue()


def file_name(document: Document) -> str:
    """The document's number made safe as a file name."""
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in document.display_number)
