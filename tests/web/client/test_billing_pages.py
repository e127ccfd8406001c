"""Catalog, ordering, documents, PDF, payment state, history, services; others' ids are 404."""

from __future__ import annotations

import re

from sqlalchemy import select

from facturo.billing.payments import record_payment
from facturo.models import Document, Payment, Service
from facturo.testing import make_catalog
from tests.web.client.conftest import Site, logged_in, make_customer, post_form

EN = {"Accept-Language": "en"}


def _order(site: Site, client, licence, addons) -> int:  # type: ignore[no-untyped-def]
    response = post_form(
        client,
        "/client/order",
        {
            "product": licence.id,
            "cycle": "annual",
            f"addon_{licence.id}": [f"{a.id}:annual" for a in addons],
            "label": "shop.example.com",
        },
        page="/client/catalog",
    )
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/client/documents/(\d+)", response.headers["location"])
    assert match
    return int(match.group(1))


def _pay(site: Site, document_id: int, ref: str = "BANKREF-1") -> None:
    with site.ctx.db.transaction() as session:
        doc = session.get(Document, document_id)
        assert doc is not None
        record_payment(session, site.ctx, doc, "transfer", ref, doc.balance, "EUR", site.ctx.now())


def test_catalog_prices_with_the_customers_tax(site: Site) -> None:
    make_catalog(site.ctx)
    spain = logged_in(site, make_customer(site.ctx, language="en"))
    page = spain.get("/client/catalog").text
    assert "€180.29" in page or "180.29" in page  # 149.00 + 21 % IVA
    assert "Supplier addon-a" in page and "47.19" in page  # 39.00 + 21 %
    abroad = logged_in(
        site,
        make_customer(site.ctx, email="us@example.com", country="US", tax_id="", language="en"),
    )
    page = abroad.get("/client/catalog").text
    assert "149.00" in page and "180.29" not in page


