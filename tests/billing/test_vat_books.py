"""The VAT book and the quarter's reports add up, to the cent, to the documents of the period."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from facturo.billing.vat_books import CONSUMER_NAME, Quarter, lines_for
from facturo.billing.vat_exports import (
    Activity,
    register_csv,
    register_filename,
    register_xlsx,
    safe_text,
    summary_303_csv,
    summary_349_csv,
    summary_oss_csv,
)
from facturo.billing.vat_reports import quarter_reports
from facturo.context import Context
from facturo.testing import Clock
from tests.billing import vat_scenario
from tests.billing.vat_scenario import HOSTILE_NAME, Scenario, period_sums

Q1 = Quarter(2026, 1)
Q1_START = datetime(2026, 1, 1, tzinfo=UTC)
Q1_END = datetime(2026, 3, 31, tzinfo=UTC)
BASE_COLUMN, RATE_COLUMN, TAX_COLUMN, TOTAL_COLUMN = 21, 22, 23, 20


@pytest.fixture
def scenario(ctx: Context, clock: Clock) -> Scenario:
    return vat_scenario.build(ctx, clock)


def amount(text: str) -> Decimal:
    """A book amount (``-41,32``) as a Decimal."""
    return Decimal(text.replace(",", ".")) if text else Decimal("0.00")


def test_every_report_sums_to_the_quarters_documents(ctx: Context, scenario: Scenario) -> None:
    base, tax = period_sums(ctx, Q1_START, Q1_END)
    b2b_base, b2b_tax = period_sums(ctx, Q1_START, Q1_END, "eu_reverse_charge")
    oss_base, oss_tax = period_sums(ctx, Q1_START, Q1_END, "eu_oss")
    assert base > 0 and oss_tax > 0 and b2b_tax == 0
    with ctx.db.read_session() as session:
        reports = quarter_reports(session, Q1)

    assert len({line.document_id for line in reports.lines}) == 11
    assert sum(line.base for line in reports.lines) == base
    assert sum(line.tax + line.oss_tax for line in reports.lines) == tax
    assert reports.vat_303.base == base
    assert reports.vat_303.tax + reports.vat_303.oss_tax == tax
    assert reports.vat_303.oss_tax == oss_tax
    assert reports.recap_349.base == b2b_base
    assert (reports.oss.base, reports.oss.tax) == (oss_base, oss_tax)
    assert sum(due for _country, due in reports.oss.by_country()) == oss_tax


def test_303_boxes(ctx: Context, scenario: Scenario) -> None:
    with ctx.db.read_session() as session:
        summary = quarter_reports(session, Q1).vat_303
    boxes = {(line.base_box, line.rate): (line.base, line.tax) for line in summary.lines}
    # 149.00 + 39.99 + 29.00 at 21 %; credit of 50.00 gross = 41.32 + 8.68.
    assert boxes[("07", Decimal("21.00"))] == (Decimal("217.99"), Decimal("45.78"))
    assert boxes[("14", Decimal("21.00"))] == (Decimal("-41.32"), Decimal("-8.68"))
    assert boxes[("59", None)] == (Decimal("-200.00"), Decimal("0.00"))  # 149 - 49 - 300
    assert boxes[("120", None)] == (Decimal("248.00"), Decimal("0.00"))  # US 149 + Canarias 99
    oss = next(line for line in summary.lines if line.base_box == "123")
    assert (oss.base, oss.tax) == (Decimal("33.16"), Decimal("0.00"))  # 20 + 33.33 - 20.17


def test_349_lines_and_rectification_of_an_earlier_quarter(
    ctx: Context, scenario: Scenario
) -> None:
    with ctx.db.read_session() as session:
        summary = quarter_reports(session, Q1).recap_349
    [italy] = summary.operators
    assert (italy.vat_number, italy.country, italy.key, italy.base) == (
        "IT00743110157",
        "IT",
        "S",
        Decimal("100.00"),
    )
    [germany] = summary.rectifications
    assert (germany.vat_number, germany.quarter) == ("DE136695976", Quarter(2025, 4))
    assert (germany.declared_base, germany.rectified_base) == (Decimal("300.00"), Decimal("0"))


def test_oss_by_member_state_and_rate_with_a_correction(ctx: Context, scenario: Scenario) -> None:
    with ctx.db.read_session() as session:
        summary = quarter_reports(session, Q1).oss
    assert [(x.country, x.rate, x.base, x.tax) for x in summary.lines] == [
        ("DE", Decimal("19.00"), Decimal("33.33"), Decimal("6.33")),
        ("FR", Decimal("20.00"), Decimal("20.00"), Decimal("4.00")),
    ]
    [fix] = summary.corrections
    assert (fix.country, fix.quarter, fix.base, fix.tax) == (
        "FR",
        Quarter(2025, 4),
        Decimal("-20.17"),
        Decimal("-4.03"),
    )
    assert summary.by_country() == [("DE", Decimal("6.33")), ("FR", Decimal("-0.03"))]


def test_book_lines_carry_the_aeat_codes(ctx: Context, scenario: Scenario) -> None:
    with ctx.db.read_session() as session:
        lines = {line.number: line for line in lines_for(session, Q1.start, Q1.end)}
    docs = scenario.documents

    def line(key: str):  # type: ignore[no-untyped-def]
        number = docs[key].number
        assert number is not None
        return lines[number]

    es = line("es")
    assert (es.invoice_type, es.qualification, es.regime, es.rate) == ("F1", "S1", "01", 21)
    assert (es.recipient.id_type, es.recipient.identifier) == ("", "12345678Z")
    assert (es.series, es.sequence) == ("F2026", es.number[-6:])
    assert line("es_f2").invoice_type == "F2" and line("es_f2").recipient.name == CONSUMER_NAME
    it = line("it_b2b")
    assert (it.qualification, it.regime, it.tax, it.rate) == ("N2", "01", 0, None)
    assert (it.recipient.id_type, it.recipient.vat_number) == ("02", "IT00743110157")
    assert (line("us").regime, line("us").recipient.id_type) == ("02", "04")
    assert line("canarias").regime == "08"
    assert (line("fr_oss").regime, line("fr_oss").oss_country) == ("17", "FR")
    credit = line("es_credit")
    assert (credit.invoice_type, credit.base, credit.original_number) == (
        "R1",
        Decimal("-41.32"),
        docs["es"].number,
    )
    assert line("q4_de_credit").declared_quarter == Quarter(2025, 4)


def _csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def test_register_csv_reconciles_and_is_formula_safe(ctx: Context, scenario: Scenario) -> None:
    base, tax = period_sums(ctx, Q1_START, Q1_END)
    _oss_base, oss_tax = period_sums(ctx, Q1_START, Q1_END, "eu_oss")
    with ctx.db.read_session() as session:
        lines = lines_for(session, Q1.start, Q1.end)
    rows = _csv_rows(register_csv(lines, Activity(iae="8450")))
    groups, headers, data = rows[0], rows[1], rows[2:]
    assert len(headers) == 36 and groups[0] == "Autoliquidación"
    assert (
        headers[BASE_COLUMN] == "Base Imponible" and headers[TAX_COLUMN] == "Cuota IVA Repercutida"
    )
    assert len(data) == len(lines) == 11  # fr_oss has two lines of one rate: one book line
    assert sum(amount(row[BASE_COLUMN]) for row in data) == base
    assert sum(amount(row[TAX_COLUMN]) for row in data) == tax - oss_tax
    assert sum(amount(row[TOTAL_COLUMN]) for row in data) == base + tax - oss_tax
    assert {row[0] for row in data} == {"2026"} and {row[1] for row in data} == {"1T"}
    assert data[0][2:5] == ["A", "03", "8450"]
    hostile = next(row for row in data if HOSTILE_NAME[1:] in row[16])
    assert hostile[16] == "'" + HOSTILE_NAME
    negative = next(row for row in data if row[5] == "R1")
    assert negative[BASE_COLUMN].startswith("-") and "," in negative[BASE_COLUMN]
    assert negative[8].count("/") == 2  # dd/mm/yyyy
    for row in data:  # no text cell a spreadsheet would run as a formula
        for cell in row:
            assert not cell.startswith(("=", "+", "@", "\t", "\r"))
            assert not cell.startswith("-") or amount(cell) < 0


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+34 600", "'+34 600"),
        ("-x", "'-x"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Tienda", "Tienda"),
    ],
)
def test_formula_escaping(text: str, safe: str) -> None:
    assert safe_text(text) == safe


def test_register_xlsx_reconciles(ctx: Context, scenario: Scenario) -> None:
    base, tax = period_sums(ctx, Q1_START, Q1_END)
    _oss_base, oss_tax = period_sums(ctx, Q1_START, Q1_END, "eu_oss")
    with ctx.db.read_session() as session:
        lines = lines_for(session, Q1.start, Q1.end)
    book = load_workbook(io.BytesIO(register_xlsx(lines, Activity())))
    assert book.sheetnames == ["EXPEDIDAS"]
    sheet = book["EXPEDIDAS"]
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert len(rows) == len(lines)
    assert sum(Decimal(str(row[BASE_COLUMN])) for row in rows) == base
    assert sum(Decimal(str(row[TAX_COLUMN] or 0)) for row in rows) == tax - oss_tax
    assert isinstance(rows[0][8], datetime) and rows[0][8].date() >= date(2026, 1, 1)
    cells = [cell for row in sheet.iter_rows(min_row=3) for cell in row]
    hostile = next(cell for cell in cells if cell.value == HOSTILE_NAME)
    assert hostile.data_type == "s"  # a string, not a formula
    assert sheet.cell(row=3, column=BASE_COLUMN + 1).number_format == "0.00"


def test_summary_csvs_reconcile(ctx: Context, scenario: Scenario) -> None:
    base, tax = period_sums(ctx, Q1_START, Q1_END)
    b2b_base, _ = period_sums(ctx, Q1_START, Q1_END, "eu_reverse_charge")
    oss_base, oss_tax = period_sums(ctx, Q1_START, Q1_END, "eu_oss")
    with ctx.db.read_session() as session:
        reports = quarter_reports(session, Q1)
    rows_303 = _csv_rows(summary_303_csv(reports.vat_303))[1:]
    assert sum(amount(row[4]) for row in rows_303) == base
    assert sum(amount(row[5]) + amount(row[6]) for row in rows_303) == tax
    rows_349 = _csv_rows(summary_349_csv(reports.recap_349))[1:]
    assert sum(amount(row[6]) - amount(row[7]) for row in rows_349) == b2b_base
    rows_oss = _csv_rows(summary_oss_csv(reports.oss))[1:]
    assert sum(amount(row[4]) for row in rows_oss) == oss_base
    assert sum(amount(row[5]) for row in rows_oss) == oss_tax


def test_quarter_parsing_and_bounds() -> None:
    assert Quarter.parse("2026", "2") == Quarter(2026, 2) == Quarter.parse(" 2026", "2T")
    assert (Quarter(2026, 1).start, Quarter(2026, 1).end) == (date(2026, 1, 1), date(2026, 3, 31))
    assert Quarter(2026, 4).end == date(2026, 12, 31)
    assert Quarter(2026, 1).previous() == Quarter(2025, 4)
    for year, quarter in (("20x6", "1"), ("2026", "5"), ("2026", "Q"), ("99", "1")):
        with pytest.raises(ValueError):
            Quarter.parse(year, quarter)


def test_register_file_name() -> None:
    assert register_filename(2026, "b12345674", "Facturo / Test S.L.", "xlsx") == (
        "2026B12345674CFacturo  Test S.L..xlsx"
    )
