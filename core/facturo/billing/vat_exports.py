"""Files for the adviser: the sales register in the AEAT's common electronic book format (CSV
and XLSX, sheet ``EXPEDIDAS``) and the 303/349/OSS summaries as CSV.

Format rules followed (AEAT "Formato electrónico común de los libros registro", validations):
two header rows (group, column) then one row per document and VAT rate; amounts with a comma
decimal, no thousands separator and a leading ``-`` when negative; dates ``dd/mm/yyyy``; the
IRPF and cash-basis columns left blank (a company keeps separate IVA books); Periodo ``1T``–
``4T`` of the issue date. CSV files are UTF-8 with a BOM and ``;`` between cells (the comma is
the decimal mark).

Spreadsheets run a cell that starts with ``= + - @``, a tab or a carriage return as a formula,
so every text cell taken from data gets a leading apostrophe in CSV files, and XLSX text cells
are written as strings, never formulas. Amount cells are produced here from Decimals, never
from user text; they keep the book's leading minus sign.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from facturo.billing.vat_books import BookLine, Quarter
from facturo.billing.vat_reports import Summary303, Summary349, SummaryOss
from facturo.csv_export import safe_cell

SHEET_ISSUED = "EXPEDIDAS"
#: File type of a workbook of IVA books (C); the name is Ejercicio + NIF + type + name.
BOOK_TYPE_IVA = "C"


@dataclass(frozen=True)
class Activity:
    """Columns C–E: Código (A = included in the IAE), Tipo (03 = other business activities),
    the IAE group or heading ⚠ (set by the seller's adviser)."""

    code: str = "A"
    kind: str = "03"
    iae: str = ""


class Amount(Decimal):
    """A Decimal that the writers format as a book amount (not a text cell)."""


class Day(date):
    """A date the writers format as ``dd/mm/yyyy``."""


Cell = str | Amount | Day | None


def safe_text(text: str) -> str:
    """``text`` with a leading apostrophe when a spreadsheet would run it as a formula."""
    return str(safe_cell(text))


def book_amount(value: Decimal) -> str:
    """An amount as the book writes it: ``-1234,50``."""
    return f"{value:.2f}".replace(".", ",")


def _csv_text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Amount):
        return book_amount(cell)
    if isinstance(cell, Day):
        return cell.strftime("%d/%m/%Y")
    return safe_text(cell)


def _amount(value: Decimal | None) -> Amount | None:
    return None if value is None else Amount(value)


def _day(value: date | None) -> Day | None:
    return None if value is None else Day(value.year, value.month, value.day)


# --- the register -----------------------------------------------------------------------------

Column = tuple[str, str, Callable[[BookLine, Activity], Cell]]

REGISTER_COLUMNS: tuple[Column, ...] = (
    ("Autoliquidación", "Ejercicio", lambda x, a: str(x.quarter.year)),
    ("Autoliquidación", "Periodo", lambda x, a: x.quarter.code),
    ("Actividad", "Código", lambda x, a: a.code),
    ("Actividad", "Tipo", lambda x, a: a.kind),
    ("Actividad", "Grupo o Epígrafe del IAE", lambda x, a: a.iae),
    ("", "Tipo de Factura", lambda x, a: x.invoice_type),
    ("", "Concepto de Ingreso", lambda x, a: None),
    ("", "Ingreso Computable", lambda x, a: None),
    ("", "Fecha Expedición", lambda x, a: _day(x.issue_date)),
    ("", "Fecha Operación", lambda x, a: None),
    ("Identificación de la Factura", "Serie", lambda x, a: x.series),
    ("Identificación de la Factura", "Número", lambda x, a: x.sequence),
    ("Identificación de la Factura", "Número-Final", lambda x, a: None),
    ("NIF Destinatario", "Tipo", lambda x, a: x.recipient.id_type),
    ("NIF Destinatario", "Código País", lambda x, a: x.recipient.country),
    ("NIF Destinatario", "Identificación", lambda x, a: x.recipient.identifier),
    ("", "Nombre Destinatario", lambda x, a: x.recipient.name),
    ("", "Clave de Operación", lambda x, a: x.regime),
    ("", "Calificación de la Operación", lambda x, a: x.qualification),
    ("", "Operación Exenta", lambda x, a: None),
    ("", "Total Factura", lambda x, a: Amount(x.total)),
    ("", "Base Imponible", lambda x, a: Amount(x.base)),
    ("", "Tipo de IVA", lambda x, a: _amount(x.rate)),
    ("", "Cuota IVA Repercutida", lambda x, a: _amount(x.tax if x.rate is not None else None)),
    ("", "Tipo de Recargo eq.", lambda x, a: None),
    ("", "Cuota Recargo eq.", lambda x, a: None),
    ("Cobro", "Fecha", lambda x, a: None),
    ("Cobro", "Importe", lambda x, a: None),
    ("Cobro", "Medio Utilizado", lambda x, a: None),
    ("Cobro", "Identificación Medio Utilizado", lambda x, a: None),
    ("", "Tipo Retención del IRPF", lambda x, a: None),
    ("", "Importe Retenido del IRPF", lambda x, a: None),
    ("", "Registro Acuerdo Facturación", lambda x, a: None),
    ("Inmueble", "Situación", lambda x, a: None),
    ("Inmueble", "Referencia Catastral", lambda x, a: None),
    ("", "Referencia Externa", lambda x, a: None),
)


