"""What an unpaid document shows for bank transfer: instructions and the EPC QR code."""

from __future__ import annotations

from html import escape

from facturo.plugin import (
    Context,
    DetailsBlock,
    Document,
    PaymentOption,
    QrBlock,
    pdf_block_html,
)
from facturo_transfer.instructions import (
    QR_PIXELS_PER_MODULE,
    TransferInstructions,
    build_instructions,
)
from facturo_transfer.settings import TransferSettings

#: The printed EPC QR code, quiet zone included (about 30 mm: banking apps read it easily).
PDF_QR_SIZE_PT = 86
#: The documents' muted text colour (their ``.muted`` rule), for labels and captions.
MUTED = "#627d98"


def transfer_settings(ctx: Context) -> TransferSettings:
    """The validated account details from ``[plugin.transfer]`` (built once, at start-up)."""
    found = ctx.settings_for("transfer")
    if not isinstance(found, TransferSettings):
        raise RuntimeError("the transfer plugin is not enabled in this installation")
    return found


def payment_option(ctx: Context, document: Document, language: str) -> PaymentOption:
    """Holder, IBAN, BIC, bank, the exact amount due and the reference, plus the QR code."""
    info = build_instructions(
        transfer_settings(ctx),
        document.reference,
        document.balance,
        document.currency,
        language=language,
    )
    return PaymentOption(
        gateway="transfer",
        title={"es": "Transferencia bancaria", "en": "Bank transfer"},
        html=page_html(info),
        pdf_html=pdf_html(info),
        order=50,
        transfer_payload=info.qr_payload,
    )


def _rows(info: TransferInstructions, label_style: str = "") -> str:
    return "".join(
        f'<tr><th scope="row"{label_style}>{escape(label)}</th><td>{escape(value)}</td></tr>'
        for label, value in info.rows()
    )


def page_html(info: TransferInstructions) -> str:
    """The instructions on the invoice page: the account table, the note, then the QR code."""
    qr = ""
    if info.qr_data_uri:
        qr = (
            f'<p class="transfer-qr">{escape(info.labels["qr"])}<br>'
            f'<img src="{info.qr_data_uri}" width="140" height="140" style="image-rendering: pixelated;" '
            f'alt="{escape(info.labels["qr"])}"></p>'
        )
    note = f'<p class="muted">{escape(info.labels["note"])}</p>'
    return f'<table class="transfer">{_rows(info)}</table>{note}{qr}'


def pdf_html(info: TransferInstructions) -> str:
    """The instructions on the PDF: label and value lines and the note beside the QR code, so
    that they take a few lines of the first page rather than a page of their own. One block
    ReportLab draws (:class:`DetailsBlock`): as HTML the lines, the note and the QR beside
    them took some twenty elements and a flex row, each laid out by xhtml2pdf at a cost (the
    block was a sixth of the proforma's PDF)."""
    code = None
    if info.qr_payload:
        code = QrBlock(
            info.qr_payload,
            side_pt=PDF_QR_SIZE_PT,
            pixels_per_module=QR_PIXELS_PER_MODULE,
            below=info.labels["qr"],
            font_size=7.0,
            color=MUTED,
        )
    block = DetailsBlock(tuple(info.rows()), note=info.labels["note"], qr=code, label_color=MUTED)
    return pdf_block_html(block)
