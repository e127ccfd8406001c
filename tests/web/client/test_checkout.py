"""The short path to a paid licence over HTTP: the order review, placing and paying in one
click, the verification link that signs in, and the thank-you with the licence key."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from decimal import Decimal

import httpx
from sqlalchemy import func, select

from facturo.billing.payments import record_payment
from facturo.models import Customer, Document, OutboxMessage, Payment, Service
from facturo.testing import drain, make_catalog
from facturo.web.client_auth import mark_verified
from tests.web.client.conftest import Site, csrf_from, logged_in, make_customer

EN = {"Accept-Language": "en"}


def _count(site: Site, model: type) -> int:
    with site.ctx.db.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _post(client: httpx.Client, path: str, data: dict[str, object]) -> httpx.Response:
    token = csrf_from(client.get("/client/catalog").text)
    return client.post(path, data={**data, "csrf_token": token})


def _choices(licence_id: int, addon_ids: list[int], cycle: str = "annual") -> dict[str, object]:
    data: dict[str, object] = {"product": licence_id, "cycle": cycle, "label": "shop.example"}
    for addon_id in addon_ids:
        data[f"addon_{licence_id}_{addon_id}"] = f"{addon_id}:annual"
    return data


def test_review_shows_the_bill_place_order_would_make_and_keeps_nothing(site: Site) -> None:
    licence, addons = make_catalog(site.ctx)
    client = logged_in(site, make_customer(site.ctx, language="en"))
    catalog = client.get("/client/catalog").text
    assert 'action="/client/order/review"' in catalog
    page = _post(client, "/client/order/review", _choices(licence.id, [a.id for a in addons]))
    assert page.status_code == 200, page.text
    # 149 + 39 + 29 = 217.00 base, 45.57 VAT at 21 %, 262.57 in all: one billing period.
    assert "217.00" in page.text and "45.57" in page.text and "262.57" in page.text
    assert 'id="order-period"' in page.text and page.text.count("Supplier addon-") == 2
    assert "Licence — shop.example" in page.text
    # The review is a rehearsal: no service, no proforma, no email, no number used.
    assert _count(site, Document) == 0 and _count(site, Service) == 0
    assert _count(site, OutboxMessage) == 0
    # Without an online gateway the only way on is the usual order (pay later).
    assert "/client/order/pay" not in page.text and 'action="/client/order"' in page.text
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
    placed = client.post("/client/order", data=fields)
    assert placed.status_code == 303
    with site.ctx.db.read_session() as session:
        document = session.scalars(select(Document)).one()
        assert document.total == Decimal("262.57") and document.tax_total == Decimal("45.57")
        assert document.reference.endswith("000001")  # the review took no reference


def test_review_refuses_a_second_billing_period_and_bad_choices(site: Site) -> None:
    licence, addons = make_catalog(site.ctx)
    client = logged_in(site, make_customer(site.ctx, language="en"))
    client.headers.update(EN)
    mixed = _post(
        client, "/client/order/review", _choices(licence.id, [addons[0].id], cycle="monthly")
    )
    assert mixed.status_code == 400 and "billed for one period" in mixed.text
    for bad in ({"product": "x", "cycle": "annual"}, {"product": licence.id, "cycle": "weekly"}):
        refused = _post(client, "/client/order/review", bad)
        assert refused.status_code == 400 and "cannot be placed" in refused.text
    assert _count(site, Document) == 0 and _count(site, Service) == 0


def test_unverified_customer_cannot_review_or_pay(site: Site) -> None:
    licence, _addons = make_catalog(site.ctx)
    client = logged_in(site, make_customer(site.ctx, verified=False, language="en"))
    for path in ("/client/order/review", "/client/order/pay"):
        refused = _post(client, path, {**_choices(licence.id, []), "gateway": "ruralvia"})
        assert refused.status_code == 403 and "Verify your email address" in refused.text
    assert _count(site, Document) == 0


def test_pay_by_card_places_the_order_and_posts_straight_to_the_bank(
    site_factory: Callable[..., Site],
) -> None:
    site = site_factory(plugins=("transfer", "ruralvia"))
    licence, addons = make_catalog(site.ctx)
    client = logged_in(site, make_customer(site.ctx, language="en"))
    review = _post(client, "/client/order/review", _choices(licence.id, [addons[0].id]))
    assert 'action="/client/order/pay"' in review.text and 'value="ruralvia"' in review.text
    assert "Order and pay now: Card (Ruralvía)" in review.text
    unknown = _post(client, "/client/order/pay", {**_choices(licence.id, []), "gateway": "nope"})
    assert unknown.status_code == 400 and _count(site, Document) == 0
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', review.text.split("order/pay")[1]))
    assert fields["gateway"] == "ruralvia"
    page = client.post("/client/order/pay", data=fields)
    assert page.status_code == 200, page.text
    # The gateway's signed form, posting to its payment page, submitted by itself.
    assert re.search(
        r'<form method="post" action="[^"]*/sis/realizarPago" data-autosubmit', page.text
    )
    assert "Ds_MerchantParameters" in page.text and "autosubmit.js" in page.text
    with site.ctx.db.read_session() as session:
        document = session.scalars(select(Document)).one()
        assert document.status == "unpaid" and document.total == Decimal("227.48")
        assert document.reference in page.text
        assert session.scalar(select(func.count()).select_from(Payment)) == 0


def test_verification_link_signs_in_once(site: Site) -> None:
    site_customer = make_customer(
        site.ctx, email="fresh@example.com", verified=False, language="en"
    )
    link = smtp_link_for(site, site_customer.id)
    browser = site.client(headers=EN)
    first = browser.get(link)
    assert first.status_code == 303 and first.headers["location"] == "/client/catalog"
    catalog = browser.get("/client/catalog")
    assert catalog.status_code == 200 and "you are signed in" in catalog.text
    assert 'name="csrf_token"' in catalog.text
    # Opened again (anywhere), it signs nobody in.
    again = site.client(headers=EN)
    second = again.get(link)
    assert second.status_code == 200 and "Your email address is verified." in second.text
    assert again.get("/client/").status_code in (302, 303)
    with site.ctx.db.read_session() as session:
        customer = session.get(Customer, site_customer.id)
        assert customer is not None and customer.is_verified


def smtp_link_for(site: Site, customer_id: int) -> str:
    """A fresh verification link for the customer (what the email carries)."""
    from facturo.accounts.tokens import make_verify_token

    with site.ctx.db.read_session() as session:
        customer = session.get(Customer, customer_id)
        assert customer is not None
        return f"/client/verify/{make_verify_token(site.ctx, customer)}"


def test_only_one_of_simultaneous_verifications_signs_in(site: Site) -> None:
    made = make_customer(site.ctx, email="race@example.com", verified=False)
    barrier = threading.Barrier(4)
    results: list[bool] = []
    lock = threading.Lock()

    def verify() -> None:
        barrier.wait(timeout=10)
        with site.ctx.db.transaction() as session:
            customer = session.get(Customer, made.id)
            assert customer is not None
            won = mark_verified(session, site.ctx, customer)
        with lock:
            results.append(won)

    threads = [threading.Thread(target=verify) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [False, False, False, True]


def test_thank_you_shows_the_licence_key_and_the_email_carries_it(
    site_factory: Callable[..., Site],
) -> None:
    site = site_factory(plugins=("transfer", "prestaimport_license"))
    licence, _addons = make_catalog(site.ctx, provisioner="prestaimport_license")
    customer = make_customer(site.ctx, language="en")
    client = logged_in(site, customer)
    placed = _post(client, "/client/order", _choices(licence.id, []))
    document_id = int(placed.headers["location"].rsplit("/", 1)[1])
    with site.ctx.db.transaction() as session:
        document = session.get(Document, document_id)
        assert document is not None
        record_payment(
            session,
            site.ctx,
            document,
            "transfer",
            "REF-1",
            document.balance,
            "EUR",
            site.ctx.now(),
        )
    waiting = client.get(f"/client/documents/{document_id}/status").text
    assert 'id="preparing"' in waiting and "refresh.js" in waiting
    drain(site.ctx)
    page = client.get(f"/client/documents/{document_id}/status").text
    assert 'id="preparing"' not in page and "refresh.js" not in page
    key = re.search(r'<code class="key" id="licence-key-\d+">([A-Z0-9-]+)</code>', page)
    assert key, page
    with site.ctx.db.read_session() as session:
        emails = list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.template == "licence_ready")
                .order_by(OutboxMessage.id)
            )
        )
    assert len(emails) == 1 and key.group(1) in emails[0].text_body
    assert emails[0].subject == "Your PrestaImport GUI licence"
    # Another customer's document stays a 404.
    other = logged_in(site, make_customer(site.ctx, email="other@example.com"))
    assert other.get(f"/client/documents/{document_id}/status").status_code == 404


def test_a_form_with_errors_opens_on_its_error_summary(site: Site) -> None:
    client = site.client(headers=EN)
    token = csrf_from(client.get("/client/register").text)
    page = client.post("/client/register", data={"email": "nope", "csrf_token": token})
    assert page.status_code == 400
    summary = re.search(r'<div class="error-summary" id="error-summary"[^>]*>', page.text)
    assert summary and "autofocus" in summary.group(0) and 'tabindex="-1"' in summary.group(0)
    assert "Check the following:" in page.text and "Enter a valid email address." in page.text
    assert 'src="/static/focus-error.js"' in page.text
    assert 'id="error-summary"' not in client.get("/client/register").text


def test_review_and_bank_pages_have_no_leftovers_in_either_language(
    site_factory: Callable[..., Site],
) -> None:
    """The review and the going-to-the-bank pages are POST answers the leftovers crawl cannot
    reach: the same checker reads them here, in Spanish and in English."""
    from tests.web.test_leftovers import problems_of

    site = site_factory(plugins=("transfer", "ruralvia"))
    licence, addons = make_catalog(site.ctx)
    for language in ("es", "en"):
        customer = make_customer(site.ctx, email=f"{language}@example.com", language=language)
        client = logged_in(site, customer)
        review = _post(client, "/client/order/review", _choices(licence.id, [addons[0].id]))
        user_data = [customer.name, "shop.example", "Licencia", "Licence", "addon-a"]
        found, _links = problems_of(review.text, language, user_data)
        assert found == [], (language, found)
        fields = dict(
            re.findall(r'name="([^"]+)" value="([^"]*)"', review.text.split("order/pay")[1])
        )
        bank = client.post("/client/order/pay", data=fields)
        found, _links = problems_of(bank.text.split("<form method")[0], language, user_data)
        assert found == [], (language, found)
