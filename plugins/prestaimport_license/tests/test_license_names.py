"""Names people read (#16.6): a supplier created by the first purchase takes its names in both
languages (not the product's English name everywhere), staff name suppliers in both languages,
and licences are named by their shop label or host instead of ``lic_2``."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from facturo.plugin import Service
from facturo.testing import logged_in_cookies, make_catalog, make_customer
from facturo_prestaimport_license.models import Licence, Supplier
from facturo_prestaimport_license.service import current_key
from facturo_prestaimport_license.testing import Live, body, order, pay, payload

PLUGIN = "prestaimport_license"
CSRF = "test-csrf-token"


def _client(live: Live, **who: object) -> httpx.Client:
    return httpx.Client(
        base_url=str(live.http.base_url),
        cookies=logged_in_cookies(live.ctx, csrf=CSRF, **who),  # type: ignore[arg-type]
        follow_redirects=False,
    )


def test_first_purchase_names_the_supplier_in_both_languages(live: Live) -> None:
    ctx = live.ctx
    make_catalog(ctx, provisioner=PLUGIN)  # add-on A: "Proveedor addon-a" / "Supplier addon-a"
    spanish = make_customer(ctx)
    licence_service_id, document_id = order(ctx, spanish)
    with ctx.db.transaction() as session:
        service = session.get(Service, licence_service_id)
        assert service is not None
        service.label = "tienda.example.es"
    pay(ctx, document_id, "t-1")
    with ctx.db.read_session() as session:
        supplier = session.scalars(select(Supplier)).one()
        assert (supplier.name, supplier.label("en")) == ("Proveedor addon-a", "Supplier addon-a")
        licence = session.scalars(select(Licence)).one()
        key = current_key(session, ctx, licence)
    assert key is not None

    with _client(live, customer=spanish) as client:
        page = client.get("/client/licences").text  # the customer's language: Spanish
        dashboard = client.get("/client/").text
    assert "Proveedor addon-a" in page and "Supplier addon-a" not in page
    assert "Licencia tienda.example.es" in page and "lic_" not in page
    assert "tienda.example.es" in dashboard and "lic_" not in dashboard
    with ctx.db.transaction() as session:
        from facturo.plugin import Customer

        row = session.get(Customer, spanish.id)
        assert row is not None
        row.language = "en"
    with _client(live, customer=spanish) as client:
        english = client.get("/client/licences").text
    assert "Supplier addon-a" in english and "Proveedor addon-a" not in english
    assert "Licence tienda.example.es" in english

    lease = payload(live.validate(body(key)))
    assert [addon["name"] for addon in lease["addons"]] == ["Proveedor addon-a"]

    # Once bound, the licence is named by its shop's host.
    with _client(live, customer=spanish) as client:
        bound = client.get("/client/licences").text
    heading = re.search(r"<h2>Licence ([^ <]+)", bound)
    assert heading is not None and heading.group(1).endswith("example-shop.com")


def test_staff_name_suppliers_in_both_languages(live: Live) -> None:
    from facturo.accounts.customers import create_staff

    with live.ctx.db.transaction() as session:
        staff, _ = create_staff(session, "sam@example.com", "Sam", "support", "a long password 123")
    with _client(live, staff=staff) as client:
        saved = client.post(
            "/admin/licences/suppliers",
            data={
                "csrf_token": CSRF,
                "code": "globomatik",
                "name": "Globomatik España",
                "name_en": "Globomatik Spain",
            },
        )
        assert saved.status_code == 303
        page = client.get("/admin/licences/suppliers").text
    assert "Globomatik España" in page and "Globomatik Spain" in page
    with live.ctx.db.read_session() as session:
        supplier = session.scalars(select(Supplier).where(Supplier.code == "globomatik")).one()
    assert supplier.label("es") == "Globomatik España"
    assert supplier.label("en") == "Globomatik Spain"
