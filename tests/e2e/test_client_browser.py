"""The client area in a real browser (Playwright + Debian's Chromium) against uvicorn.

Register → open the verification link received by the test SMTP server → log in → order the
licence with two add-ons → see the proforma → pay by card through the Ruralvía sandbox → see the
invoice paid, numbered, the services active → download the PDF; the same in English; a phone-sized screen.
Every page visited is saved as a screenshot under test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from facturo.context import Context
from facturo.db.types import utcnow
from facturo.models import Document, Payment, Service
from facturo.testing import (
    SmtpServer,
    drain,
    free_port,
    make_catalog,
    save_screenshot,
    serve_in_thread,
    stop_server,
)
from facturo.web.app import create_app

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "a-long-and-unusual-passphrase"
APPROVED_CARD = "4548810000000003"  # the Ruralvía sandbox approves it


@dataclass
class Live:
    ctx: Context
    url: str
    smtp: SmtpServer


@pytest.fixture
def live(make_context: Callable[..., Context], smtp_server: SmtpServer) -> Iterator[Live]:
    """The app with the transfer and ruralvia (sandbox) plugins on the port its base_url names,
    on the real clock; the test delivers the outbox."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    ctx = make_context(
        plugins=("transfer", "ruralvia"), overrides={**smtp_server.settings(), "base_url": url}
    )
    ctx.clock = utcnow
    server = serve_in_thread(create_app(ctx), port)
    yield Live(ctx, url, smtp_server)
    stop_server(server)