def test_order_with_addons_pay_and_see_invoice(site: Site) -> None:
    licence, addons = make_catalog(site.ctx)
    client = logged_in(site, make_customer(site.ctx, language="en"))
    document_id = _order(site, client, licence, addons)
    page = client.get(f"/client/documents/{document_id}")
    assert page.status_code == 200
    assert "Your order has been placed" in page.text and "Proforma" in page.text
    assert "Supplier addon-a" in page.text and "Supplier addon-b" in page.text
    assert "262.57" in page.text  # (149 + 39 + 29) × 1.21
    assert 'id="pay"' in page.text and "transfer" in page.text.lower()
    with site.ctx.db.read_session() as session:
        services = list(session.scalars(select(Service)))
    assert len(services) == 3 and {s.status for s in services} == {"pending"}
    waiting = client.get(f"/client/documents/{document_id}/status")
    assert "Waiting for confirmation from the bank" in waiting.text
    assert 'src="/static/refresh.js" data-seconds="5"' in waiting.text
    assert "<noscript><p><a href=" in waiting.text  # without scripts: a link to check again
    dashboard = client.get("/client/").text
    assert f'href="/client/documents/{document_id}#pay"' in dashboard
    _pay(site, document_id)
    paid = client.get(f"/client/documents/{document_id}/status")
    with site.ctx.db.read_session() as session:
        doc = session.get(Document, document_id)
        assert doc is not None and doc.number
        number = doc.number
    assert f"Paid. Your invoice number is {number}." in paid.text
    assert "refresh.js" not in paid.text
    invoice = client.get(f"/client/documents/{document_id}").text
    assert number in invoice and 'id="pay"' not in invoice
    pdf = client.get(f"/client/documents/{document_id}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    assert "attachment" in pdf.headers["content-disposition"]
    services_page = client.get("/client/services").text
    assert services_page.count('class="status active"') == 3
    history = client.get("/client/payments").text
    assert "BANKREF-1" in history and number in history and "262.57" in history
    listing = client.get("/client/documents?status=paid").text
    assert number in listing
    assert number not in client.get("/client/documents?status=unpaid").text


def test_bad_orders_change_nothing(site: Site) -> None:
    licence, addons = make_catalog(site.ctx)
    client = logged_in(site, make_customer(site.ctx, language="en"))
    for data in (
        {"product": licence.id, "cycle": "weekly"},
        {"product": "999", "cycle": "annual"},
        {"product": "abc"},
        {"product": addons[0].id, "cycle": "annual"},
        {"product": licence.id, "cycle": "annual", f"addon_{licence.id}": "999:annual"},
    ):
        response = post_form(client, "/client/order", data, page="/client/catalog")
        assert response.status_code == 400, data
        assert "This order cannot be placed" in response.text
    no_csrf = client.post("/client/order", data={"product": licence.id, "cycle": "annual"})
    assert no_csrf.status_code == 403
    with site.ctx.db.read_session() as session:
        assert session.scalars(select(Document)).first() is None
        assert session.scalars(select(Service)).first() is None


def test_addon_for_existing_service(site: Site) -> None:
    licence, addons = make_catalog(site.ctx)
    client = logged_in(site, make_customer(site.ctx, language="en"))
    first = _order(site, client, licence, [])
    _pay(site, first)
    with site.ctx.db.read_session() as session:
        main = session.scalars(select(Service)).one()
    page = client.get(f"/client/services/{main.id}")
    assert page.status_code == 200 and "Add an add-on" in page.text
    assert "Licence" in page.text and "active" in page.text
    bad = post_form(client, f"/client/services/{main.id}/addons", {"addon": f"{licence.id}:annual"})
    assert bad.status_code == 400 and "cannot be ordered" in bad.text
    ok = post_form(
        client, f"/client/services/{main.id}/addons", {"addon": f"{addons[1].id}:annual"}
    )
    assert ok.status_code == 303
    with site.ctx.db.read_session() as session:
        addon_service = session.scalars(select(Service).where(Service.parent_id == main.id)).one()
    assert addon_service.product_id == addons[1].id
    assert "Supplier addon-b" in client.get(f"/client/services/{main.id}").text


def test_another_customers_ids_are_404(site: Site) -> None:
    licence, addons = make_catalog(site.ctx)
    owner = logged_in(site, make_customer(site.ctx, language="en"))
    document_id = _order(site, owner, licence, addons[:1])
    _pay(site, document_id)
    with site.ctx.db.read_session() as session:
        service_id = session.scalars(select(Service.id)).first()
        payment_id = session.scalars(select(Payment.id)).one()
    intruder = logged_in(site, make_customer(site.ctx, email="eve@example.com", language="en"))
    for path in (
        f"/client/documents/{document_id}",
        f"/client/documents/{document_id}/pdf",
        f"/client/documents/{document_id}/status",
        f"/client/services/{service_id}",
        "/client/documents/abc",
        "/client/services/99999",
    ):
        response = intruder.get(path)
        assert response.status_code == 404, path
    post = post_form(
        intruder, f"/client/services/{service_id}/addons", {"addon": f"{addons[1].id}:annual"}
    )
    assert post.status_code == 404
    assert "BANKREF-1" not in intruder.get("/client/payments").text
    assert f"/client/documents/{document_id}" not in intruder.get("/client/documents").text
    assert str(payment_id)  # the payment exists, yet only its owner sees it
    with site.ctx.db.read_session() as session:
        assert len(list(session.scalars(select(Service)))) == 2


def test_security_headers_and_escaping(site: Site) -> None:
    customer = make_customer(site.ctx, email="x@example.com", language="en")
    with site.ctx.db.transaction() as session:
        from facturo.models import Customer

        row = session.get(Customer, customer.id)
        assert row is not None
        row.name = "<script>alert(1)</script>"
    client = logged_in(site, customer)
    for path in ("/client/login", "/client/"):
        response = client.get(path)
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"]
    page = client.get("/client/").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_invoice_and_credit_note_pages_show_what_their_pdfs_show(site: Site) -> None:
    from datetime import date
    from decimal import Decimal

    from facturo.billing.documents import LineSpec, create_credit_note, create_proforma
    from facturo.models import Customer

    owner = make_customer(site.ctx, language="es")
    period = {"period_start": date(2026, 3, 2), "period_end": date(2027, 3, 1)}
    with site.ctx.db.transaction() as session:
        who = session.get(Customer, owner.id)
        assert who is not None
        document = create_proforma(
            session, site.ctx, who, [LineSpec("Licencia", Decimal("1234.56"), **period)]
        )
        document_id = document.id
    _pay(site, document_id)
    with site.ctx.db.transaction() as session:
        invoice = session.get(Document, document_id)
        assert invoice is not None
        note_id = create_credit_note(session, site.ctx, invoice, None, "Pedido duplicado").id
    client = logged_in(site, owner)
    page = client.get(f"/client/documents/{document_id}").text
    assert page.count("28001 Madrid (ES)") == 2 and "Madrid Madrid" not in page
    assert "Periodo: 02/03/2026 – 01/03/2027" in page
    assert "1.234,56\xa0€" in page and "Pagado 02/03/2026 11:00" in page
    note = client.get(f"/client/documents/{note_id}").text
    link = f'<a href="/client/documents/{document_id}">F2026-000001</a>'
    assert f"Rectifica la factura: {link} (02/03/2026)" in note  # linked to the invoice
    assert "Motivo: Pedido duplicado" in note
