"""Refunds are visible everywhere (#16.2) and people read names and dates (#16.6, #16.7):
after staff refund an invoice, the customer and staff see the refund state, the credit note
linked both ways, the refund line in every payment list and CSV, the API's links and the
dashboard net of refunds; a transfer recorded with only a date is shown as that date."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date

import httpx
from sqlalchemy import select

from facturo.accounts import api_tokens
from facturo.billing.payments import record_manual_payment
from facturo.context import Context
from facturo.models import Document, Refund, StaffUser
from facturo.testing import logged_in_cookies
from tests.web.conftest import CSRF, make_customer, new_proforma, new_staff, staff_client


def _paid_invoice(ctx: Context, paid_on: date) -> tuple[int, int]:
    customer = make_customer(ctx)
    document = new_proforma(ctx, customer)  # 121.00
    with ctx.db.transaction() as session:
        fresh = session.get(Document, document.id)
        assert fresh is not None
        record_manual_payment(
            session, ctx, fresh, fresh.balance, paid_on, "BANK-42", "staff:1", method="transfer"
        )
    return customer.id, document.id


def test_refund_shows_everywhere(
    make_context: Callable[..., Context], serve: Callable[[Context], str]
) -> None:
    ctx = make_context(plugins=("transfer",))
    url = serve(ctx)
    paid_on = ctx.today().replace(day=1)
    customer_id, invoice_id = _paid_invoice(ctx, paid_on)
    billing = new_staff(ctx, "billing")
    with staff_client(ctx, url, billing) as staff:
        done = staff.post(
            f"/admin/documents/{invoice_id}/refund",
            data={
                "amount": "21.00",
                "reason": "discount",
                "manual": "1",
                "confirm": "yes",
                "csrf_token": CSRF,
            },
        )
        assert done.status_code == 303
        with ctx.db.read_session() as session:
            note = session.scalars(select(Document).where(Document.kind == "credit_note")).one()
            note_id, note_number = note.id, note.number
            assert session.scalars(select(Refund)).one().credit_note_id == note_id
        invoice_page = staff.get(f"/admin/documents/{invoice_id}").text
        assert 'id="document-status">Partly refunded' in invoice_page
        assert f'href="/admin/documents/{note_id}">{note_number}</a>' in invoice_page
        note_page = staff.get(f"/admin/documents/{note_id}").text
        assert f'href="/admin/documents/{invoice_id}">F2026-' in note_page
        listing = staff.get("/admin/payments").text
        assert 'data-kind="refund"' in listing and "Manual refund" in listing
        assert "-€21.00" in listing and "Bank transfer" in listing
        assert paid_on.strftime("%-d %b %Y") in listing  # the value date, with no hour
        rows = list(csv.DictReader(io.StringIO(staff.get("/admin/payments.csv").text)))
        assert sorted((r["kind"], r["amount"]) for r in rows) == [
            ("payment", "121.00"),
            ("refund", "-21.00"),
        ]
        refund_row = next(r for r in rows if r["kind"] == "refund")
        assert refund_row["credit_note"] == note_number and refund_row["document"].startswith("F")
        payment_row = next(r for r in rows if r["kind"] == "payment")
        assert payment_row["value_date"] == paid_on.isoformat()
        refunds_only = staff.get("/admin/payments.csv", params={"kind": "refund"}).text
        assert "BANK-42" not in refunds_only and note_number in refunds_only
        dashboard = staff.get("/admin/").text
        assert 'id="payments-month">€100.00<' in dashboard
        assert "€121.00" in dashboard and 'id="refunds-month">Refunds €21.00<' in dashboard

    with ctx.db.read_session() as session:
        from facturo.models import Customer

        customer = session.get(Customer, customer_id)
        assert customer is not None
    cookies = logged_in_cookies(ctx, customer=customer, csrf=CSRF)
    with httpx.Client(base_url=url, cookies=cookies) as client:  # Spanish customer
        page = client.get(f"/client/documents/{invoice_id}").text
        assert "Reembolsada en parte" in page
        assert f'<a href="/client/documents/{note_id}">{note_number}</a>' in page
        assert "Transferencia bancaria" in page
        note_page = client.get(f"/client/documents/{note_id}").text
        assert f'<a href="/client/documents/{invoice_id}">F2026-' in note_page
        history = client.get("/client/payments").text
        assert 'data-kind="refund"' in history and "-21,00" in history
        assert "Reembolso manual" in history and "Dinero devuelto" in history
        assert paid_on.strftime("%d/%m/%Y") + "</td>" in history  # no hour for a value date
        assert ">transfer<" not in history
        listing = client.get("/client/documents").text
        assert "Reembolsada en parte" in listing

    with ctx.db.transaction() as session:
        admin = session.get(StaffUser, new_staff(ctx, "admin").id)
        assert admin is not None
        _token, secret = api_tokens.create_token(session, admin, "t", "read", "system")
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {secret}"}) as api:
        invoice = api.get(f"/api/v1/documents/{invoice_id}").json()
        assert invoice["refund_state"] == "partly_refunded" and invoice["corrects"] is None
        assert invoice["credit_notes"] == [
            {"id": note_id, "number": note_number, "total": "-21.00"}
        ]
        credit = api.get(f"/api/v1/documents/{note_id}").json()
        assert credit["corrects"] == {"id": invoice_id, "number": invoice["number"]}
        payment = api.get("/api/v1/payments").json()["data"][0]
        assert payment["value_date"] == paid_on.isoformat() and payment["refunded"] == "21.00"
