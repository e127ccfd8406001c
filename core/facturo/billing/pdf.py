"""A document's PDF, rendered by whichever plugin answers ``render_invoice``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

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
        document.pdf = pdf
        session.flush()
    return bytes(pdf)
