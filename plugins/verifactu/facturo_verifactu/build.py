"""Turn an issued Facturo document into the fields of a VERI*FACTU registration record.

Rules followed (see the plugin README):

- an invoice is F1 when its customer has a tax id; F2 (simplified invoice, RD 1619/2012 art. 4)
  when the customer gave none, since F1 must identify its recipient;
- a credit note is R1 (art. 80 LIVA corrections, refunds) by differences (TipoRectificativa I,
  negative amounts) naming the corrected invoice; R5 when the corrected invoice was an F2;
- tax breakdown by the document's tax treatment: domestic S1 at the rate (ClaveRegimen 01);
  EU reverse charge N2 (01) with the customer's VAT id as IDOtro type 02; outside the EU N2
  with ClaveRegimen 02; Canary Islands, Ceuta, Melilla N2 with ClaveRegimen 08; EU consumers
  (OSS) S1 at the destination rate with ClaveRegimen 17.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from facturo.plugin import Document

from .records import ForeignId, InvoiceType, Recipient, TaxLine

CENT = Decimal("0.01")
EU_COUNTRIES = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI SE".split()
)


def cents(value: Decimal | str) -> Decimal:
    """Return ``value`` with exactly two decimals (and never a negative zero)."""
    amount = Decimal(value).quantize(CENT)
    return Decimal("0.00") if amount == 0 else amount


def _customer(document: Document) -> dict[str, Any]:
    data = document.customer_data or document.customer.snapshot()
    return dict(data)


def has_tax_id(document: Document) -> bool:
    """True when the document's customer gave a tax id (it can be an F1's recipient)."""
    return bool(str(_customer(document).get("tax_id") or "").strip())


def recipient(document: Document) -> Recipient:
    """The IDDestinatario of the document's customer (which must have a tax id)."""
    data = _customer(document)
    name = str(data.get("company") or data.get("name") or "-")[:120]
    country = str(data.get("country") or "ES").upper()
    tax_id = str(data.get("tax_id") or "").strip().upper().replace(" ", "")
    if country == "ES":
        nif = tax_id[2:] if tax_id.startswith("ES") and len(tax_id) == 11 else tax_id
        return Recipient(name, nif=nif)
    if document.tax_treatment == "eu_reverse_charge" or country in EU_COUNTRIES:
        prefix = "EL" if country == "GR" else country
        vat = tax_id if tax_id.startswith(prefix) else prefix + tax_id
        return Recipient(name, foreign_id=ForeignId(country, "02", vat[:20]))
    return Recipient(name, foreign_id=ForeignId(country, "04", tax_id[:20]))


def tax_lines(document: Document) -> tuple[TaxLine, ...]:
    """The Desglose of ``document`` from its tax treatment and per-rate breakdown."""
    treatment = document.tax_treatment
    lines = []
    for row in document.tax_breakdown:
        base = cents(row["base"])
        rate = Decimal(row["rate"]).quantize(CENT)
        tax = cents(row["tax"])
        if treatment == "domestic":
            lines.append(TaxLine.subject(base, rate, tax))
        elif treatment == "eu_oss":
            lines.append(TaxLine.subject(base, rate, tax, regime="17"))
        elif treatment == "eu_reverse_charge":
            lines.append(TaxLine.not_subject(base, regime="01"))
        elif treatment == "special_territory":
            lines.append(TaxLine.not_subject(base, regime="08"))
        else:  # not_subject: outside the EU
            lines.append(TaxLine.not_subject(base, regime="02"))
    if not lines:
        raise ValueError(f"{document.number} has no tax breakdown")
    return tuple(lines)


def invoice_type(document: Document, original_type: str | None = None) -> InvoiceType:
    """F1/F2 for an invoice, R1/R5 for a credit note (``original_type`` of the corrected one)."""
    if document.kind == "credit_note":
        simplified = original_type in ("F2", "R5") if original_type else not has_tax_id(document)
        return "R5" if simplified else "R1"
    return "F1" if has_tax_id(document) else "F2"


def description(document: Document) -> str:
    """DescripcionOperacion: the reason of a credit note, else the lines' descriptions."""
    parts = [line.description for line in document.lines]
    text = "; ".join(parts) if parts else (document.number or "")
    if document.kind == "credit_note" and document.reason:
        text = f"{document.reason} ({text})"
    return (text.strip() or "-")[:500]
