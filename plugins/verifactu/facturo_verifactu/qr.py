"""The tax QR block printed on every issued invoice and credit note."""

from __future__ import annotations

from html import escape

from facturo.plugin import Context, Document, QrBlock, pdf_block_html, qr_image

from .build import cents
from .hashing import qr_url
from .settings import config

#: Side of the printed code itself, quiet zone excluded: the Orden asks for 30 to 40 mm.
QR_SIDE_MM = 32
#: Quiet zone in modules on each side (ISO/IEC 18004's four; well over the 2 mm asked for).
QR_BORDER_MODULES = 4
#: Pixels per module in the PNG. The PDF scales the image up without smoothing, so the modules
#: stay square and sharp; fewer pixels are less to decode and compress on every render.
QR_PIXELS_PER_MODULE = 2
_POINTS_PER_MM = 72 / 25.4


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


def qr_block(ctx: Context, document: Document, fmt: str = "pdf") -> list[str]:
    """HTML: "QR tributario:", the QR (level M, the code 32 mm wide plus its quiet zone),
    "VERI*FACTU" — in bold 9 pt type, no smaller than the rest of the document.

    In a PDF (``fmt`` "pdf") the three are one block ReportLab draws (the code as a bitmap it
    scales without smoothing); on a web page the code is a PNG data URI that browsers are told
    to scale without smoothing too."""
    url = document_qr_url(ctx, document)
    if url is None:
        return []
    if fmt == "pdf":
        block = QrBlock(
            url,
            code_side_pt=QR_SIDE_MM * _POINTS_PER_MM,
            border=QR_BORDER_MODULES,
            pixels_per_module=QR_PIXELS_PER_MODULE,
            above="QR tributario:",
            below="VERI*FACTU",
            font_size=9.0,
            bold=True,
        )
        return [pdf_block_html(block)]
    code = qr_image(url, scale=QR_PIXELS_PER_MODULE, border=QR_BORDER_MODULES)
    side_pt = QR_SIDE_MM * _POINTS_PER_MM * (code.modules + 2 * code.border) / code.modules
    html = (
        '<div class="verifactu-qr" style="text-align: center; font-size: 9pt; font-weight: bold;">'
        "QR tributario:<br>"
        f'<img src="{code.data_uri}" style="width: {side_pt:.1f}pt; '
        f'height: {side_pt:.1f}pt; image-rendering: pixelated;" alt="{escape(url)}"><br>'
        "VERI*FACTU"
        "</div>"
    )
    return [html]
