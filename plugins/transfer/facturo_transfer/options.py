"""What an unpaid document shows for bank transfer: instructions and the EPC QR code."""

from __future__ import annotations

from html import escape

from facturo.plugin import Context, Document, PaymentOption
from facturo_transfer.instructions import build_instructions
from facturo_transfer.settings import TransferSettings


def transfer_settings(ctx: Context) -> TransferSettings:
    """The validated account details from ``[plugin.transfer]``."""
    raw = {k: v for k, v in ctx.settings_for("transfer").items() if v not in (None, "")}
    return TransferSettings.validate(raw)


def payment_option(ctx: Context, document: Document, language: str) -> PaymentOption:
    """Holder, IBAN, BIC, bank, the exact amount due and the reference, plus the QR code."""
    info = build_instructions(
        transfer_settings(ctx),
        document.reference,
        document.balance,
        document.currency,
        language=language,
    )
    rows = "".join(
        f'<tr><th scope="row">{escape(label)}</th><td>{escape(value)}</td></tr>'
        for label, value in info.rows()
    )
    qr = ""
    if info.qr_data_uri:
        qr = (
            f'<p class="transfer-qr">{escape(info.labels["qr"])}<br>'
            f'<img src="{info.qr_data_uri}" width="140" height="140" alt="{escape(info.labels["qr"])}"></p>'
        )
    note = f'<p class="muted">{escape(info.labels["note"])}</p>'
    html = f'<table class="transfer">{rows}</table>{note}{qr}'
    return PaymentOption(
        gateway="transfer",
        title={"es": "Transferencia bancaria", "en": "Bank transfer"},
        html=html,
        pdf_html=html,
        order=50,
    )
