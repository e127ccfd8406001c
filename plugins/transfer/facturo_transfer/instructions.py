"""What the invoice page and PDF show a customer who pays by bank transfer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from types import MappingProxyType

from stdnum import iban as stdnum_iban

from . import epc
from .settings import TransferSettings

LABELS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "es": MappingProxyType(
            {
                "title": "Pago por transferencia bancaria",
                "holder": "Titular",
                "iban": "IBAN",
                "bic": "BIC/SWIFT",
                "bank": "Banco",
                "amount": "Importe exacto",
                "reference": "Concepto (obligatorio)",
                "qr": "Escanea el código con la app de tu banco",
                "note": "Indica el concepto exactamente como aparece para que podamos "
                "identificar tu pago.",
            }
        ),
        "en": MappingProxyType(
            {
                "title": "Pay by bank transfer",
                "holder": "Account holder",
                "iban": "IBAN",
                "bic": "BIC/SWIFT",
                "bank": "Bank",
                "amount": "Exact amount",
                "reference": "Payment reference (required)",
                "qr": "Scan the code with your banking app",
                "note": "Write the reference exactly as shown so that we can identify your "
                "payment.",
            }
        ),
    }
)


#: Pixels per module of the EPC QR image: HTML and PDF scale it up without smoothing.
QR_PIXELS_PER_MODULE = 2


@dataclass(frozen=True)
class TransferInstructions:
    """Bank details, amount and reference for one document, ready to render.

    `qr_payload` is the EPC QR code's text when the currency is EUR and the amount fits EPC
    limits, else None. `labels` are in the requested language.
    """

    holder: str
    iban: str
    iban_display: str
    bic: str
    bank_name: str
    amount: Decimal
    currency: str
    amount_display: str
    reference: str
    qr_payload: str | None
    language: str
    labels: Mapping[str, str]

    @cached_property
    def qr_data_uri(self) -> str | None:
        """The EPC QR code as a PNG data URI (for web pages; the PDF draws it from
        `qr_payload`), made on first use; None without a payload."""
        if not self.qr_payload:
            return None
        return epc.qr_png_data_uri(self.qr_payload, scale=QR_PIXELS_PER_MODULE)

    def rows(self) -> list[tuple[str, str]]:
        """Return (label, value) pairs in display order, leaving out an empty bank name."""
        rows = [
            (self.labels["holder"], self.holder),
            (self.labels["iban"], self.iban_display),
            (self.labels["bic"], self.bic),
        ]
        if self.bank_name:
            rows.append((self.labels["bank"], self.bank_name))
        rows.append((self.labels["amount"], self.amount_display))
        rows.append((self.labels["reference"], self.reference))
        return rows


def build_instructions(
    settings: TransferSettings,
    document_reference: str,
    amount: Decimal,
    currency: str,
    *,
    language: str = "es",
) -> TransferInstructions:
    """Return the transfer instructions for paying `amount` `currency` of a document.

    `language` is a locale such as ``es``, ``es_ES`` or ``en-GB``; anything not Spanish gets
    English labels. The reference is the document reference, or its RF creditor reference
    when `settings.reference_source` is ``rf_creditor_reference``.
    """
    if not isinstance(amount, Decimal):
        raise TypeError("amount must be a Decimal")
    amount = amount.quantize(Decimal("0.01"))
    currency = currency.upper()
    lang = "es" if language.lower().replace("-", "_").split("_")[0] == "es" else "en"
    if settings.reference_source == "rf_creditor_reference":
        reference = epc.creditor_reference(document_reference)
    else:
        reference = document_reference
    payload = _qr_payload(settings, reference, amount, currency)
    return TransferInstructions(
        holder=settings.account_holder,
        iban=settings.iban,
        iban_display=stdnum_iban.format(settings.iban),
        bic=settings.bic,
        bank_name=settings.bank_name,
        amount=amount,
        currency=currency,
        amount_display=format_money(amount, currency, lang),
        reference=reference,
        qr_payload=payload,
        language=lang,
        labels=LABELS[lang],
    )


def format_money(amount: Decimal, currency: str, language: str) -> str:
    """Format `amount` with two decimals: ``1.234,50 EUR`` in Spanish, ``EUR 1,234.50`` else."""
    text = f"{amount:,.2f}"
    if language == "es":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
        return f"{text} {currency}"
    return f"{currency} {text}"


def _qr_payload(
    settings: TransferSettings, reference: str, amount: Decimal, currency: str
) -> str | None:
    # EPC QR codes are for SEPA credit transfers in euro only.
    if currency != "EUR" or not epc.MIN_AMOUNT <= amount <= epc.MAX_AMOUNT:
        return None
    structured = settings.reference_source == "rf_creditor_reference"
    payment = epc.EpcPayment(
        name=settings.account_holder,
        iban=settings.iban,
        bic=settings.bic,
        amount=amount,
        reference=reference if structured else "",
        text="" if structured else reference,
    )
    return epc.encode(payment)
