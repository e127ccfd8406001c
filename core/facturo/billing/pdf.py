"""A document's PDF, rendered by whichever plugin answers ``render_invoice``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from facturo.billing.errors import BillingError
from facturo.models import Document

if TYPE_CHECKING:
    from facturo.context import Context


def document_pdf(ctx: Context, session: Session, document: Document) -> bytes:
    """The document's PDF: an issued one is rendered once and kept; a proforma each time."""
    if document.is_issued and document.pdf:
        return document.pdf
    pdf = ctx.hook.render_invoice(ctx=ctx, document=document, fmt="pdf")
    if pdf is None:
        raise BillingError("no renderer answered for PDF")
    if document.is_issued:
        pdf = _keep_first(session, document, bytes(pdf))
    return bytes(pdf)


def _keep_first(session: Session, document: Document, pdf: bytes) -> bytes:
    """Store ``pdf`` as the issued document's PDF unless another process stored one first;
    either way answer the stored one, so every copy a customer receives is the same file."""
    stored = session.execute(
        update(Document)
        .where(Document.id == document.id, Document.pdf.is_(None))
        .values(pdf=pdf)
        .execution_options(synchronize_session=False)
    )
    if stored.rowcount == 0:  # type: ignore[attr-defined]
        kept = session.scalar(select(Document.pdf).where(Document.id == document.id))
        pdf = bytes(kept) if kept else pdf
    set_committed_value(document, "pdf", pdf)
    return pdf
