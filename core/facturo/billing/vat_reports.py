"""The quarter's VAT figures for the seller's adviser, from the book lines of
:mod:`facturo.billing.vat_books`:

- **modelo 303** — sales by box and rate, bases and quotas;
- **modelo 349** — intra-EU B2B services (key S) by customer NIF-IVA, and rectifications of
  earlier quarters;
- **modelo 369 (OSS, Union scheme)** — B2C EU sales by member state and rate, and corrections
  of earlier quarters.

Credit notes count negatively in the quarter they are issued. In the 349 and the OSS return a
credit note on an invoice of an earlier quarter is reported as a rectification of that quarter
(not netted into this quarter's lines), as those returns ask; each report still sums, to the
cent, to the bases and quotas of the documents of the quarter it covers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from facturo.billing.money import ZERO
from facturo.billing.vat_books import BookLine, Quarter, lines_for

#: Modelo 303 boxes (base, quota) of S1 sales by Spanish rate ⚠ (AEAT Pre303 calculation sheet).
RATE_BOXES: dict[Decimal, tuple[str, str]] = {
    Decimal("0"): ("150", "152"),
    Decimal("4"): ("01", "03"),
    Decimal("10"): ("04", "06"),
    Decimal("21"): ("07", "09"),
}
CORRECTION_BOXES = ("14", "15")
EU_B2B_BOX = "59"
NOT_SUBJECT_BOX = "120"
OSS_BOX = "123"
KEY_SERVICES = "S"


def _sum(values: Iterable[Decimal]) -> Decimal:
    return sum(values, ZERO)


@dataclass(frozen=True)
class BoxLine:
    """One line of the 303 summary: ``section`` is general, corrections, eu_b2b, not_subject
    or oss; ``oss_tax`` is the destination VAT of OSS sales (declared in the 369, not here)."""

    section: str
    base_box: str
    tax_box: str
    rate: Decimal | None
    base: Decimal
    tax: Decimal
    oss_tax: Decimal = ZERO


@dataclass(frozen=True)
class Summary303:
    quarter: Quarter
    lines: tuple[BoxLine, ...]

    @property
    def base(self) -> Decimal:
        return _sum(line.base for line in self.lines)

    @property
    def tax(self) -> Decimal:
        return _sum(line.tax for line in self.lines)

    @property
    def oss_tax(self) -> Decimal:
        return _sum(line.oss_tax for line in self.lines)


def _section(line: BookLine) -> tuple[str, str, str, Decimal | None]:
    if line.qualification == "S1":
        if line.kind == "credit_note":
            return ("corrections", *CORRECTION_BOXES, line.rate)
        assert line.rate is not None
        base_box, tax_box = RATE_BOXES.get(line.rate.normalize(), ("", ""))
        return ("general", base_box, tax_box, line.rate)
    if line.regime == "17":
        return ("oss", OSS_BOX, "", None)
    if line.recipient.vat_number and line.regime == "01":
        return ("eu_b2b", EU_B2B_BOX, "", None)
    return ("not_subject", NOT_SUBJECT_BOX, "", None)


SECTION_ORDER = ("general", "corrections", "eu_b2b", "not_subject", "oss")


def summary_303(lines: Iterable[BookLine], quarter: Quarter) -> Summary303:
    """The quarter's sales by 303 box and rate (credit notes of S1 sales in boxes 14/15)."""
    totals: dict[tuple[str, str, str, Decimal | None], list[Decimal]] = defaultdict(
        lambda: [ZERO, ZERO, ZERO]
    )
    for line in lines:
        if line.quarter != quarter:
            continue
        sums = totals[_section(line)]
        sums[0] += line.base
        sums[1] += line.tax
        sums[2] += line.oss_tax

    def order(key: tuple[str, str, str, Decimal | None]) -> tuple[int, Decimal]:
        return (SECTION_ORDER.index(key[0]), key[3] if key[3] is not None else ZERO)

    return Summary303(
        quarter,
        tuple(
            BoxLine(section, base_box, tax_box, rate, *totals[key])
            for key in sorted(totals, key=order)
            for section, base_box, tax_box, rate in (key,)
        ),
    )


@dataclass(frozen=True)
class Operator349:
    """One 349 line: the quarter's net base with one customer (NIF-IVA) under one key."""

    vat_number: str
    country: str
    name: str
    key: str
    base: Decimal


@dataclass(frozen=True)
class Rectification349:
    """A change to a 349 line of an earlier quarter (credit notes issued this quarter)."""

    vat_number: str
    country: str
    name: str
    key: str
    quarter: Quarter
    declared_base: Decimal
    rectified_base: Decimal

    @property
    def change(self) -> Decimal:
        return self.rectified_base - self.declared_base


