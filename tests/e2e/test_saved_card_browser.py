"""A renewal that pays itself, in a real browser (Playwright + Debian's Chromium), #21.1:

the customer pays their licence by card in the Ruralvía sandbox ticking "save this card for
renewals"; later the billing run renews the licence and charges the saved card (a
merchant-initiated charge through the sandbox's REST endpoint) without the customer acting;
the customer then sees the renewal invoice paid, and the card on the Saved cards page.

Screenshots go to test-artifacts/screenshots/saved-card-*.png.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from facturo.billing.orders import place_order
from facturo.context import Context
from facturo.db.types import utcnow
from facturo.models import Customer, Document, Product, Service
from facturo.testing import (
    free_port,
    logged_in_cookies,
    make_catalog,
    make_customer,
    serve_in_thread,
    stop_server,
)
from facturo.testing_flows import drain, run_billing
from facturo.web.app import create_app
from tests.e2e.test_client_browser import Shots
from tests.e2e.test_legal_browser import APPROVED_CARD, Live

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


def test_saved_card_renews_without_the_customer_acting(live: Live, browser: Browser) -> None:
    ctx = live.ctx
    make_catalog(ctx)
    customer = make_customer(ctx, email="marta@example.com")
    with ctx.db.transaction() as session:
        product = session.scalar(select(Product).where(Product.code == "licence"))
        owner = session.get(Customer, customer.id)
        assert product is not None and owner is not None
        _, first = place_order(session, ctx, owner, product, "annual")
    shot = Shots("saved-card")

    context = browser.new_context(locale="es-ES", extra_http_headers={"Accept-Language": "es"})
    cookies = logged_in_cookies(ctx, customer=customer, csrf="x")
    context.add_cookies([{"name": k, "value": v, "url": live.url} for k, v in cookies.items()])
    page = context.new_page()
    page.goto(f"{live.url}/client/documents/{first.id}")
    page.get_by_role("link", name="Pagar con tarjeta").click()
    page.wait_for_url(f"**/client/ruralvia/pay/{first.id}")
    page.get_by_label("Guardar esta tarjeta para las renovaciones").check()
    shot(page, "pay-saving-card")
    page.get_by_role("button", name="Pagar con tarjeta").click()
    page.wait_for_url("**/public/ruralvia/sandbox/sis/realizarPago")
    page.fill("input[name=card_number]", APPROVED_CARD)
    shot(page, "sandbox")
    page.get_by_role("button", name="Pagar / Pay").click()
    page.wait_for_url("**/client/ruralvia/return/*")
    expect(page.locator("#payment-state")).to_have_attribute("data-state", "paid", timeout=20_000)
    page.goto(f"{live.url}/client/ruralvia/cards")
    expect(page.locator("main")).to_contain_text("Visa ····0003")
    shot(page, "saved-cards")

    drain(ctx)  # the licence is provisioned: it now has a due date
    with ctx.db.read_session() as session:
        service = session.scalar(select(Service).where(Service.customer_id == customer.id))
        assert service is not None and service.next_due_date is not None
        day = service.next_due_date - timedelta(days=ctx.settings.billing.invoice_days_before)
    report = run_billing(ctx, day)  # no browser, no customer: the billing run alone
    assert report.collection is not None and report.collection.paid == 1
    with ctx.db.read_session() as session:
        renewal = session.scalar(
            select(Document).where(
                Document.customer_id == customer.id, Document.source == "renewal"
            )
        )
        assert renewal is not None and renewal.status == "paid" and renewal.number

    page.goto(f"{live.url}/client/documents")
    expect(page.locator("main")).to_contain_text(renewal.number)
    shot(page, "documents")
    page.goto(f"{live.url}/client/documents/{renewal.id}")
    expect(page.locator("h1 .status")).to_have_text("Pagado")
    expect(page.locator("main")).to_contain_text(renewal.number)
    shot(page, "renewal-invoice")
    context.close()
