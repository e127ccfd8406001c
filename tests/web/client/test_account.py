"""Account editing: validation, saved data, issued invoices untouched; language setting."""

from __future__ import annotations

from decimal import Decimal

from facturo.billing.payments import record_payment
from facturo.models import Customer, Document
from tests.web.client.conftest import Site, logged_in, make_customer, post_form
from tests.web.conftest import new_proforma

PROFILE = {
    "name": "Ana García",
    "company": "Ana Software S.L.",
    "tax_id": "B12345674",
    "address": "Gran Vía 2",
    "postal_code": "28013",
    "city": "Madrid",
    "region": "Madrid",
    "country": "ES",
    "phone": "+34 600 000 000",
    "language": "en",
}


def test_account_edit_validates_and_keeps_issued_invoices(site: Site) -> None:
    customer = make_customer(site.ctx, language="en")
    proforma = new_proforma(site.ctx, customer)
    with site.ctx.db.transaction() as session:
        doc = session.get(Document, proforma.id)
        record_payment(
            session, site.ctx, doc, "transfer", "T-1", Decimal("121.00"), "EUR", site.ctx.now()
        )
    client = logged_in(site, customer)
    page = client.get("/client/account")
    assert page.status_code == 200 and 'value="Calle Mayor 1"' in page.text
    bad = post_form(client, "/client/account", {**PROFILE, "tax_id": "B12345670"})
    assert bad.status_code == 400
    assert "This tax id is not valid for the country chosen." in bad.text
    missing = post_form(client, "/client/account", {**PROFILE, "city": ""})
    assert missing.status_code == 400 and "This field is required." in missing.text
    with site.ctx.db.read_session() as session:
        row = session.get(Customer, customer.id)
        assert row is not None and row.address == "Calle Mayor 1"
    ok = post_form(client, "/client/account", PROFILE)
    assert ok.status_code == 303
    assert "Your details have been saved." in client.get("/client/account").text
    with site.ctx.db.read_session() as session:
        row = session.get(Customer, customer.id)
        assert row is not None and row.address == "Gran Vía 2" and row.tax_id == "B12345674"
        invoice = session.get(Document, proforma.id)
        assert invoice is not None and invoice.number
        assert invoice.customer_data is not None
        assert invoice.customer_data["address"] == "Calle Mayor 1"
    # The invoice page still shows the data it was issued with.
    assert "Calle Mayor 1" in client.get(f"/client/documents/{proforma.id}").text


def test_language_setting_accept_language_and_switch(site: Site) -> None:
    anonymous = site.client(headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "Log in" in anonymous.get("/client/login").text
    spanish = site.client(headers={"Accept-Language": "es-ES"})
    assert "Entrar" in spanish.get("/client/login").text
    switch = anonymous.get("/lang/es?next=/client/login")
    assert switch.status_code == 303 and switch.headers["location"] == "/client/login"
    page = anonymous.get("/client/login").text
    assert "Entrar" in page and 'href="/lang/en?next=/client/login"' in page
    customer = make_customer(site.ctx, email="en@example.com", language="en")
    client = logged_in(site, customer)
    client.headers["Accept-Language"] = "es"
    assert "Dashboard" in client.get("/client/").text  # the customer's setting wins
    for path in (
        "/client/",
        "/client/catalog",
        "/client/documents",
        "/client/payments",
        "/client/services",
        "/client/account",
    ):
        assert 'href="/lang/es?next=' in client.get(path).text, path
