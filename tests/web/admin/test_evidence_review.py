"""Staff see place-of-supply conflicts on the dashboard and review them with a note; the
client area's withdrawal page in English, refusals with a reason, another's order a 404."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import httpx
from sqlalchemy import select

from facturo.billing.payments import record_payment
from facturo.context import Context
from facturo.models import Customer, Document, TaxEvidence
from facturo.testing import logged_in_cookies, make_catalog, make_customer
from tests.web.conftest import CSRF, new_proforma, new_staff, staff_client


def french_card_invoice(ctx: Context) -> int:
    customer = make_customer(ctx)
    proforma = new_proforma(ctx, customer)
    with ctx.db.transaction() as session:
        document = session.get(Document, proforma.id)
        record_payment(
            session,
            ctx,
            document,
            "ruralvia",
            "o-1",
            Decimal("121.00"),
            "EUR",
            ctx.now(),
            payer_country="250",
        )
    return proforma.id


def test_conflicts_are_listed_and_reviewed_with_a_note(
    make_context: Callable[..., Context], serve: Callable[[Context], str]
) -> None:
    ctx = make_context()
    url = serve(ctx)
    document_id = french_card_invoice(ctx)
    with staff_client(ctx, url, new_staff(ctx, "billing")) as http:
        dashboard = http.get("/admin/")
        assert dashboard.status_code == 200
        assert f"/admin/documents/{document_id}#evidence" in dashboard.text
        page = http.get(f"/admin/documents/{document_id}")
        assert "disagree" in page.text and "FR" in page.text
        empty = http.post(
            f"/admin/documents/{document_id}/evidence", data={"csrf_token": CSRF, "note": " "}
        )
        assert empty.status_code == 400 and 'id="err-note"' in empty.text
        with ctx.db.read_session() as session:
            row = session.scalar(select(TaxEvidence))
            assert row is not None and row.reviewed_at is None
        done = http.post(
            f"/admin/documents/{document_id}/evidence",
            data={"csrf_token": CSRF, "note": "Lives in Madrid; card from a French bank"},
        )
        assert done.status_code == 303
        assert f"/admin/documents/{document_id}#evidence" not in http.get("/admin/").text
    with staff_client(ctx, url, new_staff(ctx, "support", "s@example.com")) as http:
        refused = http.post(
            f"/admin/documents/{document_id}/evidence", data={"csrf_token": CSRF, "note": "x"}
        )
        assert refused.status_code == 403


def test_withdrawal_pages_in_english_refusals_and_other_customers(
    make_context: Callable[..., Context], serve: Callable[[Context], str]
) -> None:
    from facturo.billing.consent import checkout_consent
    from facturo.billing.orders import place_order
    from facturo.models import Product

    ctx = make_context()
    url = serve(ctx)
    make_catalog(ctx)
    john = make_customer(ctx, email="john@example.com", language="en")
    other = make_customer(ctx, email="eve@example.com")
    ids = []
    for ticked in (False, True):
        with ctx.db.transaction() as session:
            owner = session.get(Customer, john.id)
            product = session.scalar(select(Product).where(Product.code == "licence"))
            assert owner is not None and product is not None
            consent = checkout_consent(ctx, owner, ticked)
            _, document = place_order(session, ctx, owner, product, "annual", consent=consent)
            ids.append(document.id)
    free, consented = ids
    cookies = logged_in_cookies(ctx, customer=john, csrf=CSRF)
    headers = {"Accept-Language": "en"}
    with httpx.Client(base_url=url, cookies=cookies, headers=headers) as http:
        page = http.get(f"/client/documents/{free}/withdraw")
        assert page.status_code == 200
        assert "Your withdrawal statement" in page.text and "Confirm withdrawal" in page.text
        assert "john@example.com" in page.text
        refused = http.post(f"/client/documents/{consented}/withdraw", data={"csrf_token": CSRF})
        assert refused.status_code == 409
        assert "asked for immediate supply" in refused.text
        no_csrf = http.post(f"/client/documents/{free}/withdraw", data={})
        assert no_csrf.status_code == 403
        done = http.post(f"/client/documents/{free}/withdraw", data={"csrf_token": CSRF})
        assert done.status_code == 303
        again = http.get(f"/client/documents/{free}/withdraw")
        assert "already withdrawn" in again.text
        terms = http.get("/public/terms")
        assert terms.status_code == 200 and "Right of withdrawal" in terms.text
    eve = logged_in_cookies(ctx, customer=other, csrf=CSRF)
    with httpx.Client(base_url=url, cookies=eve) as http:
        assert http.get(f"/client/documents/{consented}/withdraw").status_code == 404
        stolen = http.post(f"/client/documents/{consented}/withdraw", data={"csrf_token": CSRF})
        assert stolen.status_code == 404
