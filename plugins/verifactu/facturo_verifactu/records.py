"""VERI*FACTU records: registration (registro de alta) and cancellation (registro de anulación).

Field names follow the AEAT record design v1.0 (``DsRegistroVeriFactu``); each dataclass documents
the XML element it maps to. Records are immutable; the huella is derived from their fields, so a
stored record and its hash can never disagree. Amounts are Decimals written as they are held
(see :mod:`facturo_verifactu.hashing`), so quantize money to cents before building a record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from .hashing import (
    HASH_TYPE_SHA256,
    cancellation_hash,
    format_amount,
    format_rate,
    format_timestamp,
    registration_hash,
)

ID_VERSION = "1.0"
#: The AEAT "Validaciones y errores" version these records follow (v1.2.1 of 23/02/2026).
VALIDATIONS_VERSION = "1.2.1"
#: Validaciones v1.2.0 (3.1.1.3): from this date FechaFinVeriFactu must read 31-12-YYYY with
#: YYYY the AEAT's current year or the previous one ⚠ (what is accepted before is not stated;
#: Facturo always writes that form).
FIXED_END_DATE_FROM = date(2027, 1, 1)
#: Validaciones v1.1.9: CuotaTotal (and ImporteTotal) may differ from the breakdown by ±10 €
#: at most; the CuotaTotal check is skipped for these ClaveRegimen values.
TOTALS_TOLERANCE = Decimal("10.00")
REGIMES_WITHOUT_QUOTA_CHECK = frozenset(("03", "05", "06", "08", "09"))

InvoiceType = Literal["F1", "F2", "F3", "R1", "R2", "R3", "R4", "R5"]
RectificationType = Literal["S", "I"]
RectificationCause = Literal["art80", "insolvency", "bad_debt", "other"]

INVOICE_TYPES: frozenset[str] = frozenset(("F1", "F2", "F3", "R1", "R2", "R3", "R4", "R5"))
RECTIFYING_TYPES: frozenset[str] = frozenset(("R1", "R2", "R3", "R4", "R5"))
# Validaciones v1.2: these types must name their recipients; F2 and R5 must not.
TYPES_WITH_RECIPIENT: frozenset[str] = frozenset(("F1", "F3", "R1", "R2", "R3", "R4"))

OPERATION_QUALIFICATIONS: frozenset[str] = frozenset(("S1", "S2", "N1", "N2"))
EXEMPTIONS: frozenset[str] = frozenset(("E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8"))
FOREIGN_ID_TYPES: frozenset[str] = frozenset(("02", "03", "04", "05", "06", "07"))

_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]{1,60}")
_SYSTEM_ID = re.compile(r"[A-Z0-9]{1,2}")


def choose_invoice_type(
    *,
    simplified: bool,
    rectifies: bool = False,
    cause: RectificationCause = "art80",
    replaces_simplified: bool = False,
) -> InvoiceType:
    """Return the TipoFactura of an invoice (list L2 of the AEAT record design).

    - F1: a full invoice (RD 1619/2012 arts. 6, 7.2, 7.3) — every B2B sale, and any sale whose
      customer is identified.
    - F2: a simplified invoice (art. 4; ≤ €400 incl. VAT, or ≤ €3 000 in listed retail trades),
      which carries no recipient block.
    - F3: a full invoice issued to replace simplified invoices already issued and declared
      ("canje"); this is not a corrective invoice.
    - R1–R4: corrective invoices (art. 15) correcting a full invoice, by cause: ``art80`` (error
      founded in law, and LIVA art. 80 One, Two and Six: refunds, returns, discounts,
      cancelled sales — a credit note for a refund is R1), ``insolvency`` (art. 80 Three, R2),
      ``bad_debt`` (art. 80 Four, R3), ``other`` (R4).
    - R5: any corrective invoice of a simplified invoice, whatever the cause.
    """
    if rectifies and replaces_simplified:
        raise ValueError("an F3 replacement is not a corrective invoice")
    if rectifies:
        if simplified:
            return "R5"
        by_cause: dict[str, InvoiceType] = {
            "art80": "R1",
            "insolvency": "R2",
            "bad_debt": "R3",
            "other": "R4",
        }
        return by_cause[cause]
    if replaces_simplified:
        return "F3"
    return "F2" if simplified else "F1"


def verifactu_end_date(today: date) -> date:
    """FechaFinVeriFactu for a taxpayer leaving VERI*FACTU: 31 December of this year (one
    stays in VERI*FACTU until the end of the year, Orden HAC/1177/2024 art. 17)."""
    return date(today.year, 12, 31)


def fixed_end_date_problem(text: str | None, today: date) -> str | None:
    """Why a FechaFinVeriFactu (dd-mm-yyyy) breaks Validaciones v1.2.0 on ``today``, or None.

    From :data:`FIXED_END_DATE_FROM` it must be 31-12 of ``today``'s year or the year before.
    """
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%d-%m-%Y").date()
    except ValueError:
        return f"FechaFinVeriFactu {text!r} is not a dd-mm-yyyy date"
    if today < FIXED_END_DATE_FROM:
        return None
    if (day.month, day.day) != (12, 31) or day.year not in (today.year, today.year - 1):
        return f"FechaFinVeriFactu must be 31-12-{today.year} or 31-12-{today.year - 1}"
    return None


def _check_nif(nif: str, what: str) -> None:
    if len(nif) != 9:
        raise ValueError(f"{what} {nif!r} must be 9 characters")


@dataclass(frozen=True)
class InvoiceId:
    """IDFactura: issuer NIF, series + number, issue date of one invoice."""

    issuer_nif: str
    number: str
    issue_date: date

    def __post_init__(self) -> None:
        _check_nif(self.issuer_nif, "issuer NIF")
        # Validaciones v1.2: NumSerieFactura is printable ASCII (32-126), at most 60 characters.
        if not _PRINTABLE_ASCII.fullmatch(self.number):
            raise ValueError(f"invoice number {self.number!r} must be 1-60 ASCII 32-126 chars")


@dataclass(frozen=True)
class ChainLink:
    """Encadenamiento/RegistroAnterior: the previous record's invoice id and huella."""

    invoice: InvoiceId
    hash: str

    @classmethod
    def of(cls, record: RegistrationRecord | CancellationRecord) -> ChainLink:
        """Return the link the next record of the chain must carry to follow ``record``."""
        return cls(invoice=record.invoice, hash=record.hash)


