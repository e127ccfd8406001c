"""The VAT book of issued invoices (libro registro de facturas expedidas), one line per document
and VAT rate, for a quarter or a year.

Every invoice and credit note of the period is a line source; a credit note (factura
rectificativa by differences) carries negative amounts and so counts negatively in the period
of its own issue date. How each tax treatment is booked:

====================  ============  ===========  =========================================
treatment             Calificación  Clave        what the line holds
====================  ============  ===========  =========================================
domestic              S1            01           base, Spanish rate and quota
eu_reverse_charge     N2            01           base not subject; customer's NIF-IVA
not_subject           N2            02           base not subject (outside the EU)
special_territory     N2            08           base not subject (Canarias, Ceuta, Melilla)
eu_oss                N2            17           base not subject in Spain; the destination
                                                 country's rate and VAT kept for the OSS return
====================  ============  ===========  =========================================

OSS sales are not subject to Spanish VAT (place of supply in the consumer's member state), so
the book's Spanish quota of an OSS line is zero and its VAT is reported by member state in the
OSS return (modelo 369) ⚠ — the AEAT book validations admit only Spanish rates on S1 lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from facturo.billing.money import ZERO
from facturo.billing.taxes import EU_COUNTRIES
from facturo.models import Document

ISSUED_KINDS = ("invoice", "credit_note")
#: The name the AEAT book wants for customers not identified on a simplified invoice.
CONSUMER_NAME = "VENTAS A CONSUMIDOR FINAL"
#: (Calificación de la operación, Clave de operación) of each tax treatment.
BOOK_CODES: dict[str, tuple[str, str]] = {
    "domestic": ("S1", "01"),
    "eu_reverse_charge": ("N2", "01"),
    "not_subject": ("N2", "02"),
    "special_territory": ("N2", "08"),
    "eu_oss": ("N2", "17"),
}
_TRAILING_DIGITS = re.compile(r"^(.*?)[-/ ]?(\d+)$")


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter (``quarter`` 1 to 4) of ``year``."""

    year: int
    quarter: int

    def __post_init__(self) -> None:
        if not 1 <= self.quarter <= 4:
            raise ValueError("the quarter is 1, 2, 3 or 4")
        if not 2000 <= self.year <= 2999:
            raise ValueError("the year has four digits")

    @classmethod
    def of(cls, day: date) -> Quarter:
        """The quarter ``day`` falls in."""
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def parse(cls, year: str, quarter: str) -> Quarter:
        """A quarter from form text; ValueError says what is wrong."""
        if not year.strip().isdigit():
            raise ValueError("the year has four digits")
        text = quarter.strip().upper().removesuffix("T")
        if not text.isdigit():
            raise ValueError("the quarter is 1, 2, 3 or 4")
        return cls(int(year), int(text))

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.quarter - 2, 1)

    @property
    def end(self) -> date:
        """The last day of the quarter."""
        if self.quarter == 4:
            return date(self.year, 12, 31)
        return date(self.year, 3 * self.quarter + 1, 1) - timedelta(days=1)

    @property
    def code(self) -> str:
        """The book's Periodo: ``1T`` … ``4T``."""
        return f"{self.quarter}T"

    def previous(self) -> Quarter:
        """The quarter before this one."""
        if self.quarter == 1:
            return Quarter(self.year - 1, 4)
        return Quarter(self.year, self.quarter - 1)


@dataclass(frozen=True)
class Recipient:
    """NIF Destinatario of a book line: ``id_type`` blank for a Spanish NIF, 02 NIF-IVA, 04
    another official id; all blank (and the consumer name) on a simplified invoice."""

    id_type: str
    country: str
    identifier: str
    name: str

    @property
    def vat_number(self) -> str:
        """The NIF-IVA with its country prefix (EL for Greece), or "" if not a NIF-IVA."""
        return self.identifier if self.id_type == "02" else ""


