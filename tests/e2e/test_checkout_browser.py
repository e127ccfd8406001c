"""The shortest way to a paid licence in a real browser, counting the clicks.

Register → open the link in the email (it signs in and lands on the catalog) → choose the
cycle and an add-on → review the order (lines, tax, total, one billing period) → "pay now by
card" posts straight to the bank (Ruralvía sandbox) → the bank's page → back on the thank-you
page with the licence key; the "your licence" email carries the same key. At most 8 clicks,
at desktop and phone widths, every page axe-clean (no serious or critical violation), with
screenshots under test-artifacts/screenshots/checkout-*.png.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import select

from facturo.context import Context
from facturo.db.types import utcnow
from facturo.models import Document, OutboxMessage
from facturo.testing import (
    SmtpServer,
    drain,
    free_port,
    make_catalog,
    serve_in_thread,
    stop_server,
)
from facturo.web.app import create_app
from tests.e2e.accessibility import assert_accessible
from tests.e2e.test_client_browser import APPROVED_CARD, PASSWORD, Shots

pytestmark = pytest.mark.browser
MAX_CLICKS = 8
KEY = re.compile(r"[A-Z0-9]{4,}(?:-[A-Z0-9]{2,}){3,}")


@dataclass
class Live:
    ctx: Context
    url: str
    smtp: SmtpServer


@pytest.fixture
def live(make_context: Callable[..., Context], smtp_server: SmtpServer) -> Iterator[Live]:
    """Card payments (Ruralvía sandbox) and licences, on the real clock."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    ctx = make_context(
        plugins=("transfer", "ruralvia", "prestaimport_license"),
        overrides={**smtp_server.settings(), "base_url": url},
    )
    ctx.clock = utcnow
    server = serve_in_thread(create_app(ctx), port)
    yield Live(ctx, url, smtp_server)
    stop_server(server)


class Clicks:
    """Every click the customer makes goes through here and is counted."""

    def __init__(self) -> None:
        self.count = 0

    def click(self, target: Locator) -> None:
        self.count += 1
        target.click()

    def check(self, target: Locator) -> None:
        self.count += 1
        target.check()

    def open_link_from_email(self, page: Page, url: str) -> None:
        self.count += 1
        page.goto(url)


def _mail_text(live: Live, index: int) -> str:
    messages = live.smtp.sink.wait_for(index + 1, timeout=20)
    assert len(messages) > index, "the email did not arrive"
    return str(messages[index].get_body(("plain",)).get_content())  # type: ignore[union-attr]


WIDTHS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}, "locale": "es-ES", "lang": "es"},
    "phone": {"viewport": {"width": 390, "height": 844}, "locale": "en-GB", "lang": "en"},
}
WORDS = {
    "es": {
        "register": "Crear cuenta",
        "review": "Revisar el pedido",
        "pay": "Pedir y pagar ahora: Tarjeta",
        "thanks": "Tu licencia",
    },
    "en": {
        "register": "Create account",
        "review": "Review the order",
        "pay": "Order and pay now: Card",
        "thanks": "Your licence",
    },
}


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_register_to_licence_key_in_at_most_eight_clicks(
    live: Live, browser: Browser, width: str
) -> None:
    make_catalog(live.ctx, provisioner="prestaimport_license")
    setup = WIDTHS[width]
    lang = str(setup["lang"])
    words = WORDS[lang]
    shot = Shots(f"checkout-{width}")
    context = browser.new_context(viewport=setup["viewport"], locale=str(setup["locale"]))
    page = context.new_page()
    clicks = Clicks()

    def look(name: str) -> None:
        shot(page, name)
        assert_accessible(page)

    page.goto(f"{live.url}/client/register")
    look("register")
    page.fill("input[name=email]", f"{width}@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.fill("input[name=name]", "Nuria Pérez")
    page.fill("input[name=tax_id]", "12345678Z")
    page.fill("input[name=address]", "Calle Luna 3")
    page.fill("input[name=postal_code]", "46001")
    page.fill("input[name=city]", "Valencia")
    page.select_option("select[name=language]", lang)
    page.check("input[name=terms]")  # the form's own box: counted as a click below
    clicks.count += 1
    clicks.click(page.locator("form.stack button[type=submit]"))
    look("registered")

    drain(live.ctx)
    link = re.search(re.escape(live.url) + r"/client/verify/\S+", _mail_text(live, 0))
    assert link
    clicks.open_link_from_email(page, link.group(0))
    page.wait_for_url("**/client/catalog")
    look("catalog")  # signed in by the link, ready to order

    card = page.locator("section.card").first
    clicks.check(card.locator("input[name=cycle][value=annual]"))
    clicks.check(card.locator("input[type=radio][name^=addon_][value$=':annual']").first)
    clicks.click(card.get_by_role("button", name=re.compile(words["review"])))
    page.wait_for_url("**/client/order/review")
    look("review")
    expect(page.locator("#order-period")).to_be_visible()
    total = page.locator("#order-total").inner_text()
    assert "227" in total  # (149 + 39) + 21 % VAT = 227.48
    assert page.locator("#order-tax").inner_text().startswith(("39", "€39"))

    clicks.click(page.get_by_role("button", name=re.compile(words["pay"])))
    page.wait_for_url("**/public/ruralvia/sandbox/sis/realizarPago")
    look("bank")
    assert "227.48 EUR" in page.content()
    page.fill("input[name=card_number]", APPROVED_CARD)
    clicks.click(page.get_by_role("button", name="Pagar / Pay"))
    page.wait_for_url("**/client/ruralvia/return/*")

    key_box = page.locator("code.key")
    deadline = time.monotonic() + 40
    while key_box.count() == 0 and time.monotonic() < deadline:
        drain(live.ctx)  # the worker's part: record, provision, email
        page.wait_for_timeout(500)
        if key_box.count() == 0:
            page.reload()
    expect(key_box).to_be_visible()
    expect(page.get_by_role("heading", name=words["thanks"])).to_be_visible()
    look("thank-you")
    key = key_box.inner_text()
    assert KEY.fullmatch(key), key
    assert clicks.count <= MAX_CLICKS, f"{clicks.count} clicks"

    with live.ctx.db.read_session() as session:
        document = session.scalars(select(Document)).one()
        assert document.status == "paid" and document.number
        ready = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template == "licence_ready")
            .order_by(OutboxMessage.id)
        ).one()
    assert key in ready.text_body and ready.to_address == f"{width}@example.com"
    context.close()
