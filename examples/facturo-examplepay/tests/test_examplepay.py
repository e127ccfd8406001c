"""End to end, as a customer and ExamplePay would: order → pay on the sandbox's hosted page →
signed notification → invoice issued → service provisioned; then duplicates, forgeries,
reconciliation and a refund. Written only against facturo.plugin and facturo.testing."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from facturo.plugin import (
    Context,
    Customer,
    Document,
    GatewayNotification,
    Payment,
    PendingAttempt,
    Product,
    Service,
    place_order,
    refund_invoice,
)
from facturo.testing import (
    drain,
    free_port,
    logged_in_cookies,
    make_catalog,
    make_customer,
    serve_app,
    stop_server,
)

PLUGIN = "examplepay"
CSRF = "test-csrf"


@dataclass
class Shop:
    """The app with the plugin enabled, served over real HTTP (the sandbox calls it back)."""

    ctx: Context
    url: str

    def browser(self, customer: Customer) -> httpx.Client:
        """A client logged in as ``customer``; forms send ``csrf_token=CSRF``."""
        cookies = logged_in_cookies(self.ctx, customer, csrf=CSRF)
        return httpx.Client(base_url=self.url, cookies=cookies, timeout=20)


@pytest.fixture
def shop(make_context: Callable[..., Context]) -> Iterator[Shop]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    ctx = make_context(plugins=(PLUGIN,), overrides={"base_url": url})
    live = serve_app(ctx, port=port)
    yield Shop(ctx, url)
    stop_server(live)


def order(ctx: Context) -> tuple[Customer, int]:
    """A customer and the proforma of their order of the annual licence."""
    make_catalog(ctx)
    customer = make_customer(ctx)
    with ctx.db.transaction() as session:
        product = session.scalar(select(Product).where(Product.code == "licence"))
        owner = session.get(Customer, customer.id)
        assert product is not None and owner is not None
        _services, proforma = place_order(session, ctx, owner, product, "annual")
        return customer, proforma.id


def go_to_hosted_page(shop: Shop, browser: httpx.Client, document_id: int) -> dict[str, str]:
    """Click "pay" and land on the sandbox's page; return its form's hidden fields."""
    assert browser.get(f"/client/examplepay/pay/{document_id}").status_code == 200
    started = browser.post(f"/client/examplepay/pay/{document_id}", data={"csrf_token": CSRF})
    assert started.status_code == 303
    assert started.headers["location"].startswith(f"{shop.url}/public/examplepay/sandbox/pay?")
    page = browser.get(started.headers["location"])
    assert page.status_code == 200
    found = re.findall(r'name="(query|signature)" value="([^"]*)"', page.text)
    return {key: html.unescape(value) for key, value in found}


def notifications(ctx: Context) -> list[str]:
    with ctx.db.read_session() as session:
        rows = session.scalars(select(GatewayNotification).order_by(GatewayNotification.id))
        return [row.status for row in rows]


def test_order_paid_in_the_sandbox_is_invoiced_and_provisioned(shop: Shop) -> None:
    ctx = shop.ctx
    customer, document_id = order(ctx)
    browser = shop.browser(customer)
    hidden = go_to_hosted_page(shop, browser, document_id)

    paid = browser.post(
        "/public/examplepay/sandbox/pay", data={**hidden, "notify": "yes", "outcome": "paid"}
    )
    assert paid.status_code == 303
    assert paid.headers["location"] == f"{shop.url}/client/documents/{document_id}"
    assert notifications(ctx) == ["processed"]
    drain(ctx)
    with ctx.db.read_session() as session:
        document = session.get(Document, document_id)
        assert document is not None
        assert (document.kind, document.status, document.balance) == ("invoice", "paid", 0)
        assert document.number
        services = session.scalars(select(Service).where(Service.customer_id == customer.id))
        assert [s.status for s in services] == ["active"]
        payment = session.scalar(select(Payment).where(Payment.gateway == "examplepay"))
        assert payment is not None and payment.amount == document.total


def test_a_declined_payment_leaves_the_proforma_unpaid(shop: Shop) -> None:
    from facturo_examplepay.models import Attempt

    ctx = shop.ctx
    customer, document_id = order(ctx)
    browser = shop.browser(customer)
    hidden = go_to_hosted_page(shop, browser, document_id)
    declined = browser.post(
        "/public/examplepay/sandbox/pay", data={**hidden, "notify": "yes", "outcome": "failed"}
    )
    assert declined.status_code == 303
    assert notifications(ctx) == ["processed"]
    with ctx.db.read_session() as session:
        document = session.get(Document, document_id)
        assert document is not None and (document.kind, document.status) == ("proforma", "unpaid")
        assert session.scalars(select(Attempt.status)).all() == ["failed"]
        assert session.scalar(select(func.count()).select_from(Payment)) == 0


def test_repeated_and_forged_notifications_record_nothing_more(shop: Shop) -> None:
    from facturo_examplepay.gateway import sign

    ctx = shop.ctx
    customer, document_id = order(ctx)
    browser = shop.browser(customer)
    hidden = go_to_hosted_page(shop, browser, document_id)
    browser.post("/public/examplepay/sandbox/pay", data={**hidden, "outcome": "paid"})
    reference = dict(re.findall(r"(\w+)=([^&]*)", hidden["query"]))["reference"]
    with ctx.db.read_session() as session:
        document = session.get(Document, document_id)
        assert document is not None
        amount = document.total
    body = (
        f'{{"reference": "{reference}", "status": "paid", "amount": "{amount}", "currency": "EUR"}}'
    )
    signed = {"x-examplepay-signature": sign("demo-secret", body)}
    first = httpx.post(f"{shop.url}/public/examplepay/notify", content=body, headers=signed)
    again = httpx.post(f"{shop.url}/public/examplepay/notify", content=body, headers=signed)
    forged = httpx.post(
        f"{shop.url}/public/examplepay/notify",
        content=body.replace(str(amount), "0.01"),
        headers=signed,
    )
    assert (first.status_code, first.text) == (200, "processed")
    assert (again.status_code, again.text) == (200, "duplicate")
    assert (forged.status_code, forged.text) == (200, "rejected")
    with ctx.db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(Payment)) == 1


def test_a_lost_notification_is_found_by_the_status_query(shop: Shop) -> None:
    from facturo_examplepay.gateway import GATEWAY, event_key

    ctx = shop.ctx
    customer, document_id = order(ctx)
    browser = shop.browser(customer)
    hidden = go_to_hosted_page(shop, browser, document_id)
    reference = dict(re.findall(r"(\w+)=([^&]*)", hidden["query"]))["reference"]
    (pending,) = GATEWAY.pending_attempts(ctx, ctx.now(), ctx.now().replace(year=2000))
    assert pending.reference == reference
    assert GATEWAY.query_payment(ctx, pending) is None  # not paid yet: no answer
    browser.post("/public/examplepay/sandbox/pay", data={**hidden, "outcome": "paid"})  # no notify
    assert notifications(ctx) == []
    answer = GATEWAY.query_payment(ctx, pending)
    assert answer is not None
    raw, verified = answer
    assert verified.event_key == event_key({"reference": reference, "status": "paid"})
    unknown = PendingAttempt("nope", document_id, Decimal("1.00"), "EUR", ctx.now())
    assert GATEWAY.query_payment(ctx, unknown) is None


def test_a_refund_goes_back_through_the_sandbox(shop: Shop) -> None:
    ctx = shop.ctx
    customer, document_id = order(ctx)
    browser = shop.browser(customer)
    hidden = go_to_hosted_page(shop, browser, document_id)
    browser.post(
        "/public/examplepay/sandbox/pay", data={**hidden, "notify": "yes", "outcome": "paid"}
    )
    with ctx.db.transaction() as session:
        invoice = session.get(Document, document_id)
        assert invoice is not None
        _note, refund = refund_invoice(session, ctx, invoice, Decimal("10.00"), "goodwill", "test")
        assert refund.gateway_refund_id.startswith("re_")
        assert refund.amount == Decimal("10.00")
