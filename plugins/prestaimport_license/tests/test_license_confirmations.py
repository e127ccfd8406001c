"""The licence's destructive actions ask first, on a page that says what stops working and
works without JavaScript (issue 16, point 4): key regeneration, shop moves (customer and
staff), suspension and revocation."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from facturo.testing import logged_in_cookies
from facturo_prestaimport_license.models import Licence, ShopBindingRow
from facturo_prestaimport_license.testing import Live, body, payload, seed_licence

CSRF = "test-csrf-token"


def hidden(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))


def confirmation(html: str, action: str) -> dict[str, str]:
    """The confirmation form's fields, after checking it posts ``confirm=yes`` to ``action``."""
    assert f'<form method="post" action="{action}">' in html
    fields = hidden(html)
    assert fields["confirm"] == "yes" and fields["csrf_token"] == CSRF
    return fields


def customer_client(live: Live, customer_id: int, language: str = "en") -> httpx.Client:
    from facturo.plugin import Customer

    with live.ctx.db.read_session() as session:
        customer = session.get(Customer, customer_id)
        assert customer is not None
    return httpx.Client(
        base_url=str(live.http.base_url),
        cookies=logged_in_cookies(live.ctx, customer=customer, csrf=CSRF),
        headers={"Accept-Language": language},
        follow_redirects=False,
    )


def staff_client(live: Live) -> httpx.Client:
    from facturo.accounts.customers import create_staff

    with live.ctx.db.transaction() as session:
        staff, _ = create_staff(session, "sam@example.com", "Sam", "support", "a long password 1")
    return httpx.Client(
        base_url=str(live.http.base_url),
        cookies=logged_in_cookies(live.ctx, staff=staff, csrf=CSRF),
        headers={"Accept-Language": "en"},
        follow_redirects=False,
    )


def bound(live: Live) -> bool:
    with live.ctx.db.read_session() as session:
        return session.scalars(select(ShopBindingRow)).first() is not None


def test_regenerating_the_key_asks_first_and_names_the_key_and_shop(live: Live) -> None:
    seeded = seed_licence(live.ctx)
    assert payload(live.validate(body(seeded.key)))["code"] == "VALID"  # binds the shop
    action = f"/client/licences/{seeded.licence_id}/regenerate"
    hint = seeded.key.replace("-", "")[-4:]
    with customer_client(live, seeded.customer_id) as client:
        for page in (client.get(action), client.post(action, data={"csrf_token": CSRF})):
            assert page.status_code == 200
            # The customer reads Spanish (their language).
            assert f"La clave que termina en {hint} deja de funcionar al momento" in page.text
            assert "example-shop.com" in page.text and "KEY_REPLACED" in page.text
            fields = confirmation(page.text, action)
        assert payload(live.validate(body(seeded.key)))["code"] == "VALID"  # unchanged
        assert "No, volver" in page.text
        assert client.post(action, data=fields).status_code == 303
    assert payload(live.validate(body(seeded.key)))["code"] == "KEY_REPLACED"


def test_moving_the_shop_asks_first(live: Live) -> None:
    seeded = seed_licence(live.ctx)
    payload(live.validate(body(seeded.key)))
    action = f"/client/licences/{seeded.licence_id}/move"
    with customer_client(live, seeded.customer_id) as client:
        for page in (client.get(action), client.post(action, data={"csrf_token": CSRF})):
            assert page.status_code == 200
            assert "se desvincula de example-shop.com" in page.text
            assert "uno de los 3 cambios de tienda que te quedan este año" in page.text
            fields = confirmation(page.text, action)
        assert bound(live)
        assert client.post(action, data=fields).status_code == 303
    assert not bound(live)


def test_staff_revocation_suspension_and_reset_ask_first(live: Live) -> None:
    seeded = seed_licence(live.ctx)
    payload(live.validate(body(seeded.key)))
    status = f"/admin/licences/{seeded.licence_id}/status"
    reset = f"/admin/licences/{seeded.licence_id}/reset"

    def licence_status() -> str:
        with live.ctx.db.read_session() as session:
            licence = session.get(Licence, seeded.licence_id)
            assert licence is not None
            return licence.status

    with staff_client(live) as client:
        page = client.post(
            status, data={"csrf_token": CSRF, "status": "REVOKED", "reason": "fraud"}
        )
        assert page.status_code == 200
        assert "revoked for good" in page.text and "cannot be reinstated" in page.text
        assert "ana@example.com" in page.text and "example-shop.com" in page.text
        revoke = confirmation(page.text, status)
        assert revoke["status"] == "REVOKED" and revoke["reason"] == "fraud"
        suspend_page = client.get(status, params={"status": "SUSPENDED"})
        assert "stops importing from every supplier until staff reinstate it" in suspend_page.text
        suspend = confirmation(suspend_page.text, status)
        assert licence_status() == "ACTIVE"  # nothing changed yet
        page = client.post(reset, data={"csrf_token": CSRF})
        assert page.status_code == 200 and "released from example-shop.com" in page.text
        release = confirmation(page.text, reset)
        assert bound(live)
        assert client.post(reset, data=release).status_code == 303
        assert not bound(live)
        assert client.post(status, data=suspend).status_code == 303
        assert licence_status() == "SUSPENDED"
        assert client.post(status, data=revoke).status_code == 303
        assert licence_status() == "REVOKED"
    assert payload(live.validate(body(seeded.key)))["code"] == "REVOKED"