class Shots:
    """Save a screenshot of every page visited, numbered in order."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.count = 0
        SHOTS.mkdir(parents=True, exist_ok=True)
        for stale in SHOTS.glob(f"{prefix}-*.png"):  # shots of an earlier run of this test
            stale.unlink()

    def __call__(self, page: Page, name: str) -> None:
        self.count += 1
        save_screenshot(page, str(SHOTS / f"{self.prefix}-{self.count:02d}-{name}.png"))


def _register(page: Page, live: Live, shot: Shots, email: str, language: str) -> None:
    page.goto(f"{live.url}/client/register")
    shot(page, "register")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.fill("input[name=name]", "Nuria Pérez")
    page.fill("input[name=tax_id]", "12345678Z")
    page.fill("input[name=address]", "Calle Luna 3")
    page.fill("input[name=postal_code]", "46001")
    page.fill("input[name=city]", "Valencia")
    page.select_option("select[name=country]", "ES")
    page.select_option("select[name=language]", language)
    page.check("input[name=terms]")
    page.click("form.stack button[type=submit]")
    shot(page, "registered")


def _verification_link(live: Live, count: int) -> str:
    drain(live.ctx)
    messages = live.smtp.sink.wait_for(count, timeout=20)
    assert len(messages) >= count, "the verification email did not arrive"
    body = messages[count - 1].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    match = re.search(re.escape(live.url) + r"/client/verify/\S+", body)
    assert match, body
    return match.group(0)


def _login(page: Page, live: Live, shot: Shots, email: str) -> None:
    page.goto(f"{live.url}/client/login")
    shot(page, "login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.stack button[type=submit]")
    shot(page, "dashboard")


def test_register_order_pay_and_download_in_spanish(live: Live, browser: Browser) -> None:
    make_catalog(live.ctx)
    shot = Shots("es")
    context = browser.new_context(locale="es-ES", accept_downloads=True)
    page = context.new_page()
    _register(page, live, shot, "nuria@example.com", "es")
    assert "Revisa tu correo" in page.content()
    page.goto(_verification_link(live, 1))
    shot(page, "verified")
    assert "Tu dirección de correo está verificada" in page.content()
    assert page.url.endswith("/client/catalog")  # the link signed in
    page.goto(f"{live.url}/client/")
    assert "Hola, Nuria Pérez" in page.content()
    assert "Verifica tu dirección" not in page.content()
    page.click("header nav a[href='/client/catalog']")
    shot(page, "catalog")
    assert "180,29" in page.content()  # 149 € + 21 % IVA, Spanish format
    page.check("input[name=cycle][value=annual]")
    for choice in page.locator("input[type=radio][name^=addon_][value$=':annual']").all():
        choice.check()  # one choice per supplier
    page.fill("input[name=label]", "tienda.example.com")
    page.click("section.card form button[type=submit]")
    page.wait_for_url("**/client/order/review")
    shot(page, "review")
    assert "262,57" in page.content()
    page.get_by_role("button", name="Pedir y pagar de otra forma").click()
    shot(page, "proforma")
    assert re.search(r"/client/documents/\d+$", page.url)
    assert "Proforma" in page.content() and "262,57" in page.content()
    document_id = int(page.url.rsplit("/", 1)[1])
    card_link = page.get_by_role("link", name="Pagar con tarjeta")
    expect(card_link).to_have_attribute("href", f"/client/ruralvia/pay/{document_id}")
    card_link.click()
    page.wait_for_url(f"**/client/ruralvia/pay/{document_id}")
    shot(page, "card-confirm")
    page.get_by_role("button", name="Pagar con tarjeta").click()
    page.wait_for_url("**/public/ruralvia/sandbox/sis/realizarPago")
    shot(page, "card-sandbox")
    assert "262.57 EUR" in page.content()
    page.fill("input[name=card_number]", APPROVED_CARD)
    page.get_by_role("button", name="Pagar / Pay").click()
    page.wait_for_url("**/client/ruralvia/return/*")
    state = page.locator("#payment-state")
    expect(state).to_have_attribute("data-state", "paid", timeout=20_000)
    expect(state).to_contain_text("Pago recibido")
    shot(page, "card-return")
    number = page.locator("#invoice-number").inner_text()
    with live.ctx.db.read_session() as session:
        doc = session.get(Document, document_id)
        assert doc is not None and doc.status == "paid" and doc.number == number
        statuses = set(session.scalars(select(Service.status)))
        gateways = [(p.gateway, p.amount) for p in session.scalars(select(Payment))]
    assert number and statuses == {"active"}
    assert gateways == [("ruralvia", Decimal("262.57"))]
    page.goto(f"{live.url}/client/documents/{document_id}/status")
    shot(page, "paid-status")
    assert f"El número de tu factura es {number}" in page.content()
    page.click("text=Ver la factura")
    shot(page, "invoice")
    assert number in page.content() and "Pagado" in page.content()
    with page.expect_download() as download_info:
        page.click("text=Descargar PDF")
    download = download_info.value
    pdf_path = download.path()
    assert pdf_path is not None and Path(pdf_path).read_bytes().startswith(b"%PDF")
    page.goto(f"{live.url}/client/services")
    shot(page, "services")
    assert page.locator("span.status.active").count() == 3
    page.goto(f"{live.url}/client/payments")
    shot(page, "payments")
    assert "262,57" in page.content()
    context.close()


def test_register_in_english(live: Live, browser: Browser) -> None:
    shot = Shots("en")
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.goto(f"{live.url}/client/login")
    page.click("text=Register")
    shot(page, "register-link")
    _register(page, live, shot, "john@example.com", "en")
    assert "Check your email" in page.content()
    drain(live.ctx)
    messages = live.smtp.sink.wait_for(1, timeout=20)
    assert messages and "Confirm" in str(messages[0]["Subject"])
    _login(page, live, shot, "john@example.com")
    assert "Verify your email address" in page.content()  # the banner, until verified
    page.goto(_verification_link(live, 1))
    shot(page, "verified")
    assert "Your email address is verified" in page.content()
    page.goto(f"{live.url}/client/")
    shot(page, "dashboard-verified")
    assert "Verify your email address" not in page.content()
    page.click("text=Español")
    shot(page, "switched")
    assert "Panel" in page.content()
    context.close()


def test_card_button_works_without_javascript(live: Live, browser: Browser) -> None:
    """The document page's card button is a plain link; the bank's form has a visible button."""
    make_catalog(live.ctx)
    shot = Shots("nojs")
    context = browser.new_context(locale="es-ES", java_script_enabled=False)
    page = context.new_page()
    _register(page, live, shot, "sinjs@example.com", "es")
    page.goto(_verification_link(live, 1))
    page.goto(f"{live.url}/client/catalog")
    page.check("input[name=cycle][value=annual]")
    page.click("section.card form button[type=submit]")
    page.get_by_role("button", name="Pedir y pagar de otra forma").click()
    shot(page, "proforma")
    document_id = int(page.url.rsplit("/", 1)[1])
    card_link = page.get_by_role("link", name="Pagar con tarjeta")
    expect(card_link).to_have_attribute("href", f"/client/ruralvia/pay/{document_id}")
    card_link.click()
    page.wait_for_url(f"**/client/ruralvia/pay/{document_id}")
    shot(page, "card-confirm")
    page.get_by_role("button", name="Pagar con tarjeta").click()
    shot(page, "card-redirect")  # no script ran: the bank's form waits for its button
    assert "/client/ruralvia/pay/" in page.url
    page.locator("form[data-autosubmit] button[type=submit]").click()
    page.wait_for_url("**/public/ruralvia/sandbox/sis/realizarPago")
    shot(page, "card-sandbox")
    page.fill("input[name=card_number]", APPROVED_CARD)
    page.get_by_role("button", name="Pagar / Pay").click()
    page.wait_for_url("**/client/ruralvia/return/*")
    shot(page, "card-return")
    assert page.locator("#payment-state").get_attribute("data-state") in ("paid", "waiting")
    with live.ctx.db.read_session() as session:
        doc = session.get(Document, document_id)
        assert doc is not None and doc.status == "paid" and doc.number
    context.close()


def test_phone_sized_viewport(live: Live, browser: Browser) -> None:
    make_catalog(live.ctx)
    shot = Shots("phone")
    context = browser.new_context(
        locale="es-ES", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    _register(page, live, shot, "movil@example.com", "es")
    page.goto(_verification_link(live, 1))
    shot(page, "verified")
    _login(page, live, shot, "movil@example.com")
    for path in ("/client/catalog", "/client/documents", "/client/account"):
        page.goto(f"{live.url}{path}")
        shot(page, path.rsplit("/", 1)[1])
        overflow: Any = page.evaluate(
            "document.documentElement.scrollWidth <= window.innerWidth + 1"
        )
        assert overflow, f"{path} scrolls sideways on a phone"
    context.close()
