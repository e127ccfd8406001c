"""Destructive staff actions ask first, on a page that states the consequence and works
without JavaScript (issue 16, point 4): refunds, proforma cancellation, disabling a login."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import func, select

from facturo.billing.payments import record_payment
from facturo.context import Context
from facturo.models import Customer, Document, Product, Refund
from facturo.testing import make_catalog, make_customer
from tests.web.conftest import CSRF, new_proforma, new_staff, staff_client


def hidden(html: str) -> dict[str, str]:
    """The hidden fields of the confirmation form (what its button posts)."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))


def assert_confirmation_page(html: str, action: str) -> dict[str, str]:
    assert f'<form method="post" action="{action}">' in html
    assert "<script" not in html.split("<main", 1)[-1]  # no script needed to confirm
    fields = hidden(html)
    assert fields["confirm"] == "yes" and fields["csrf_token"]
    return fields


def paid_invoice(ctx: Context) -> Document:
    """121.00 paid by bank transfer (no gateway refund: a manual refund)."""
    customer = make_customer(ctx)
    document = new_proforma(ctx, customer)
    with ctx.db.transaction() as session:
        record_payment(
            session,
            ctx,
            session.get(Document, document.id),
            "transfer",
            "BANK-1",
            Decimal("121.00"),
            "EUR",
            ctx.now(),
        )
    return document


def refunded(ctx: Context, document_id: int) -> tuple[Decimal, int]:
    with ctx.db.read_session() as session:
        document = session.get(Document, document_id)
        assert document is not None
        count = session.scalar(select(func.count()).select_from(Refund)) or 0
        return document.refunded_total, int(count)


def test_a_refund_with_an_empty_amount_asks_first_and_states_the_amount(
    make_context: Callable[..., Context], serve: Callable[[Context], str]
) -> None:
    ctx = make_context()
    url = serve(ctx)
    document = paid_invoice(ctx)
    action = f"/admin/documents/{document.id}/refund"
    with staff_client(ctx, url, new_staff(ctx, "billing")) as client:
        page = client.post(action, data={"reason": "duplicate", "csrf_token": CSRF})
        assert page.status_code == 200
        assert "€121.00" in page.text and "everything left on the invoice" in page.text
        assert "recorded as a manual refund" in page.text and "cannot be undone" in page.text
        fields = assert_confirmation_page(page.text, action)
        assert fields["amount"] == "121.00" and fields["reason"] == "duplicate"
        assert refunded(ctx, document.id) == (Decimal("0.00"), 0)  # nothing happened
        # GET shows the same page (a link works too); a partial amount is stated as such.
        partial = client.get(action, params={"amount": "21.00"})
        assert partial.status_code == 200 and "€21.00" in partial.text
        assert "everything left" not in partial.text
        # A confirmed POST without an amount is refused: never "everything" unseen.
        blind = client.post(action, data={"confirm": "yes", "csrf_token": CSRF})
        assert blind.status_code == 303
        assert refunded(ctx, document.id) == (Decimal("0.00"), 0)
        # An amount the invoice cannot give back is refused at the confirmation step.
        too_much = client.post(action, data={"amount": "500", "csrf_token": CSRF})
        assert too_much.status_code == 303
        # The page's own button does it.
        done = client.post(action, data=fields)
        assert done.status_code == 303
    assert refunded(ctx, document.id) == (Decimal("121.00"), 1)


def test_cancelling_a_proforma_asks_first(
    make_context: Callable[..., Context], serve: Callable[[Context], str]
) -> None:
    ctx = make_context()
    url = serve(ctx)
    document = new_proforma(ctx, make_customer(ctx))
    action = f"/admin/documents/{document.id}/cancel"
    with staff_client(ctx, url, new_staff(ctx, "billing")) as client:
        for page in (
            client.get(action),
            client.post(action, data={"reason": "duplicate", "csrf_token": CSRF}),
        ):
            assert page.status_code == 200
            assert document.reference in page.text and "€121.00" in page.text
            assert "cannot be reopened" in page.text
            fields = assert_confirmation_page(page.text, action)
        with ctx.db.read_session() as session:
            fresh = session.get(Document, document.id)
            assert fresh is not None and fresh.status == "unpaid"
        assert fields["reason"] == "duplicate"
        assert client.post(action, data=fields).status_code == 303
    with ctx.db.read_session() as session:
        fresh = session.get(Document, document.id)
        assert fresh is not None and fresh.status == "cancelled" and fresh.reason == "duplicate"


def test_disabling_a_customer_asks_first_enabling_does_not(
    make_context: Callable[..., Context], serve: Callable[[Context], str]
) -> None:
    ctx = make_context()
    url = serve(ctx)
    customer = make_customer(ctx)
    action = f"/admin/customers/{customer.id}/login"

    def disabled() -> bool:
        with ctx.db.read_session() as session:
            row = session.get(Customer, customer.id)
            assert row is not None
            return row.disabled

    with staff_client(ctx, url, new_staff(ctx, "billing")) as client:
        for page in (
            client.get(action),
            client.post(action, data={"disabled": "1", "csrf_token": CSRF}),
        ):
            assert page.status_code == 200
            assert customer.email in page.text and "can no longer log in" in page.text
            fields = assert_confirmation_page(page.text, action)
        assert not disabled()
        assert client.post(action, data=fields).status_code == 303
        assert disabled()
        enable = client.post(action, data={"disabled": "0", "csrf_token": CSRF})
        assert enable.status_code == 303
        assert not disabled()


def test_the_confirmation_page_is_in_spanish(
    make_context: Callable[..., Context], serve: Callable[[Context], str]
) -> None:
    ctx = make_context()
    url = serve(ctx)
    document = paid_invoice(ctx)
    with staff_client(ctx, url, new_staff(ctx, "billing")) as client:
        page = client.get(
            f"/admin/documents/{document.id}/refund", headers={"Accept-Language": "es"}
        ).text
    assert "121,00" in page and "todo lo que queda de la factura" in page
    assert "No, volver" in page


def test_deleting_a_product_asks_first(
    make_context: Callable[..., Context], serve: Callable[[Context], str]
) -> None:
    ctx = make_context()
    url = serve(ctx)
    _licence, addons = make_catalog(ctx)
    action = f"/admin/products/{addons[0].id}/delete"
    with staff_client(ctx, url, new_staff(ctx, "billing")) as client:
        for page in (client.get(action), client.post(action, data={"csrf_token": CSRF})):
            assert page.status_code == 200
            assert "Product addon-a (Supplier addon-a) is deleted" in page.text
            fields = assert_confirmation_page(page.text, action)
        with ctx.db.read_session() as session:
            assert session.get(Product, addons[0].id) is not None
        assert client.post(action, data=fields).status_code == 303
    with ctx.db.read_session() as session:
        assert session.get(Product, addons[0].id) is None
