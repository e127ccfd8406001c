"""A real browser pays a proforma with PayPal through the local sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from facturo.testing import logged_in_cookies

from .helpers import document, order_proforma, payments, paypal_world, wait_for

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"


@pytest.mark.browser
def test_customer_pays_with_paypal_in_a_browser(make_context: Any) -> None:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with paypal_world(make_context) as world:
        customer, proforma = order_proforma(world.ctx)
        cookie = logged_in_cookies(world.ctx, customer)["facturo_session"]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                context = browser.new_context(locale="es-ES")
                context.add_cookies(
                    [{"name": "facturo_session", "value": cookie, "url": world.live.url}]
                )
                page = context.new_page()
                page.goto(f"{world.live.url}/client/paypal/pay/{proforma.id}")
                assert "Pagar con PayPal" in page.content()
                page.screenshot(path=str(SHOTS / "paypal-1-pay.png"), full_page=True)
                page.click("#paypal-continue")
                page.wait_for_url("**/public/paypal/sandbox/checkoutnow?token=*")
                assert "180.29 EUR" in page.content()
                page.screenshot(path=str(SHOTS / "paypal-2-approval.png"), full_page=True)
                page.click("button[value=approve]")
                page.wait_for_url("**/client/paypal/attempts/*")
                state = page.locator("#paypal-state")
                assert state.get_attribute("data-state") == "paid"
                paid = document(world.ctx, proforma.id)
                assert paid.number is not None
                assert page.locator("#invoice-number").inner_text() == paid.number
                assert "Pagado" in page.content()
                page.screenshot(path=str(SHOTS / "paypal-3-paid.png"), full_page=True)
            finally:
                browser.close()
        wait_for(lambda: len(world.sandbox.deliveries) >= 2)
        assert len(payments(world.ctx)) == 1
