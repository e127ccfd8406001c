"""The staff dashboard of the demo in Chromium without JavaScript, at desktop and phone
widths: every chart shows as a picture inside the page's width, its table beside it.

Screenshots go to test-artifacts/screenshots/dashboard-*.png.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, expect

from facturo.accounts.customers import create_staff
from facturo.context import Context
from facturo.demo import BUNDLED, seed
from facturo.testing import (
    enabled_test_plugins,
    logged_in_cookies,
    serve_in_thread,
    stop_server,
)
from facturo.web.app import create_app
from tests.e2e.test_client_browser import Shots

pytestmark = pytest.mark.browser
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
CHARTS = ("chart-revenue", "chart-renewals", "chart-retention", "chart-methods", "chart-ageing")


def test_dashboard_charts_at_desktop_and_phone_width(
    make_context: Callable[..., Context], browser: Browser
) -> None:
    ctx = make_context(plugins=tuple(p for p in BUNDLED if p in enabled_test_plugins()))
    seed(ctx)
    with ctx.db.transaction() as session:
        staff, _ = create_staff(
            session, "boss@example.com", "Boss", "admin", "a-long-password-2026"
        )
    live = serve_in_thread(create_app(ctx))
    shot = Shots("dashboard")
    try:
        for name, viewport in WIDTHS.items():
            for language in ("es-ES", "en-GB"):
                context = browser.new_context(
                    viewport=viewport, locale=language, java_script_enabled=False
                )
                cookies = logged_in_cookies(ctx, staff=staff)
                context.add_cookies(
                    [{"name": k, "value": v, "url": live.url} for k, v in cookies.items()]
                )
                page = context.new_page()
                page.goto(f"{live.url}/admin/")
                for key in CHARTS:
                    image = page.locator(f"#{key} img")
                    expect(image).to_be_visible()
                    box = image.bounding_box()
                    assert box is not None and 300 <= box["width"] <= viewport["width"], key
                    expect(page.locator(f"#{key} table caption")).to_be_visible()
                shot(page, f"{name}-{language[:2]}")
                context.close()
    finally:
        stop_server(live)
