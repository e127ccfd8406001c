"""What an unpaid document shows for bank transfer: instructions and the EPC QR code."""

from __future__ import annotations

from html import escape

from facturo.plugin import Context, Document, PaymentOption
from facturo_transfer.instructions import TransferInstructions, build_instructions
from facturo_transfer.settings import TransferSettings

#: The printed EPC QR code, quiet zone included (about 30 mm: banking apps read it easily).
PDF_QR_SIZE_PT = 86


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
    that they take a few lines of the first page rather than a page of their own. Lines, not a
    nested table, and the QR beside them in a flex row rather than a table: xhtml2pdf lays out
    every table cell on its own, at a cost (a two-cell table took about 8 % of the PDF)."""
    details = "<br>".join(
        f'<span style="color: #627d98;">{escape(label)}:</span> {escape(value)}'
        for label, value in info.rows()
    )
    note = (
        f'<br><span style="color: #627d98; font-size: 7.5pt;">{escape(info.labels["note"])}</span>'
    )
    if not info.qr_data_uri:
        return f"<div>{details}{note}</div>"
    caption = escape(info.labels["qr"])
    return (
        '<div class="transfer" style="display: flex;">'
        f'<div style="width: 76%;">{details}{note}</div>'
        '<div style="width: 24%; text-align: center; font-size: 7pt; color: #627d98;">'
        f'<img src="{info.qr_data_uri}" style="width: {PDF_QR_SIZE_PT}pt; height: {PDF_QR_SIZE_PT}pt;" '
        f'alt="{caption}"><br>{caption}</div>'
        "</div>"
    )
