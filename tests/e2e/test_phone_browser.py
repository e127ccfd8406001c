"""At phone width: the price list reads before registering, the menu folds into one link that
opens without JavaScript, the skip link leads to the content.

Screenshots go to test-artifacts/screenshots/phone-*.png.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, expect

from facturo.context import Context
from facturo.testing import (
    logged_in_cookies,
    make_catalog,
    make_customer,
    serve_in_thread,
    stop_server,
)
from facturo.web.app import create_app
from tests.e2e.test_client_browser import Shots

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def test_phone_width_price_list_and_folded_menu_without_javascript(
    make_context: Callable[..., Context], browser: Browser
) -> None:
    ctx = make_context()
    make_catalog(ctx)
    customer = make_customer(ctx)
    live = serve_in_thread(create_app(ctx))
    shot = Shots("phone")
    try:
        context = browser.new_context(viewport=PHONE, locale="es-ES", java_script_enabled=False)
        page = context.new_page()
        page.goto(f"{live.url}/")
        expect(page.get_by_role("heading", name="Productos y precios")).to_be_visible()
        expect(page.get_by_text("180,29")).to_be_visible()
        shot(page, "pricing")

        cookies = logged_in_cookies(ctx, customer=customer)
        context.add_cookies([{"name": k, "value": v, "url": live.url} for k, v in cookies.items()])
        page.goto(f"{live.url}/client/")
        documents = page.get_by_role("navigation").get_by_role("link", name="Documentos")
        expect(documents).to_be_hidden()  # folded away on a phone
        shot(page, "dashboard")
        page.get_by_role("link", name="Menú").click()
        expect(documents).to_be_visible()
        shot(page, "menu-open")
        page.get_by_role("link", name="Cerrar menú").click()
        expect(documents).to_be_hidden()

        # The first Tab on a page reaches the skip link. On a fresh load: after the fragment
        # navigation of "Cerrar menú", where the next Tab starts from depends on timing.
        page.goto(f"{live.url}/client/")
        page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Saltar al contenido")
        expect(skip).to_be_focused()
        expect(skip).to_be_in_viewport()
    finally:
        stop_server(live)