@dataclass(frozen=True)
class SoftwareSystem:
    """SistemaInformatico: the billing software and its producer (declaración responsable)."""

    producer_name: str
    producer_nif: str
    name: str
    system_id: str
    version: str
    installation_number: str
    only_verifactu: bool = True
    multi_taxpayer_possible: bool = False
    multiple_taxpayers: bool = False

    def __post_init__(self) -> None:
        _check_nif(self.producer_nif, "producer NIF")
        if not _SYSTEM_ID.fullmatch(self.system_id):
            raise ValueError("IdSistemaInformatico is 1-2 characters A-Z or 0-9")
        if len(self.name) > 30:
            raise ValueError("NombreSistemaInformatico is at most 30 characters")


@dataclass(frozen=True)
class ForeignId:
    """IDOtro: a non-Spanish identifier; ``id_type`` 02 is an EU VAT number checked in VIES.

    Other types: 03 passport, 04 official id of the country of residence, 05 residence
    certificate, 06 other document, 07 not registered in the AEAT census.
    """

    country: str
    id_type: str
    id: str

    def __post_init__(self) -> None:
        if self.id_type not in FOREIGN_ID_TYPES:
            raise ValueError(f"IDType {self.id_type!r} is not one of {sorted(FOREIGN_ID_TYPES)}")
        if self.country == "ES" and self.id_type == "02":
            raise ValueError("a Spanish counterparty is identified by NIF, not IDOtro 02")
        if len(self.id) > 20:
            raise ValueError("IDOtro/ID is at most 20 characters")
        if self.id_type == "02" and not _valid_vat_number(self.country, self.id):
            # The AEAT checks a NIF-IVA against the structure of its member state (Validaciones
            # v1.2.1 table, where "Holanda" is now "Países Bajos") and against VIES.
            raise ValueError(f"{self.id!r} is not a well-formed NIF-IVA of {self.country}")


def _valid_vat_number(country: str, number: str) -> bool:
    from stdnum.eu import vat

    prefix = "EL" if country == "GR" else country
    return number.startswith(prefix) and bool(vat.is_valid(number))


@dataclass(frozen=True)
class Recipient:
    """IDDestinatario: name plus either a Spanish NIF or a foreign id."""

    name: str
    nif: str | None = None
    foreign_id: ForeignId | None = None

    def __post_init__(self) -> None:
        if (self.nif is None) == (self.foreign_id is None):
            raise ValueError("a recipient has exactly one of nif and foreign_id")
        if self.nif is not None:
            _check_nif(self.nif, "recipient NIF")