@dataclass(frozen=True)
class Summary349:
    quarter: Quarter
    operators: tuple[Operator349, ...]
    rectifications: tuple[Rectification349, ...]

    @property
    def base(self) -> Decimal:
        """This quarter's effect: its lines plus the changes to earlier quarters."""
        return _sum(item.base for item in self.operators) + _sum(
            item.change for item in self.rectifications
        )


def _eu_b2b(line: BookLine) -> bool:
    return line.treatment == "eu_reverse_charge"


def summary_349(session: Session, quarter: Quarter, lines: Iterable[BookLine]) -> Summary349:
    """The quarter's recapitulative statement (services, key S) from its book ``lines``.

    A rectified quarter's ``declared_base`` is what its lines add up to counting the credit
    notes issued before this quarter; ``rectified_base`` adds this quarter's credit notes.
    """
    current = [line for line in lines if _eu_b2b(line) and line.quarter == quarter]
    earliest = min((line.declared_quarter for line in current), default=quarter)
    history = current
    if earliest < quarter:
        history = [
            line
            for line in lines_for(session, earliest.start, quarter.end)
            if _eu_b2b(line) and line.quarter <= quarter
        ]
    names: dict[str, tuple[str, str]] = {}
    for line in history:
        names.setdefault(line.recipient.vat_number, (line.recipient.country, line.recipient.name))
    operators: dict[str, Decimal] = defaultdict(lambda: ZERO)
    changed: dict[tuple[str, Quarter], Decimal] = defaultdict(lambda: ZERO)
    for line in current:
        vat = line.recipient.vat_number
        if line.declared_quarter == quarter:
            operators[vat] += line.base
        else:
            changed[(vat, line.declared_quarter)] += line.base
    rectified: dict[tuple[str, Quarter], Decimal] = defaultdict(lambda: ZERO)
    for line in history:
        key = (line.recipient.vat_number, line.declared_quarter)
        if key in changed:
            rectified[key] += line.base
    return Summary349(
        quarter,
        tuple(
            Operator349(vat, *names[vat], KEY_SERVICES, base)
            for vat, base in sorted(operators.items())
        ),
        tuple(
            Rectification349(
                vat, *names[vat], KEY_SERVICES, period, rectified[key] - delta, rectified[key]
            )
            for key, delta in sorted(changed.items())
            for vat, period in (key,)
        ),
    )


@dataclass(frozen=True)
class OssLine:
    """Modelo 369 page 3: sales to consumers of one member state at one rate."""

    country: str
    rate: Decimal
    base: Decimal
    tax: Decimal


@dataclass(frozen=True)
class OssCorrection:
    """Modelo 369 page 7: the change to an earlier quarter of one member state."""

    country: str
    quarter: Quarter
    base: Decimal
    tax: Decimal


@dataclass(frozen=True)
class SummaryOss:
    quarter: Quarter
    lines: tuple[OssLine, ...]
    corrections: tuple[OssCorrection, ...]

    @property
    def base(self) -> Decimal:
        return _sum(x.base for x in self.lines) + _sum(x.base for x in self.corrections)

    @property
    def tax(self) -> Decimal:
        return _sum(x.tax for x in self.lines) + _sum(x.tax for x in self.corrections)

    def by_country(self) -> list[tuple[str, Decimal]]:
        """The VAT due to each member state this quarter, corrections included."""
        due: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for line in self.lines:
            due[line.country] += line.tax
        for fix in self.corrections:
            due[fix.country] += fix.tax
        return sorted(due.items())


def summary_oss(lines: Iterable[BookLine], quarter: Quarter) -> SummaryOss:
    """The quarter's OSS return: sales by member state and rate, corrections of past quarters."""
    sales: dict[tuple[str, Decimal], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    fixes: dict[tuple[str, Quarter], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for line in lines:
        if line.treatment != "eu_oss" or line.quarter != quarter:
            continue
        assert line.oss_rate is not None
        target = (
            sales[(line.oss_country, line.oss_rate)]
            if line.declared_quarter == quarter
            else fixes[(line.oss_country, line.declared_quarter)]
        )
        target[0] += line.base
        target[1] += line.oss_tax
    return SummaryOss(
        quarter,
        tuple(OssLine(c, r, *sales[(c, r)]) for c, r in sorted(sales)),
        tuple(OssCorrection(c, q, *fixes[(c, q)]) for c, q in sorted(fixes)),
    )


@dataclass(frozen=True)
class QuarterReports:
    """Everything the reports page shows for one quarter."""

    quarter: Quarter
    lines: tuple[BookLine, ...]
    vat_303: Summary303
    recap_349: Summary349
    oss: SummaryOss


def quarter_reports(session: Session, quarter: Quarter) -> QuarterReports:
    """Build every report of ``quarter`` from one read of its documents."""
    lines = lines_for(session, quarter.start, quarter.end)
    return QuarterReports(
        quarter,
        tuple(lines),
        summary_303(lines, quarter),
        summary_349(session, quarter, lines),
        summary_oss(lines, quarter),
    )
