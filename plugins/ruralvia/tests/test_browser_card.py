"""A customer pays a proforma by card in Chromium, through the sandbox, end to end."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from facturo.models import Document, Payment
from facturo.testing import launch_chromium, logged_in_cookies, screenshot_path

from .conftest import CSRF_TOKEN, CardApp, unpaid_proforma


@pytest.mark.browser
def test_customer_pays_a_proforma_by_card_in_the_browser(card_app: CardApp) -> None:
    from playwright.sync_api import expect, sync_playwright

    ctx = card_app.ctx
    customer, document = unpaid_proforma(ctx)
    cookie = logged_in_cookies(ctx, customer, csrf=CSRF_TOKEN)["facturo_session"]
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            context = browser.new_context(locale="es-ES")
            context.add_cookies([{"name": "facturo_session", "value": cookie, "url": card_app.url}])
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

            page.goto(f"{card_app.url}/client/ruralvia/pay/{document.id}")
            expect(page.locator("h1")).to_have_text("Pagar con tarjeta")
            page.screenshot(path=screenshot_path("ruralvia-1-confirm"), full_page=True)

            # The auto-submit script takes the browser straight on to the bank's page.
            page.get_by_role("button", name="Pagar con tarjeta").click()
            page.wait_for_url("**/public/ruralvia/sandbox/sis/realizarPago")
            expect(page.locator("body")).to_contain_text(document.reference)
            expect(page.locator("body")).to_contain_text(f"{document.total} EUR")
            page.fill("input[name=card_number]", "4548810000000003")
            page.screenshot(path=screenshot_path("ruralvia-2-sandbox"), full_page=True)

            page.get_by_role("button", name="Pagar / Pay").click()
            page.wait_for_url("**/client/ruralvia/return/*")
            state = page.locator("#payment-state")
            expect(state).to_have_attribute("data-state", "paid")
            expect(state).to_contain_text("Pago recibido")
            page.screenshot(path=screenshot_path("ruralvia-3-paid"), full_page=True)
            number = page.locator("#invoice-number").inner_text()
            assert not [e for e in errors if "Content Security Policy" in e], errors
        finally:
            browser.close()

    with ctx.db.read_session() as session:
        paid = session.get(Document, document.id)
        assert paid is not None and paid.status == "paid"
        assert paid.number == number
        payments = list(session.scalars(select(Payment)))
        assert [(p.gateway, p.amount) for p in payments] == [("ruralvia", paid.total)]