@dataclass(frozen=True)
class TaxLine:
    """DetalleDesglose: one line of the tax breakdown.

    ``operation`` is CalificacionOperacion (S1 subject, S2 subject with domestic reverse charge,
    N1 not subject by arts. 7/14, N2 not subject by place-of-supply rules) and ``exemption`` is
    OperacionExenta (E1-E8); exactly one of them is set. Use the constructors, which apply the
    AEAT rules on which of rate and quota go with each qualification.
    """

    base: Decimal
    operation: str | None = None
    exemption: str | None = None
    rate: Decimal | None = None
    tax_amount: Decimal | None = None
    regime: str = "01"
    tax: str = "01"

    def __post_init__(self) -> None:
        if (self.operation is None) == (self.exemption is None):
            raise ValueError("a tax line has exactly one of operation and exemption")
        if self.operation is not None and self.operation not in OPERATION_QUALIFICATIONS:
            raise ValueError(f"CalificacionOperacion {self.operation!r} is unknown")
        if self.exemption is not None and self.exemption not in EXEMPTIONS:
            raise ValueError(f"OperacionExenta {self.exemption!r} is unknown")
        if self.operation in ("N1", "N2") or self.exemption is not None:
            # AEAT errors 1238 and the not-subject rule: no rate, no quota.
            if self.rate is not None or self.tax_amount is not None:
                raise ValueError("not-subject and exempt lines carry no rate and no quota")
        else:
            if self.rate is None or self.tax_amount is None:
                raise ValueError("subject lines carry a rate and a quota")
            format_rate(self.rate)
            format_amount(self.tax_amount)
        format_amount(self.base)

    @classmethod
    def subject(
        cls, base: Decimal, rate: Decimal, tax_amount: Decimal, *, regime: str = "01"
    ) -> TaxLine:
        """Return an S1 line: subject, not exempt, VAT charged by the issuer (e.g. 21 % IVA)."""
        return cls(base=base, operation="S1", rate=rate, tax_amount=tax_amount, regime=regime)

    @classmethod
    def domestic_reverse_charge(cls, base: Decimal, *, regime: str = "01") -> TaxLine:
        """Return an S2 line: subject, the Spanish customer self-assesses (LIVA art. 84.Uno.2).

        The AEAT wants rate and quota present and zero on S2 lines (error 1198).
        """
        zero = Decimal("0.00")
        return cls(base=base, operation="S2", rate=Decimal("0"), tax_amount=zero, regime=regime)

    @classmethod
    def not_subject(
        cls, base: Decimal, *, place_of_supply: bool = True, regime: str = "01"
    ) -> TaxLine:
        """Return a not-subject line: N2 (place-of-supply rules) or N1 (arts. 7, 14, other).

        Electronically supplied services to an EU business with a VIES-valid VAT number (reverse
        charge by the customer, "Inversión del sujeto pasivo"), to customers outside the EU, and
        to the Canary Islands, Ceuta and Melilla are N2 with ``base`` the amount not subject.
        Regime keys in use: 01 general (Spain, EU), 02 export (outside the EU), 08 IPSI/IGIC
        territories.
        """
        return cls(base=base, operation="N2" if place_of_supply else "N1", regime=regime)

    @classmethod
    def exempt(cls, base: Decimal, cause: str, *, regime: str = "01") -> TaxLine:
        """Return an exempt line; ``cause`` is E1 (LIVA art. 20) ... E6 (other)."""
        return cls(base=base, exemption=cause, regime=regime)


@dataclass(frozen=True)
class RectifiedAmounts:
    """ImporteRectificacion: base and quota replaced by a corrective invoice by substitution."""

    base: Decimal
    tax_amount: Decimal


