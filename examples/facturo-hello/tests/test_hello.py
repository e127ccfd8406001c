"""The plugin's event hook and page, through the core."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from sqlalchemy import select, text

from facturo.plugin import Context, Customer, Document, Product, place_order, record_payment
from facturo.testing import (
    drain,
    logged_in_cookies,
    make_catalog,
    make_customer,
    serve_app,
    stop_server,
)

PLUGIN = "hello"


def test_a_paid_invoice_gets_a_note_and_the_page_greets(
    make_context: Callable[..., Context],
) -> None:
    ctx = make_context(plugins=(PLUGIN,))
    make_catalog(ctx)
    customer = make_customer(ctx, language="en")  # the page greets in the customer's language
    with ctx.db.transaction() as session:
        product = session.scalar(select(Product).where(Product.code == "licence"))
        owner = session.get(Customer, customer.id)
        assert product is not None and owner is not None
        _services, document = place_order(session, ctx, owner, product, "annual")
        record_payment(session, ctx, document, "manual", "m-1", document.total, "EUR", ctx.now())
        document_id = document.id
    drain(ctx)
    with ctx.db.read_session() as session:
        number = session.get(Document, document_id).number  # type: ignore[union-attr]
        rows = session.execute(text(f"SELECT number FROM {PLUGIN}_paid_notes")).all()
    assert [row.number for row in rows] == [number]

    live = serve_app(ctx)
    try:
        browser = httpx.Client(base_url=live.url, cookies=logged_in_cookies(ctx, customer))
        page = browser.get(f"/client/{PLUGIN}")
        assert page.status_code == 200
        assert "Hello, Ana García!" in page.text
    finally:
        stop_server(live)
