"""The add-on chooser shows what a co-termed add-on costs until the licence's due date, in
Spanish and English, and the bill it places states that period (issue 21, point 3)."""

from __future__ import annotations

import html
import re
from contextlib import closing
from datetime import date

import httpx

from facturo.models import Product
from facturo.testing import make_catalog
from tests.billing.conftest import active_service
from tests.web.client.conftest import Site, logged_in, make_customer, post_form


def _text(client: httpx.Client, path: str) -> str:
    """The page at ``path`` as plain text (entities decoded, no-break spaces as spaces)."""
    return html.unescape(client.get(path).text).replace("\xa0", " ")


def _order(client: httpx.Client, service_id: int, addon: Product) -> str:
    """Order ``addon`` from the service page's form; return the bill's page as text."""
    page = _text(client, f"/client/services/{service_id}")
    option = re.search(rf'value="({addon.id}:annual)"', page)
    assert option
    path = f"/client/services/{service_id}/addons"
    response = post_form(client, path, {"addon": option.group(1)}, page="/client/")
    assert response.status_code == 303, response.text
    return _text(client, response.headers["location"])


def test_addon_chooser_quotes_until_the_due_date_and_the_bill_states_the_period(
    site: Site,
) -> None:
    licence, addons = make_catalog(site.ctx)
    # Today is 2 Mar 2026 (the test clock); the licence is due 12 Jun 2026, with no bill on
    # record, so its period is 12 Jun 2025 – 11 Jun 2026 (365 days), 102 days of it left.
    # Supplier addon-b, 29.00 a year: 29.00 × 102 / 365 = 8.10 + 21 % IVA 1.70 = 9.80.
    spanish = make_customer(site.ctx, language="es")
    parent = active_service(site.ctx, spanish, licence, date(2026, 6, 12))
    with closing(logged_in(site, spanish)) as client:
        page = _text(client, f"/client/services/{parent}")
        assert "Proveedor addon-b — 9,80 € hasta el 11/06/2026; después, 35,09 € (Anual)" in page
        assert "Los complementos se cobran solo por los días que faltan" in page
        bill = _order(client, parent, addons[1])
        assert "Periodo: 02/03/2026 – 11/06/2026" in bill and "9,80 €" in bill

    english = make_customer(site.ctx, email="en@example.com", language="en")
    other = active_service(site.ctx, english, licence, date(2026, 6, 12))
    with closing(logged_in(site, english)) as client:
        page = _text(client, f"/client/services/{other}")
        assert "Supplier addon-b — €9.80 until 11 Jun 2026, then €35.09 (Annual)" in page
        bill = _order(client, other, addons[1])
        assert "Period: 2 Mar 2026 – 11 Jun 2026" in bill
        assert "€9.80" in bill and "€8.10" in bill