@dataclass(frozen=True)
class RegistrationRecord:
    """RegistroAlta: the record generated when an invoice is issued.

    ``previous`` is None only for the first record of the issuer's chain (PrimerRegistro=S);
    there is one chain per issuer NIF across all series. For R types, ``rectification_type``
    is S (substitution, needs ``rectified_amounts``) or I (differences, negative amounts for
    a credit note) and ``rectified`` lists the corrected invoices.
    """

    invoice: InvoiceId
    issuer_name: str
    invoice_type: InvoiceType
    description: str
    tax_lines: tuple[TaxLine, ...]
    tax_total: Decimal
    total: Decimal
    system: SoftwareSystem
    generated_at: datetime
    previous: ChainLink | None = None
    recipients: tuple[Recipient, ...] = ()
    rectification_type: RectificationType | None = None
    rectified: tuple[InvoiceId, ...] = ()
    rectified_amounts: RectifiedAmounts | None = None
    substituted: tuple[InvoiceId, ...] = ()
    operation_date: date | None = None
    correction: bool = False
    previous_rejection: Literal["S", "X"] | None = None
    external_ref: str | None = None
    hash_type: str = field(default=HASH_TYPE_SHA256, init=False)

    def __post_init__(self) -> None:
        kind = self.invoice_type
        if kind not in INVOICE_TYPES:
            raise ValueError(f"TipoFactura {kind!r} is unknown")
        if not 1 <= len(self.tax_lines) <= 12:
            raise ValueError("Desglose holds 1 to 12 tax lines")
        if not self.description or len(self.description) > 500:
            raise ValueError("DescripcionOperacion is 1-500 characters")
        if kind in RECTIFYING_TYPES:
            if self.rectification_type not in ("S", "I"):
                raise ValueError(f"{kind} needs rectification_type S or I")
            if self.rectification_type == "S" and self.rectified_amounts is None:
                raise ValueError("a corrective invoice by substitution needs rectified_amounts")
        elif self.rectification_type or self.rectified or self.rectified_amounts:
            raise ValueError(f"{kind} is not a corrective invoice")
        if self.substituted and kind != "F3":
            raise ValueError("only F3 lists substituted invoices")
        if kind in TYPES_WITH_RECIPIENT and not self.recipients:
            raise ValueError(f"{kind} must identify its recipient")
        if kind not in TYPES_WITH_RECIPIENT and self.recipients:
            raise ValueError(f"{kind} must not carry a recipient")
        if self.previous_rejection is not None and not self.correction:
            # AEAT errors 1153/1161: RechazoPrevio S or X only in a subsanación.
            raise ValueError("RechazoPrevio S or X needs Subsanacion=S")
        self._check_totals()
        format_amount(self.tax_total)
        format_amount(self.total)
        format_timestamp(self.generated_at)

    def _check_totals(self) -> None:
        """Validaciones v1.1.9: the totals agree with the breakdown within ±10 €."""
        quotas = sum((line.tax_amount or Decimal(0) for line in self.tax_lines), Decimal(0))
        gross = quotas + sum((line.base for line in self.tax_lines), Decimal(0))
        regimes = {line.regime for line in self.tax_lines}
        checked = not regimes <= REGIMES_WITHOUT_QUOTA_CHECK
        if checked and abs(self.tax_total - quotas) > TOTALS_TOLERANCE:
            raise ValueError(f"CuotaTotal {self.tax_total} disagrees with the breakdown {quotas}")
        if abs(self.total - gross) > TOTALS_TOLERANCE:
            raise ValueError(f"ImporteTotal {self.total} disagrees with the breakdown {gross}")

    @property
    def hash(self) -> str:
        """Return the huella of this record (uppercase hex SHA-256)."""
        return registration_hash(
            self.invoice.issuer_nif,
            self.invoice.number,
            self.invoice.issue_date,
            self.invoice_type,
            self.tax_total,
            self.total,
            self.previous.hash if self.previous else None,
            self.generated_at,
        )


@dataclass(frozen=True)
class CancellationRecord:
    """RegistroAnulacion: cancels the registration of an invoice that should never have existed.

    A sale that did happen is corrected with an R-type invoice instead. ``invoice`` is the
    cancelled invoice. ``no_prior_record`` (SinRegistroPrevio) cancels an invoice whose alta the
    AEAT never received; ``previous_rejection`` (RechazoPrevio) re-sends a rejected anulación.
    """

    invoice: InvoiceId
    system: SoftwareSystem
    generated_at: datetime
    previous: ChainLink | None = None
    no_prior_record: bool = False
    previous_rejection: bool = False
    external_ref: str | None = None
    hash_type: str = field(default=HASH_TYPE_SHA256, init=False)

    def __post_init__(self) -> None:
        format_timestamp(self.generated_at)

    @property
    def hash(self) -> str:
        """Return the huella of this record (uppercase hex SHA-256)."""
        return cancellation_hash(
            self.invoice.issuer_nif,
            self.invoice.number,
            self.invoice.issue_date,
            self.previous.hash if self.previous else None,
            self.generated_at,
        )


Record = RegistrationRecord | CancellationRecord