def register_rows(lines: Iterable[BookLine], activity: Activity) -> list[list[Cell]]:
    """The register's data rows (typed cells) for ``lines``."""
    return [[get(line, activity) for _group, _name, get in REGISTER_COLUMNS] for line in lines]


def _header_rows() -> list[list[Cell]]:
    return [
        [group for group, _name, _get in REGISTER_COLUMNS],
        [name for _group, name, _get in REGISTER_COLUMNS],
    ]


def to_csv(rows: Sequence[Sequence[Cell]]) -> bytes:
    """``rows`` as a UTF-8 (BOM) CSV with ``;`` separators, text cells made formula-safe."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for row in rows:
        writer.writerow([_csv_text(cell) for cell in row])
    return out.getvalue().encode("utf-8-sig")


def register_csv(lines: Iterable[BookLine], activity: Activity) -> bytes:
    """The sales register as CSV."""
    return to_csv([*_header_rows(), *register_rows(lines, activity)])


def register_xlsx(lines: Iterable[BookLine], activity: Activity) -> bytes:
    """The sales register as an XLSX workbook with one sheet, ``EXPEDIDAS``."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET_ISSUED)
    bold = Font(bold=True)
    for header in _header_rows():
        cells = []
        for value in header:
            cell = WriteOnlyCell(sheet, value=value)
            cell.font = bold
            cells.append(cell)
        sheet.append(cells)
    for row in register_rows(lines, activity):
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_cell(sheet: object, value: Cell) -> object:
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, Amount):
        cell = WriteOnlyCell(sheet, value=Decimal(value))
        cell.number_format = "0.00"
    elif isinstance(value, Day):
        cell = WriteOnlyCell(sheet, value=date(value.year, value.month, value.day))
        cell.number_format = "dd/mm/yyyy"
    else:
        cell = WriteOnlyCell(sheet, value=value)
        if value is not None:
            cell.data_type = "s"  # a string, never a formula, whatever it starts with
    return cell


def register_filename(year: int, nif: str, legal_name: str, extension: str) -> str:
    """Ejercicio + NIF + book type + name, e.g. ``2026B12345674CFacturo SL.xlsx``."""
    name = re.sub(r"[^\w .,&-]", "", legal_name).strip() or "libro"
    return f"{year}{nif.upper()}{BOOK_TYPE_IVA}{name}.{extension}"


# --- the summaries ----------------------------------------------------------------------------


def summary_303_csv(summary: Summary303) -> bytes:
    """The 303 summary: section, boxes, rate, base, quota, OSS VAT (informative)."""
    rows: list[list[Cell]] = [
        ["Sección", "Casilla base", "Casilla cuota", "Tipo", "Base", "Cuota", "IVA OSS (369)"]
    ]
    for line in summary.lines:
        rows.append(
            [
                line.section,
                line.base_box,
                line.tax_box,
                _amount(line.rate),
                Amount(line.base),
                Amount(line.tax),
                Amount(line.oss_tax),
            ]
        )
    return to_csv(rows)


def summary_349_csv(summary: Summary349) -> bytes:
    """The 349 lines, then its rectifications of earlier quarters."""
    rows: list[list[Cell]] = [
        ["NIF-IVA", "País", "Nombre", "Clave", "Ejercicio", "Periodo", "Base", "Base anterior"]
    ]
    for item in summary.operators:
        rows.append(
            [
                item.vat_number,
                item.country,
                item.name,
                item.key,
                str(summary.quarter.year),
                summary.quarter.code,
                Amount(item.base),
                None,
            ]
        )
    for fix in summary.rectifications:
        rows.append(
            [
                fix.vat_number,
                fix.country,
                fix.name,
                fix.key,
                str(fix.quarter.year),
                fix.quarter.code,
                Amount(fix.rectified_base),
                Amount(fix.declared_base),
            ]
        )
    return to_csv(rows)


def summary_oss_csv(summary: SummaryOss) -> bytes:
    """OSS sales by member state and rate, then corrections of earlier quarters."""
    rows: list[list[Cell]] = [["País", "Tipo", "Ejercicio", "Periodo", "Base", "Cuota"]]
    for line in summary.lines:
        rows.append(
            [
                line.country,
                Amount(line.rate),
                str(summary.quarter.year),
                summary.quarter.code,
                Amount(line.base),
                Amount(line.tax),
            ]
        )
    for fix in summary.corrections:
        rows.append(
            [
                fix.country,
                None,
                str(fix.quarter.year),
                fix.quarter.code,
                Amount(fix.base),
                Amount(fix.tax),
            ]
        )
    return to_csv(rows)


def quarter_label(quarter: Quarter) -> str:
    """``2026-1T``: how files of one quarter are named."""
    return f"{quarter.year}-{quarter.code}"
