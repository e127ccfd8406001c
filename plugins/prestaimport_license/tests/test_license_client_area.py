"""Client area and staff pages over real HTTP, and leases verified with the desktop client."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import httpx
from sqlalchemy import select

from facturo.plugin import Customer, Document, Product, Service
from facturo.testing import Clock, drain, logged_in_cookies, make_catalog, make_customer
from facturo_prestaimport_license.client import (
    Shop,
    normalize_key,
    public_keys_from_jwks,
    verify_lease,
    verify_response,
)
from facturo_prestaimport_license.models import Addon, Licence, ShopBindingRow, ShopMove
from facturo_prestaimport_license.testing import (
    OTHER_SHOP,
    SHOP,
    T0,
    Live,
    body,
    order,
    pay,
    payload,
    seed_licence,
)

CSRF = "test-csrf-token"


def client_for(live: Live, customer_id: int) -> httpx.Client:
    with live.ctx.db.read_session() as session:
        customer = session.get(Customer, customer_id)
        assert customer is not None
    return httpx.Client(
        base_url=str(live.http.base_url),
        cookies=logged_in_cookies(live.ctx, customer=customer, csrf=CSRF),
        follow_redirects=False,
    )


def ordered_licence(live: Live) -> tuple[int, str]:
    """A customer who bought and paid the licence with supplier A; returns (customer, key)."""
    make_catalog(live.ctx, provisioner="prestaimport_license")
    customer = make_customer(live.ctx)
    _, document_id = order(live.ctx, customer)
    pay(live.ctx, document_id, "t-1")
    return customer.id, ""


def test_licences_page_shows_key_shop_addons_in_both_languages(live: Live) -> None:
    seeded = seed_licence(
        live.ctx, {"ingram": {"active": True, "expires_at": T0 + timedelta(days=30)}}
    )
    payload(live.validate(body(seeded.key)))
    with client_for(live, seeded.customer_id) as client:
        page = client.get("/client/licences")
        assert page.status_code == 200
        assert seeded.key in page.text
        assert "example-shop.com" in page.text and "Ingram" in page.text
        assert "Copiar" in page.text and "data-copy" in page.text  # customer language: es
        assert "<script>" not in page.text
        # The plugin's static/ folder, served by convention (CSP: scripts from 'self' only).
        assert '<script src="/static/plugins/prestaimport_license/copy.js">' in page.text
    script = live.http.get("/static/plugins/prestaimport_license/copy.js")
    assert script.status_code == 200 and "clipboard" in script.text
    assert script.headers["content-type"].startswith("text/javascript")


def test_other_customers_licence_is_404(live: Live) -> None:
    seeded = seed_licence(live.ctx)
    other = make_customer(live.ctx, email="eve@example.com")
    with client_for(live, other.id) as client:
        response = client.post(
            f"/client/licences/{seeded.licence_id}/regenerate", data={"csrf_token": CSRF}
        )
    assert response.status_code == 404
    assert payload(live.validate(body(seeded.key)))["code"] == "VALID"


def test_regenerate_key_replaces_the_old_one(live: Live) -> None:
    seeded = seed_licence(live.ctx)
    with client_for(live, seeded.customer_id) as client:
        response = client.post(
            f"/client/licences/{seeded.licence_id}/regenerate",
            data={"csrf_token": CSRF, "confirm": "yes"},
        )
        assert response.status_code == 303
        page = client.get("/client/licences").text
    assert seeded.key not in page
    assert payload(live.validate(body(seeded.key)))["code"] == "KEY_REPLACED"
    with live.ctx.db.read_session() as session:
        from facturo_prestaimport_license.service import current_key

        licence = session.get(Licence, seeded.licence_id)
        assert licence is not None
        new_key = current_key(session, live.ctx, licence)
    assert new_key is not None and new_key in page
    assert payload(live.validate(body(new_key)))["code"] == "VALID"


def test_moves_are_limited_per_year_with_a_cooldown(live: Live, clock: Clock) -> None:
    seeded = seed_licence(live.ctx)
    shops = [SHOP, OTHER_SHOP, {"platform": "prestashop", "url": "third.example"}, SHOP, OTHER_SHOP]

    def move(client: httpx.Client) -> str:
        response = client.post(
            f"/client/licences/{seeded.licence_id}/move",
            data={"csrf_token": CSRF, "confirm": "yes"},
        )
        assert response.status_code == 303
        return client.get("/client/licences").text

    with client_for(live, seeded.customer_id) as client:
        assert "aún no está vinculada" in move(client)  # nothing to move yet
        assert payload(live.validate(body(seeded.key, shop=shops[0])))["code"] == "VALID"
        for number, shop in enumerate(shops[1:4], start=1):
            move(client)
            data = payload(live.validate(body(seeded.key, shop=shop)))
            assert data["code"] == "VALID", number
            assert data["binding"]["rebinds_left"] == 3 - number
            # A second move within the cooldown is refused.
            if number == 1:
                assert "hace poco" in move(client)
                assert payload(live.validate(body(seeded.key, shop=shop)))["code"] == "VALID"
            clock.advance(hours=25)
        assert "todos los cambios" in move(client)
        assert payload(live.validate(body(seeded.key, shop=shops[3])))["code"] == "VALID"
    # A year after the first move, one move is available again (after logging in again: a
    # year-old session has long ended).
    clock.set(T0 + timedelta(days=366))
    with client_for(live, seeded.customer_id) as client:
        move(client)
    assert payload(live.validate(body(seeded.key, shop=shops[4])))["code"] == "VALID"
    with live.ctx.db.read_session() as session:
        assert len(session.scalars(select(ShopMove)).all()) == 4


def test_buy_addon_and_renew_redirect_to_the_bill(live: Live) -> None:
    customer_id, _ = ordered_licence(live)
    with live.ctx.db.read_session() as session:
        licence = session.scalars(select(Licence)).one()
        product_b = session.scalar(select(Product).where(Product.code == "addon-b"))
        assert product_b is not None
    with client_for(live, customer_id) as client:
        page = client.get("/client/licences").text
        assert "Proveedor addon-b" in page and "Proveedor addon-a" not in page.split("<select")[1]
        assert "/renew" not in page  # nothing to renew yet
        response = client.post(
            f"/client/licences/{licence.id}/addons",
            data={"csrf_token": CSRF, "product_id": str(product_b.id)},
        )
        assert response.status_code == 303
        document_id = int(response.headers["location"].rsplit("/", 1)[1])
        assert response.headers["location"] == f"/client/documents/{document_id}"
        renew = client.get(f"/client/licences/{licence.id}/renew")
        assert renew.headers["location"] == f"/client/documents/{document_id}"
    with live.ctx.db.read_session() as session:
        document = session.get(Document, document_id)
        assert document is not None and document.status == "unpaid"
        service_b = session.scalars(
            select(Service).join(Product).where(Product.code == "addon-b")
        ).one()
        assert service_b.parent_id == licence.service_id and service_b.status == "pending"
    drain(live.ctx)
    with live.ctx.db.read_session() as session:
        assert len(session.scalars(select(Addon)).all()) == 1  # B only once paid


def test_lease_from_a_real_response_is_verified_by_the_client(live: Live, clock: Clock) -> None:
    seeded = seed_licence(
        live.ctx, {"ingram": {"active": True, "expires_at": T0 - timedelta(days=5)}}
    )
    keys = public_keys_from_jwks(live.http.get("/api/v1/licenses/keys").json())
    shop = Shop(SHOP["platform"], SHOP["url"])
    key = normalize_key(seeded.key)
    first = live.validate(body(seeded.key, nonce="n-1")).json()
    online = verify_response(first, keys, shop, T0, "n-1", None, key=key)
    assert online.valid and online.addon_usable("ingram")  # in its 7-day grace until T0+2d
    assert not verify_response(first, keys, shop, T0, "other-nonce", None, key=key).accepted
    state = online.state
    # Offline four days later: the lease holds but the supplier lapsed on schedule.
    decision = verify_lease(first, keys, shop, T0 + timedelta(days=4), state, key=key)
    assert decision.valid and not decision.addon_usable("ingram")
    state = decision.state
    # Clock set back.
    assert verify_lease(first, keys, shop, T0 + timedelta(days=1), state).code == "CLOCK_TAMPERED"
    # A newer lease is fetched; restoring the older one afterwards is a rollback.
    clock.set(T0 + timedelta(days=4, hours=1))
    second = live.validate(body(seeded.key, nonce="n-2")).json()
    fresh = verify_response(
        second, keys, shop, T0 + timedelta(days=4, hours=1), "n-2", state, key=key
    )
    assert fresh.accepted
    rollback = verify_lease(first, keys, shop, T0 + timedelta(days=4, hours=2), fresh.state)
    assert rollback.code == "LEASE_ROLLBACK"
    # Tampering with the payload breaks the signature.
    data = json.loads(base64.urlsafe_b64decode(second["payload"] + "=="))
    data["addons"][0]["expires_at"] = "2030-01-01T00:00:00Z"
    forged = dict(
        second,
        payload=base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("="),
    )
    assert verify_lease(forged, keys, shop, T0 + timedelta(days=4, hours=2)).code == (
        "SIGNATURE_INVALID"
    )
    # Another shop and an expired lease.
    other = Shop(OTHER_SHOP["platform"], OTHER_SHOP["url"])
    assert verify_lease(second, keys, other, T0 + timedelta(days=5)).code == "BINDING_MISMATCH"
    assert verify_lease(second, keys, shop, T0 + timedelta(days=12)).code == "LEASE_EXPIRED"


def test_staff_find_toggle_expiry_status_reset_and_log(live: Live) -> None:
    from facturo.accounts.customers import create_staff

    seeded = seed_licence(
        live.ctx, {"ingram": {"active": True, "expires_at": T0 + timedelta(days=30)}}
    )
    payload(live.validate(body(seeded.key)))
    with live.ctx.db.transaction() as session:
        staff, _ = create_staff(session, "sam@example.com", "Sam", "support", "a long password 123")
    cookies = logged_in_cookies(live.ctx, staff=staff, csrf=CSRF)
    with httpx.Client(
        base_url=str(live.http.base_url), cookies=cookies, follow_redirects=False
    ) as client:
        for query in (seeded.key.lower(), "ana@example", "example-shop"):
            found = client.get("/admin/licences", params={"q": query})
            assert f"/admin/licences/{seeded.licence_id}" in found.text, query
        detail = client.get(f"/admin/licences/{seeded.licence_id}")
        assert detail.status_code == 200
        assert "VALID" in detail.text and "127.0.0.1" in detail.text
        addon_id = seeded.addons["ingram"]
        client.post(f"/admin/licences/addons/{addon_id}/toggle", data={"csrf_token": CSRF})
        data = payload(live.validate(body(seeded.key)))
        assert data["addons"][0]["status"] == "INACTIVE"
        client.post(f"/admin/licences/addons/{addon_id}/toggle", data={"csrf_token": CSRF})
        client.post(
            f"/admin/licences/addons/{addon_id}/expiry",
            data={"csrf_token": CSRF, "expires_on": "2026-02-01"},
        )
        data = payload(live.validate(body(seeded.key)))
        assert data["addons"][0]["status"] == "EXPIRED"
        bad = client.post(
            f"/admin/licences/addons/{addon_id}/expiry",
            data={"csrf_token": CSRF, "expires_on": "soon"},
        )
        assert bad.status_code == 303
        client.post(
            f"/admin/licences/{seeded.licence_id}/reset",
            data={"csrf_token": CSRF, "confirm": "yes"},
        )
        with live.ctx.db.read_session() as session:
            assert session.scalars(select(ShopBindingRow)).first() is None
        assert payload(live.validate(body(seeded.key, shop=OTHER_SHOP)))["code"] == "VALID"
        client.post(
            f"/admin/licences/{seeded.licence_id}/status",
            data={
                "csrf_token": CSRF,
                "status": "SUSPENDED",
                "reason": "investigating",
                "confirm": "yes",
            },
        )
        assert payload(live.validate(body(seeded.key, shop=OTHER_SHOP)))["code"] == "SUSPENDED"
        client.post(
            "/admin/licences/suppliers",
            data={"csrf_token": CSRF, "code": "globomatik", "name": "Globomatik"},
        )
        assert "Globomatik" in client.get("/admin/licences/suppliers").text


def test_customer_search_hook_finds_the_owner(lctx: object) -> None:
    from facturo.plugin import Context

    assert isinstance(lctx, Context)
    seeded = seed_licence(lctx)
    with lctx.db.read_session() as session:
        hits = [
            hit
            for result in lctx.hook.customer_search(ctx=lctx, session=session, query=seeded.key)
            for hit in result
        ]
    assert [hit.customer_id for hit in hits] == [seeded.customer_id]


def test_dashboard_and_staff_customer_panels(lctx: object) -> None:
    from facturo.plugin import Context

    assert isinstance(lctx, Context)
    seeded = seed_licence(lctx, {"ingram": {"active": True, "expires_at": T0 + timedelta(days=9)}})
    with lctx.db.read_session() as session:
        customer = session.get(Customer, seeded.customer_id)
        assert customer is not None
        client_panels = [
            panel
            for result in lctx.hook.client_dashboard_panels(
                ctx=lctx, session=session, customer=customer, language="es"
            )
            for panel in result
        ]
        staff_panels = [
            panel
            for result in lctx.hook.admin_customer_panels(
                ctx=lctx, session=session, customer=customer, language="es"
            )
            for panel in result
        ]
    assert len(client_panels) == 1
    assert "1/1 proveedores activos" in client_panels[0].html
    assert f'href="/admin/licences/{seeded.licence_id}"' in staff_panels[0].html
    assert "Activo" in staff_panels[0].html and "ACTIVE" not in staff_panels[0].html
