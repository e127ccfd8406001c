"""A refund seen by both sides in a real browser (Playwright + Debian's Chromium), #16.2:

the customer pays an invoice by card through the Ruralvía sandbox; staff refund it in the staff
area (the money goes back through the sandbox); the customer then sees the invoice refunded,
the credit note linked both ways and the refund line in the payment history, with the card
named as people read it ("Tarjeta Visa ····0003").

Screenshots go to test-artifacts/screenshots/refund-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from facturo.context import Context
from facturo.db.types import utcnow
from facturo.models import Document, Refund
from facturo.testing import (
    free_port,
    logged_in_cookies,
    serve_in_thread,
    stop_server,
)
from facturo.web.app import create_app
from tests.e2e.test_client_browser import Shots
from tests.e2e.test_legal_browser import Live, pay_by_card
from tests.web.conftest import make_customer, new_proforma, new_staff

pytestmark = pytest.mark.browser


@pytest.fixture
def live(make_context: Callable[..., Context]) -> Iterator[Live]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    ctx = make_context(plugins=("transfer", "ruralvia"), overrides={"base_url": url})
    ctx.clock = utcnow
    server = serve_in_thread(create_app(ctx), port)
    yield Live(ctx, url)
    stop_server(server)


def _page(browser: Browser, live: Live, locale: str, **who: object) -> Page:
    context = browser.new_context(locale=locale, extra_http_headers={"Accept-Language": locale})
    cookies = logged_in_cookies(live.ctx, csrf="x", **who)  # type: ignore[arg-type]
    context.add_cookies([{"name": k, "value": v, "url": live.url} for k, v in cookies.items()])
    return context.new_page()


def test_staff_refund_seen_by_the_customer(live: Live, browser: Browser) -> None:
    customer = make_customer(live.ctx, email="lucia@example.com")
    document_id = new_proforma(live.ctx, customer).id
    shot = Shots("refund")

    client = _page(browser, live, "es-ES", customer=customer)
    client.goto(f"{live.url}/client/documents/{document_id}")
    pay_by_card(client, live, shot, document_id)
    expect(client.locator("h1 .status")).to_have_text("Pagado")

    staff = _page(browser, live, "en", staff=new_staff(live.ctx, "billing"))
    staff.goto(f"{live.url}/admin/documents/{document_id}")
    shot(staff, "staff-invoice-paid")
    staff.fill("input[name=amount]", "121.00")
    staff.fill("input[name=reason]", "Order cancelled")
    staff.get_by_role("button", name="Refund", exact=True).click()
    confirm = staff.get_by_role("button", name=re.compile("^(Confirm|Yes)", re.IGNORECASE))
    if confirm.count():  # a confirmation step (#16.4) when the staff area asks for one
        confirm.first.click()
    staff.wait_for_url(f"**/admin/documents/{document_id}")
    expect(staff.locator("#document-status")).to_have_text("Refunded")
    expect(staff.locator("#credit-notes a")).to_have_count(1)
    expect(staff.locator("form[action$='/refund']")).to_have_count(0)  # nothing left to refund
    shot(staff, "staff-invoice-refunded")
    with live.ctx.db.read_session() as session:
        refund = session.scalars(select(Refund)).one()
        note = session.get(Document, refund.credit_note_id)
        invoice = session.get(Document, document_id)
        assert note is not None and invoice is not None and note.number and invoice.number
        assert refund.gateway == "ruralvia" and refund.status == "completed"
        note_id, note_number, invoice_number = note.id, note.number, invoice.number
    staff.goto(f"{live.url}/admin/payments")
    expect(staff.locator("#payments tr[data-kind=refund]")).to_contain_text("-€121.00")
    expect(staff.locator("#payments tr[data-kind=refund]")).to_contain_text("Visa card ····0003")
    shot(staff, "staff-payments")

    # The customer: the invoice says refunded and links its credit note, which links back.
    client.goto(f"{live.url}/client/documents/{document_id}")
    expect(client.locator("h1 .status")).to_have_text("Reembolsada")
    expect(client.locator("#credit-notes")).to_contain_text("Esta factura se ha reembolsado.")
    shot(client, "customer-invoice-refunded")
    client.locator("#credit-notes").get_by_role("link", name=note_number).click()
    client.wait_for_url(f"**/client/documents/{note_id}")
    expect(client.locator("h1")).to_contain_text(note_number)
    expect(client.locator("#corrects")).to_contain_text(invoice_number)
    shot(client, "customer-credit-note")
    client.locator("#corrects").get_by_role("link", name=invoice_number).click()
    client.wait_for_url(f"**/client/documents/{document_id}")

    # The payment history: the card payment and, above it, the refund line.
    client.goto(f"{live.url}/client/payments")
    refund_row = client.locator("#payment-history tr[data-kind=refund]")
    expect(refund_row).to_have_count(1)
    expect(refund_row).to_contain_text("-121,00")
    expect(refund_row).to_contain_text("Tarjeta Visa ····0003")
    expect(refund_row).to_contain_text(note_number)
    payment_row = client.locator("#payment-history tr[data-kind=payment]")
    expect(payment_row).to_contain_text("Tarjeta Visa ····0003")
    expect(payment_row).to_contain_text("121,00")
    shot(client, "customer-payments")
