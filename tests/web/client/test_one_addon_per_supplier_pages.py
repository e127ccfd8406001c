"""The order form offers one choice per supplier; the service page hides suppliers already on
the licence; duplicates are refused with a message and write nothing (issue 16, point 1)."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from facturo.models import Document, Service
from facturo.testing import make_catalog
from tests.web.client.conftest import Site, logged_in, make_customer, post_form
from tests.web.client.test_billing_pages import _order, _pay


def _rows(site: Site) -> tuple[int, int]:
    with site.ctx.db.read_session() as session:
        return (
            int(session.scalar(select(func.count()).select_from(Service)) or 0),
            int(session.scalar(select(func.count()).select_from(Document)) or 0),
        )


def test_the_order_form_offers_one_choice_per_supplier(site: Site) -> None:
    licence, addons = make_catalog(site.ctx)
    client = logged_in(site, make_customer(site.ctx, language="en"))
    page = client.get("/client/catalog").text
    assert 'type="checkbox" name="addon_' not in page
    for addon in addons:
        group = re.findall(
            rf'type="radio" name="addon_{licence.id}_{addon.id}" value="([^"]*)"', page
        )
        assert group == ["", f"{addon.id}:annual"]  # "none" or its one cycle


def test_an_order_naming_a_supplier_twice_is_refused_and_writes_nothing(site: Site) -> None:
    licence, addons = make_catalog(site.ctx)
    client = logged_in(site, make_customer(site.ctx, language="en"))
    twice = {
        "product": licence.id,
        "cycle": "annual",
        f"addon_{licence.id}": [f"{addons[0].id}:annual", f"{addons[0].id}:annual"],
    }
    response = post_form(client, "/client/order", twice, page="/client/catalog")
    assert response.status_code == 400
    assert "You chose Supplier addon-a more than once" in response.text
    assert _rows(site) == (0, 0)
    # The radio field and the older list field naming the same add-on are a duplicate too.
    mixed = {
        "product": licence.id,
        "cycle": "annual",
        f"addon_{licence.id}": f"{addons[0].id}:annual",
        f"addon_{licence.id}_{addons[0].id}": f"{addons[0].id}:annual",
    }
    spanish = logged_in(site, make_customer(site.ctx, email="es@example.com", language="es"))
    response = post_form(spanish, "/client/order", mixed, page="/client/catalog")
    assert response.status_code == 400
    assert "Has elegido Proveedor addon-a más de una vez" in response.text
    assert _rows(site) == (0, 0)
    one_each = {
        "product": licence.id,
        "cycle": "annual",
        f"addon_{licence.id}_{addons[0].id}": f"{addons[0].id}:annual",
        f"addon_{licence.id}_{addons[1].id}": "",
    }
    assert post_form(client, "/client/order", one_each, page="/client/catalog").status_code == 303
    assert _rows(site) == (2, 1)


def test_the_service_page_hides_suppliers_already_on_the_licence(site: Site) -> None:
    licence, addons = make_catalog(site.ctx)
    client = logged_in(site, make_customer(site.ctx, language="en"))
    first = _order(site, client, licence, addons[:1])
    page = client.get("/client/services/1").text
    assert "Add an add-on" not in page and "Pay this service" in page  # licence not paid yet
    _pay(site, first)
    with site.ctx.db.read_session() as session:
        main = session.scalars(select(Service).where(Service.parent_id.is_(None))).one()
    form = client.get(f"/client/services/{main.id}").text.split("Add an add-on")[1]
    assert "Supplier addon-a" not in form and "Supplier addon-b" in form
    before = _rows(site)
    again = post_form(
        client, f"/client/services/{main.id}/addons", {"addon": f"{addons[0].id}:annual"}
    )
    assert again.status_code == 400
    assert "This licence already has Supplier addon-a" in again.text
    assert _rows(site) == before
    ordered = post_form(
        client, f"/client/services/{main.id}/addons", {"addon": f"{addons[1].id}:annual"}
    )
    assert ordered.status_code == 303
    assert "Add an add-on" not in client.get(f"/client/services/{main.id}").text  # none left
    pending_twice = post_form(
        client, f"/client/services/{main.id}/addons", {"addon": f"{addons[1].id}:annual"}
    )
    assert pending_twice.status_code == 400 and "already has Supplier addon-b" in pending_twice.text


def test_an_addon_for_an_unpaid_licence_is_refused_with_the_reason(site: Site) -> None:
    licence, addons = make_catalog(site.ctx)
    client = logged_in(site, make_customer(site.ctx, language="en"))
    document_id = _order(site, client, licence, [])
    with site.ctx.db.read_session() as session:
        main = session.scalars(select(Service)).one()
        document = session.get(Document, document_id)
        assert document is not None
        reference = document.reference
    response = post_form(
        client, f"/client/services/{main.id}/addons", {"addon": f"{addons[0].id}:annual"}
    )
    assert response.status_code == 400
    assert "This licence is not paid yet" in response.text and reference in response.text
    assert _rows(site) == (1, 1)
