"""New capability 14 (passkeys): in Chromium, with its virtual authenticator (CDP
``WebAuthn.enable`` and ``WebAuthn.addVirtualAuthenticator`` through Playwright's CDP session),
a customer registers a passkey, signs in with it alone, and uses it as the second factor after
the password; a staff user signs in with one. Screenshots go to test-artifacts/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, sync_playwright
from sqlalchemy import select

from facturo.context import Context
from facturo.models import AuthSession, Passkey
from facturo.testing import (
    free_port,
    launch_chromium,
    save_screenshot,
    screenshot_path,
    serve_in_thread,
    stop_server,
)
from facturo.web.app import create_app
from tests.security.conftest import CUSTOMER_PASSWORD, STAFF_PASSWORD, new_customer, new_staff

pytestmark = pytest.mark.browser


@dataclass
class Live:
    ctx: Context
    url: str


@pytest.fixture
def live(make_context: Callable[..., Context]) -> Iterator[Live]:
    """The app on localhost (a WebAuthn relying party needs a host name, not an address)."""
    port = free_port()
    url = f"http://localhost:{port}"
    ctx = make_context(overrides={"base_url": url, "admin_two_factor_required": False})
    server = serve_in_thread(create_app(ctx), port=port)
    try:
        yield Live(ctx, url)
    finally:
        stop_server(server)


def _authenticator(context: BrowserContext, page: Page) -> Any:
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp


def _password_login(
    page: Page, url: str, email: str, password: str, section: str = "client"
) -> None:
    page.goto(f"{url}/{section}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("form.stack button[type=submit]")


def test_customer_registers_and_uses_a_passkey(live: Live) -> None:
    customer = new_customer(live.ctx)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(locale="en-GB")
        page = context.new_page()
        _authenticator(context, page)
        _password_login(page, live.url, customer.email, CUSTOMER_PASSWORD)
        page.wait_for_url(f"{live.url}/client/")
        page.goto(f"{live.url}/client/security")
        page.fill("#passkey-name", "Test laptop")
        page.click("button[data-passkey=register]")
        page.wait_for_selector("text=Test laptop")
        save_screenshot(page, screenshot_path("security-passkey-registered"))
        with live.ctx.db.read_session() as session:
            [key] = session.scalars(select(Passkey))
            assert key.customer_id == customer.id and key.name == "Test laptop"
        # Sign out, then in again with the passkey alone.
        page.click("nav form button")
        page.wait_for_url(f"{live.url}/client/login")
        page.click("button[data-passkey=login]")
        page.wait_for_url(f"{live.url}/client/")
        assert "Log out" in page.content()
        save_screenshot(page, screenshot_path("security-passkey-signed-in"))
        # The password now leads to a second step, which the passkey also answers.
        page.click("nav form button")
        _password_login(page, live.url, customer.email, CUSTOMER_PASSWORD)
        page.wait_for_url(f"{live.url}/client/login/2fa**")
        save_screenshot(page, screenshot_path("security-second-factor"))
        page.click("button[data-passkey=second]")
        page.wait_for_url(f"{live.url}/client/")
        browser.close()
    with live.ctx.db.read_session() as session:
        key = session.scalars(select(Passkey)).one()
        assert key.last_used_at is not None
        verified = session.scalars(select(AuthSession).where(AuthSession.verified.is_(True))).all()
        assert len(verified) == 3  # password, passkey alone, password + passkey
    assert "A second factor was added to your account" in [
        m.subject for m in _mails(live, "security_notice")
    ]


def test_staff_signs_in_with_a_passkey(live: Live) -> None:
    staff = new_staff(live.ctx, "admin")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(locale="en-GB")
        page = context.new_page()
        _authenticator(context, page)
        _password_login(page, live.url, staff.email, STAFF_PASSWORD, "admin")
        page.wait_for_url(f"{live.url}/admin/")
        page.goto(f"{live.url}/admin/account")
        page.click("button[data-passkey=register]")
        page.wait_for_selector("text=My device")
        save_screenshot(page, screenshot_path("security-staff-account"))
        page.click("header form button")
        page.wait_for_url(f"{live.url}/admin/login")
        page.click("button[data-passkey=login]")
        page.wait_for_url(f"{live.url}/admin/")
        browser.close()


def _mails(live: Live, template: str) -> list[Any]:
    from facturo.models import OutboxMessage

    with live.ctx.db.read_session() as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.template == template)
                .order_by(OutboxMessage.id)
            )
        )
