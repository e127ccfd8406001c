"""The tax QR block printed on every issued invoice and credit note."""

from __future__ import annotations

import base64
from html import escape

from facturo.plugin import Context, Document

from .build import cents
from .hashing import qr_png, qr_url
from .settings import config


def document_qr_url(ctx: Context, document: Document) -> str | None:
    """The AEAT check URL of an issued document, or None for a proforma."""
    if document.number is None or document.invoice_date is None:
        return None
    cfg = config(ctx)
    return qr_url(
        cfg.issuer_nif,
        document.number,
        document.invoice_date,
        cents(document.total),
        cfg.production,
    )


def qr_block(ctx: Context, document: Document) -> list[str]:
    """HTML: "QR tributario:", the QR (PNG data URI, level M, about 32 mm), "VERI*FACTU"."""
    url = document_qr_url(ctx, document)
    if url is None:
        return []
    data = base64.b64encode(qr_png(url, scale=6, border=4)).decode("ascii")
    html = (
        '<div class="verifactu-qr">'
        "<div><strong>QR tributario:</strong></div>"
        f'<img src="data:image/png;base64,{data}" width="120" height="120" '
        f'alt="{escape(url)}">'
        "<div><strong>VERI*FACTU</strong></div>"
        "</div>"
    )
    return [html]
