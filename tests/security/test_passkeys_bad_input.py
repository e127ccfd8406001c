"""Passkey endpoints given garbage: a clear 4xx in the API's error shape, and nothing written
(no session, no passkey)."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from facturo.models import AuthSession, Passkey
from tests.security.conftest import Site, csrf_from, customer_login, new_customer


def _count(site: Site, model: type) -> int:
    with site.ctx.db.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_garbage_answers_are_refused_and_write_nothing(site: Site) -> None:
    customer = new_customer(site.ctx)
    with site.client() as client:
        token = csrf_from(client.get("/client/login").text)
        headers = {"X-CSRF-Token": token}
        # No challenge asked for: refused.
        stale = client.post("/client/login/passkey", json={"credential": {}}, headers=headers)
        assert stale.status_code == 400 and stale.json()["errors"][0]["code"] == "passkey"
        for body in (
            {"credential": {"id": "nope"}},
            {"credential": "garbage"},
            {},
            {"credential": {"id": ""}},
        ):
            options = client.post("/client/login/passkey/options", headers=headers)
            assert options.status_code == 200 and "challenge" in options.json()
            answer = client.post("/client/login/passkey", json=body, headers=headers)
            assert answer.status_code == 400, body
        not_json = client.post(
            "/client/login/passkey",
            content=b"\xff\xfe",
            headers={**headers, "content-type": "application/json"},
        )
        assert not_json.status_code == 400
        assert client.post("/client/login/passkey", json={}).status_code == 403  # no CSRF token
        assert _count(site, AuthSession) == 0
        # Registration needs a fully verified session, and a real answer.
        anonymous = client.post("/client/passkeys/register/options", headers=headers)
        assert anonymous.status_code == 303
        customer_login(client, customer.email)
        token = csrf_from(client.get("/client/security").text)
        headers = {"X-CSRF-Token": token}
        assert client.post("/client/passkeys/register/options", headers=headers).status_code == 200
        bad = client.post(
            "/client/passkeys/register",
            json={"credential": {"id": "x"}, "name": "x"},
            headers=headers,
        )
        assert bad.status_code == 400
    assert _count(site, Passkey) == 0
    with httpx.Client(base_url=site.url) as other:
        assert (
            other.post(
                "/client/login/2fa/passkey/options", headers={"X-CSRF-Token": "x"}
            ).status_code
            == 403
        )
