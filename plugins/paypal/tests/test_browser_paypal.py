"""A real browser pays a proforma with PayPal through the local sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from facturo.testing import launch_chromium, logged_in_cookies, screenshot_path

from .helpers import document, order_proforma, payments, paypal_world, wait_for


@pytest.mark.browser
def test_customer_pays_with_paypal_in_a_browser(make_context: Any) -> None:
    from playwright.sync_api import sync_playwright

    with paypal_world(make_context) as world:
        customer, proforma = order_proforma(world.ctx)
        cookie = logged_in_cookies(world.ctx, customer)["facturo_session"]
        with sync_playwright() as p:
            browser = launch_chromium(p)
            try:
                context = browser.new_context(locale="es-ES")
                context.add_cookies(
                    [{"name": "facturo_session", "value": cookie, "url": world.live.url}]
                )
                page = context.new_page()
                page.goto(f"{world.live.url}/client/paypal/pay/{proforma.id}")
                assert "Pagar con PayPal" in page.content()
                page.screenshot(path=screenshot_path("paypal-1-pay"), full_page=True)
                page.click("#paypal-continue")
                page.wait_for_url("**/public/paypal/sandbox/checkoutnow?token=*")
                assert "180.29 EUR" in page.content()
                page.screenshot(path=screenshot_path("paypal-2-approval"), full_page=True)
                page.click("button[value=approve]")
                page.wait_for_url("**/client/paypal/attempts/*")
                state = page.locator("#paypal-state")
                assert state.get_attribute("data-state") == "paid"
                paid = document(world.ctx, proforma.id)
                assert paid.number is not None
                assert page.locator("#invoice-number").inner_text() == paid.number
                assert "Pagado" in page.content()
                page.screenshot(path=screenshot_path("paypal-3-paid"), full_page=True)
            finally:
                browser.close()
        wait_for(lambda: len(world.sandbox.deliveries) >= 2)
        assert len(payments(world.ctx)) == 1
