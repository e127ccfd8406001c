"""The licence panel of the client dashboard follows every change on the next request, though
the page is served from a cache: add-ons switched off, running out with the clock, a shop
bound to the licence."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update

from facturo.plugin import Context, Customer
from facturo.testing import AppClient, Clock, logged_in_cookies
from facturo.web.app import create_app
from facturo_prestaimport_license.models import Addon, ShopBindingRow
from facturo_prestaimport_license.testing import T0, seed_licence


def client_of(ctx: Context, app: Any, customer_id: int) -> httpx.Client:
    """A browser logged in as the customer (a new session) on ``app``."""
    with ctx.db.read_session() as session:
        customer = session.get(Customer, customer_id)
        assert customer is not None
    return AppClient(app, cookies=logged_in_cookies(ctx, customer=customer))


def panel(client: httpx.Client) -> str:
    response = client.get("/client/")  # in Spanish, the customers' language
    assert response.status_code == 200, response.text
    start = response.text.index("<h2>Licencias</h2>")
    return response.text[start : response.text.index("</section>", start)]


def test_licence_panel_follows_changes_and_time(lctx: Context, clock: Clock) -> None:
    seeded = seed_licence(
        lctx,
        {
            "ingram": {"active": True, "expires_at": T0 + timedelta(days=9)},
            "techdata": {"active": True, "expires_at": T0 + timedelta(days=90)},
        },
    )
    app = create_app(lctx)
    with client_of(lctx, app, seeded.customer_id) as client:
        assert "2/2 proveedores activos" in panel(client)
        assert "2/2 proveedores activos" in panel(client)  # served from the cache
    clock.set(T0 + timedelta(days=60))  # ingram ran out (and its grace period with it)
    with client_of(lctx, app, seeded.customer_id) as client:  # the old session idled out
        assert "1/2 proveedores activos" in panel(client)
        with lctx.db.transaction() as session:
            session.execute(
                update(Addon).where(Addon.id == seeded.addons["techdata"]).values(active=False)
            )
        assert "0/2 proveedores activos" in panel(client)
        assert f"Licencia {seeded.licence_id} · sin tienda" in panel(client)
        with lctx.db.transaction() as session:
            session.add(
                ShopBindingRow(
                    licence_id=seeded.licence_id,
                    platform="prestashop",
                    shop_id=None,
                    shop_host="www.example-shop.com",
                    shop_fp="f" * 64,
                    bound_at=lctx.now(),
                    bound_via="validation",
                )
            )
        text = panel(client)
        assert "www.example-shop.com · 0/2" in text and "sin tienda" not in text


def test_licence_panel_of_another_customer_is_not_shown(lctx: Context) -> None:
    ana = seed_licence(lctx, {"ingram": {"active": True, "expires_at": T0 + timedelta(days=9)}})
    eve = seed_licence(lctx, {}, email="eve@example.com")
    app = create_app(lctx)
    first, second = client_of(lctx, app, ana.customer_id), client_of(lctx, app, eve.customer_id)
    with first, second:
        assert "1/1 proveedores activos" in panel(first)
        assert "0/0 proveedores activos" in panel(second)
        assert f"Licencia {eve.licence_id}" in panel(second)
        assert f"Licencia {ana.licence_id}" not in panel(second)
