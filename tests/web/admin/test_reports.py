"""The VAT reports page and its files, over HTTP against the app under uvicorn."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from openpyxl import load_workbook
from starlette.applications import Starlette

from facturo.context import Context
from facturo.testing import Clock
from tests.billing import vat_scenario
from tests.billing.vat_scenario import period_sums
from tests.web.conftest import new_staff, staff_client

Q1 = {"year": "2026", "quarter": "1"}
Q1_START = datetime(2026, 1, 1, tzinfo=UTC)
Q1_END = datetime(2026, 3, 31, tzinfo=UTC)


def _amount(text: str) -> Decimal:
    return Decimal(text.replace(",", ".")) if text else Decimal("0.00")


def _rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def test_reports_page_and_files_reconcile(
    make_context: Callable[..., Context], in_process: Callable[[Context], Starlette], clock: Clock
) -> None:
    ctx = make_context()
    vat_scenario.build(ctx, clock)
    url = in_process(ctx)
    base, tax = period_sums(ctx, Q1_START, Q1_END)
    _, oss_tax = period_sums(ctx, Q1_START, Q1_END, "eu_oss")
    b2b_base, _ = period_sums(ctx, Q1_START, Q1_END, "eu_reverse_charge")
    billing = new_staff(ctx, "billing")
    with staff_client(ctx, url, billing) as client:
        page = client.get("/admin/reports", params=Q1)
        assert page.status_code == 200
        assert "Sales by rate (modelo 303)" in page.text and "€217.99" in page.text
        assert "DE136695976" in page.text and "2025 4T" in page.text
        client.headers["Accept-Language"] = "es"
        spanish = client.get("/admin/reports", params=Q1)
        assert "Ventas por tipo (modelo 303)" in spanish.text
        assert "217,99\xa0€" in spanish.text and "21\xa0%" in spanish.text

        register = client.get("/admin/reports/register.csv", params=Q1)
        assert register.status_code == 200
        assert register.headers["content-type"].startswith("text/csv")
        assert "2026B12345674CFacturo Test S.L..csv" in register.headers["content-disposition"]
        data = _rows(register.content)[2:]
        assert sum(_amount(row[21]) for row in data) == base
        assert sum(_amount(row[23]) for row in data) == tax - oss_tax

        xlsx = client.get("/admin/reports/register.xlsx", params={**Q1, "scope": "year"})
        assert xlsx.status_code == 200
        sheet = load_workbook(io.BytesIO(xlsx.content))["EXPEDIDAS"]
        rows = list(sheet.iter_rows(min_row=3, values_only=True))
        assert sum(Decimal(str(row[21])) for row in rows) == base  # Q1 is the year to date

        rows_303 = _rows(client.get("/admin/reports/303.csv", params=Q1).content)[1:]
        assert sum(_amount(row[4]) for row in rows_303) == base
        assert sum(_amount(row[5]) + _amount(row[6]) for row in rows_303) == tax
        rows_349 = _rows(client.get("/admin/reports/349.csv", params=Q1).content)[1:]
        assert sum(_amount(row[6]) - _amount(row[7]) for row in rows_349) == b2b_base
        rows_oss = _rows(client.get("/admin/reports/oss.csv", params=Q1).content)[1:]
        assert sum(_amount(row[5]) for row in rows_oss) == oss_tax

        q2 = client.get("/admin/reports/register.csv", params={"year": "2026", "quarter": "2"})
        assert len(_rows(q2.content)) == 3  # two header rows and the one April invoice


def test_bad_input_and_roles(
    make_context: Callable[..., Context], in_process: Callable[[Context], Starlette]
) -> None:
    ctx = make_context()
    url = in_process(ctx)
    with staff_client(ctx, url, new_staff(ctx, "billing")) as client:
        default = client.get("/admin/reports")
        assert default.status_code == 200 and "2026" in default.text
        bad_year = client.get("/admin/reports", params={"year": "20x6", "quarter": "1"})
        assert bad_year.status_code == 400 and "the year has four digits" in bad_year.text
        bad_quarter = client.get("/admin/reports", params={"year": "2026", "quarter": "7"})
        assert bad_quarter.status_code == 400 and 'aria-invalid="true"' in bad_quarter.text
        assert client.get("/admin/reports/register.csv", params={"quarter": "x"}).status_code == 400
        assert (
            client.get("/admin/reports/register.csv", params={**Q1, "scope": "all"}).status_code
            == 400
        )
        assert client.get("/admin/reports/secrets.csv").status_code == 404
    with staff_client(ctx, url, new_staff(ctx, "support")) as client:
        assert client.get("/admin/reports").status_code == 403
        assert client.get("/admin/reports/register.csv").status_code == 403
