"""The public price list: the site's front page, readable before registering."""

from __future__ import annotations

from collections.abc import Callable

from facturo.context import Context
from facturo.testing import AppClient, make_catalog
from facturo.web.app import create_app


def test_front_page_lists_products_and_prices_with_vat_before_login(
    make_context: Callable[..., Context],
) -> None:
    ctx = make_context()
    make_catalog(ctx)
    with AppClient(create_app(ctx), follow_redirects=True) as http:
        spanish = http.get("/", headers={"Accept-Language": "es"})
        assert spanish.status_code == 200 and str(spanish.url).endswith("/client/pricing")
        for expected in (
            "Productos y precios",
            "Licencia",
            "180,29\xa0€",  # 149.00 + 21 % VAT
            "149,00\xa0€",
            "Proveedor addon-a",
            "47,19\xa0€",  # 39.00 + 21 %
            'href="/client/register"',
            "21\xa0% de IVA para clientes en España",
        ):
            assert expected in spanish.text, expected
        english = http.get("/client/pricing", headers={"Accept-Language": "en"})
        assert "Products and prices" in english.text and "€180.29" in english.text
        assert "Supplier addon-a" in english.text
        assert "include 21% VAT for customers in Spain" in english.text
