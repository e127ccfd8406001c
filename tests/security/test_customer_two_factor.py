"""New capability 14 (codes): customers may turn on an authenticator app with recovery codes;
a staff setting can require two-factor for every customer. Changes need a fully verified
session, end the other sessions and are emailed."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pyotp

from facturo.models import Customer
from tests.security.conftest import (
    Site,
    csrf_from,
    customer_login,
    new_customer,
    post_form,
)


def _enable(client: object, site: Site) -> tuple[str, list[str]]:
    page = client.get("/client/security/totp")  # type: ignore[attr-defined]
    secret = page.text.split('<code class="key">')[1].split("<")[0]
    code = pyotp.TOTP(secret).at(time.time() - 30)
    done = client.post(  # type: ignore[attr-defined]
        "/client/security/totp", data={"code": code, "csrf_token": csrf_from(page.text)}
    )
    assert done.status_code == 200
    codes = re.findall(r'<code class="key">([0-9a-f]{5}-[0-9a-f]{5})</code>', done.text)
    assert len(codes) == 8
    return secret, codes


def test_customer_totp_and_recovery_codes(site: Site) -> None:
    customer = new_customer(site.ctx)
    with site.client() as owner, site.client() as other:
        customer_login(owner, customer.email)
        customer_login(other, customer.email)
        secret, codes = _enable(owner, site)
        assert other.get("/client/").status_code == 303  # the factor change ended it
        assert owner.get("/client/").status_code == 200
    with site.client() as client:
        first = customer_login(client, customer.email)
        assert first.headers["location"].startswith("/client/login/2fa")
        assert client.get("/client/").status_code == 303  # the password alone is not enough
        # The password-only session cannot reach the security page to change factors.
        assert client.get("/client/security/totp").status_code == 303
        token = csrf_from(client.get("/client/login/2fa").text)
        assert (
            client.post(
                "/client/login/2fa", data={"code": "000000", "csrf_token": token}
            ).status_code
            == 400
        )
        ok = client.post(
            "/client/login/2fa", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token}
        )
        assert ok.status_code == 303 and client.get("/client/").status_code == 200
    for attempt in range(2):
        with site.client() as client:
            customer_login(client, customer.email)
            token = csrf_from(client.get("/client/login/2fa").text)
            answer = client.post("/client/login/2fa", data={"code": codes[0], "csrf_token": token})
            assert answer.status_code == (303 if attempt == 0 else 400)
    subjects = [m.subject for m in site.mails("security_notice")]
    assert "A second factor was added to your account" in subjects


def test_turning_it_off_needs_the_password_and_is_emailed(site: Site) -> None:
    customer = new_customer(site.ctx)
    with site.client() as client:
        customer_login(client, customer.email)
        secret, _codes = _enable(client, site)
        wrong = post_form(
            client, "/client/security/totp/disable", {"password": "nope nope"}, "/client/security"
        )
        assert wrong.status_code == 400
        off = post_form(
            client,
            "/client/security/totp/disable",
            {"password": "correct horse battery"},
            "/client/security",
        )
        assert off.status_code == 303
    with site.ctx.db.read_session() as session:
        row = session.get(Customer, customer.id)
        assert row is not None and row.totp_secret is None and row.recovery_codes == []
    subjects = [m.subject for m in site.mails("security_notice")]
    assert "A second factor was removed from your account" in subjects


def test_required_for_all_customers(site_factory: Callable[..., Site]) -> None:
    site = site_factory(overrides={"customer_two_factor_required": True})
    customer = new_customer(site.ctx)
    with site.client() as client:
        first = customer_login(client, customer.email)
        assert first.headers["location"].startswith("/client/login/2fa")
        assert client.get("/client/").status_code == 303
        setup = client.get("/client/login/2fa")
        assert "requires two-factor" in setup.text
        secret = setup.text.split('<code class="key">')[1].split("<")[0]
        done = client.post(
            "/client/login/2fa",
            data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_from(setup.text)},
        )
        assert done.status_code == 200 and client.get("/client/").status_code == 200
        # The only factor cannot be dropped while it is required.
        refused = post_form(
            client,
            "/client/security/totp/disable",
            {"password": "correct horse battery"},
            "/client/security",
        )
        assert refused.status_code == 400