@dataclass(frozen=True)
class BookLine:
    """One line of the book: one document at one VAT rate.

    ``base``, ``tax`` (the Spanish quota; zero on N2 lines) and ``total`` are signed; the OSS
    fields hold the destination country, its rate and the VAT charged on ``eu_oss`` lines.
    ``original_*`` describe the invoice a credit note corrects.
    """

    document_id: int
    number: str
    kind: str
    invoice_type: str
    issue_date: date
    treatment: str
    qualification: str
    regime: str
    recipient: Recipient
    rate: Decimal | None
    base: Decimal
    tax: Decimal
    oss_country: str
    oss_rate: Decimal | None
    oss_tax: Decimal
    original_number: str
    original_date: date | None

    @property
    def total(self) -> Decimal:
        """Total Factura of this line: base plus Spanish quota (the base alone on N2 lines)."""
        return self.base + self.tax

    @property
    def gross(self) -> Decimal:
        """What the customer was charged on this line, foreign OSS VAT included."""
        return self.base + self.tax + self.oss_tax

    @property
    def quarter(self) -> Quarter:
        return Quarter.of(self.issue_date)

    @property
    def original_quarter(self) -> Quarter | None:
        return Quarter.of(self.original_date) if self.original_date else None

    @property
    def declared_quarter(self) -> Quarter:
        """The quarter whose declared figures this line changes: its own, or for a credit note
        the quarter of the invoice it corrects (recapitulative and OSS returns)."""
        return self.original_quarter or self.quarter

    @property
    def series(self) -> str:
        """The series part of the number (``F2026`` of ``F2026-000001``)."""
        match = _TRAILING_DIGITS.match(self.number)
        return match.group(1) if match else ""

    @property
    def sequence(self) -> str:
        """The number within the series (``000001`` of ``F2026-000001``)."""
        match = _TRAILING_DIGITS.match(self.number)
        return match.group(2) if match else self.number


def issued_documents(session: Session, start: date, end: date) -> list[Document]:
    """Invoices and credit notes issued from ``start`` to ``end`` (inclusive), in date and
    number order, with the invoices the credit notes correct loaded."""
    query = (
        select(Document)
        .options(selectinload(Document.original))
        .where(
            Document.kind.in_(ISSUED_KINDS),
            Document.number.is_not(None),
            Document.invoice_date >= start,
            Document.invoice_date <= end,
        )
        .order_by(Document.invoice_date, Document.kind.desc(), Document.number)
    )
    return list(session.scalars(query))


def _customer(document: Document) -> dict[str, str]:
    data = document.customer_data or {}
    return {key: str(value or "") for key, value in data.items()}


def is_simplified(document: Document) -> bool:
    """True for an invoice whose customer gave no tax id (F2), or a credit note of one (R5)."""
    source = document.original if document.kind == "credit_note" and document.original else None
    return not _customer(source or document).get("tax_id", "").strip()


def invoice_type(document: Document) -> str:
    """Tipo de Factura: F1 or F2 for an invoice, R1 or R5 (of an F2) for a credit note."""
    simplified = is_simplified(document)
    if document.kind == "credit_note":
        return "R5" if simplified else "R1"
    return "F2" if simplified else "F1"


def recipient(document: Document) -> Recipient:
    """How the book identifies the customer of ``document``."""
    data = _customer(document)
    name = (data.get("company") or data.get("name") or "").strip()[:40]
    if is_simplified(document):
        return Recipient("", "", "", CONSUMER_NAME)
    country = data.get("country", "ES").upper() or "ES"
    tax_id = data.get("tax_id", "").strip().upper().replace(" ", "").replace("-", "")
    if country == "ES":
        return Recipient("", "", tax_id[2:] if tax_id.startswith("ES") else tax_id, name)
    if country in EU_COUNTRIES:
        prefix = "EL" if country == "GR" else country
        vat = tax_id if tax_id.startswith(prefix) else prefix + tax_id
        return Recipient("02", country, vat[:20], name)
    return Recipient("04", country, tax_id[:20], name)


def book_lines(documents: Iterable[Document]) -> list[BookLine]:
    """The book lines of ``documents``: one per document and rate of its tax breakdown."""
    lines: list[BookLine] = []
    for document in documents:
        assert document.number is not None and document.invoice_date is not None
        qualification, regime = BOOK_CODES.get(document.tax_treatment, ("N2", "01"))
        oss = document.tax_treatment == "eu_oss"
        original = document.original if document.kind == "credit_note" else None
        who = recipient(document)
        for row in document.tax_breakdown:
            rate = Decimal(row["rate"])
            tax = Decimal(row["tax"])
            lines.append(
                BookLine(
                    document_id=document.id,
                    number=document.number,
                    kind=document.kind,
                    invoice_type=invoice_type(document),
                    issue_date=document.invoice_date,
                    treatment=document.tax_treatment,
                    qualification=qualification,
                    regime=regime,
                    recipient=who,
                    rate=rate if qualification == "S1" else None,
                    base=Decimal(row["base"]),
                    tax=tax if qualification == "S1" else ZERO,
                    oss_country=_customer(document).get("country", "").upper() if oss else "",
                    oss_rate=rate if oss else None,
                    oss_tax=tax if oss else ZERO,
                    original_number=(original.number or "") if original else "",
                    original_date=original.invoice_date if original else None,
                )
            )
    return lines


def lines_for(session: Session, start: date, end: date) -> list[BookLine]:
    """The book lines of every invoice and credit note issued from ``start`` to ``end``."""
    return book_lines(issued_documents(session, start, end))
