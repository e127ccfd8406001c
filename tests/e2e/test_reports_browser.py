"""The staff VAT reports and the VERI*FACTU declaration in a real browser (Chromium), in Spanish
and English, saved as screenshots under test-artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect, sync_playwright

from facturo.context import Context
from facturo.testing import (
    Clock,
    free_port,
    launch_chromium,
    logged_in_cookies,
    save_screenshot,
    screenshot_path,
    serve_in_thread,
    stop_server,
)
from facturo.web.app import create_app
from tests.billing import vat_scenario
from tests.web.conftest import new_staff

pytestmark = pytest.mark.browser


def test_reports_and_declaration_pages(make_context: Callable[..., Context], clock: Clock) -> None:
    port = free_port()
    ctx = make_context(plugins=("verifactu",), overrides={"base_url": f"http://127.0.0.1:{port}"})
    vat_scenario.build(ctx, clock)
    live = serve_in_thread(create_app(ctx), port=port)
    cookie = logged_in_cookies(ctx, staff=new_staff(ctx, "billing"))["facturo_session"]
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            for language in ("es", "en"):
                page = browser.new_page(
                    locale=language, extra_http_headers={"Accept-Language": language}
                )
                page.context.add_cookies(
                    [{"name": "facturo_session", "value": cookie, "url": live.url}]
                )
                page.goto(f"{live.url}/admin/reports?year=2026&quarter=1")
                expect(page.locator("h1")).to_have_text(
                    "Informes de IVA" if language == "es" else "VAT reports"
                )
                expect(page.locator("table").first).to_contain_text(
                    "217,99" if language == "es" else "217.99"
                )
                save_screenshot(page, screenshot_path(f"admin-vat-reports-{language}"))
                page.get_by_role("link", name="Declaración responsable").first.click()
                expect(page.locator("h1")).to_contain_text("DECLARACIÓN RESPONSABLE")
                save_screenshot(page, screenshot_path(f"admin-verifactu-declaration-{language}"))
                page.close()
            browser.close()
    finally:
        stop_server(live)
