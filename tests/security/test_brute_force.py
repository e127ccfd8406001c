"""Hole 5: brute force. Login was limited per (address, email) only, staff login per address
only, and the current-password check on a password change not at all. Now: per account across
addresses (growing waits, the owner emailed), per address across accounts, every password check;
X-Forwarded-For believed only from ``trusted_proxies``."""

from __future__ import annotations

from collections.abc import Callable

from tests.security.conftest import (
    CUSTOMER_PASSWORD,
    Site,
    csrf_from,
    customer_login,
    new_customer,
    new_staff,
    post_form,
    staff_login,
)


def test_distributed_guessing_on_one_account_is_stopped_and_the_owner_told(
    site_factory: Callable[..., Site],
) -> None:
    # Behind a trusted proxy, each guess really comes from a different address.
    site = site_factory(overrides={"trusted_proxies": ["127.0.0.1"]})
    customer = new_customer(site.ctx)
    with site.client() as attacker:
        for n in range(5):
            guess = customer_login(
                attacker,
                customer.email,
                f"guess number {n}!",
                **{"X-Forwarded-For": f"203.0.113.{n}"},
            )
            assert guess.status_code == 400
        blocked = customer_login(
            attacker, customer.email, CUSTOMER_PASSWORD, **{"X-Forwarded-For": "198.51.100.7"}
        )
        assert blocked.status_code == 429 and "Try again in" in blocked.text
    [notice] = site.mails("security_notice")
    assert notice.to_address == customer.email and "paused" in notice.subject
    assert "203.0.113.4" in notice.text_body
    assert "Try again in 5 minutes." in blocked.text  # the first pause; longer ones follow


def test_spraying_many_accounts_from_one_address_is_stopped(site: Site) -> None:
    with site.client() as attacker:
        for n in range(20):
            response = customer_login(attacker, f"user{n}@example.com", "Summer2026!!")
            assert response.status_code == 400, n
        assert customer_login(attacker, "user99@example.com", "Summer2026!!").status_code == 429


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(site: Site) -> None:
    with site.client() as attacker:
        for n in range(20):
            forged = {"X-Forwarded-For": f"192.0.2.{n}"}
            assert (
                customer_login(
                    attacker, f"user{n}@example.com", "Summer2026!!", **forged
                ).status_code
                == 400
            )
        forged = {"X-Forwarded-For": "192.0.2.200"}
        assert (
            customer_login(attacker, "user99@example.com", "Summer2026!!", **forged).status_code
            == 429
        )


def test_current_password_check_on_change_is_limited(site: Site) -> None:
    customer = new_customer(site.ctx)
    with site.client() as client:
        customer_login(client, customer.email)
        new = "a new and unusual passphrase"
        for n in range(5):
            wrong = post_form(
                client,
                "/client/account/password",
                {"current_password": f"guess {n}", "new_password": new, "new_password2": new},
            )
            assert wrong.status_code == 400
        right = post_form(
            client,
            "/client/account/password",
            {"current_password": CUSTOMER_PASSWORD, "new_password": new, "new_password2": new},
        )
        assert right.status_code == 429


def test_staff_login_is_limited_per_account(site_factory: Callable[..., Site]) -> None:
    site = site_factory(
        overrides={"trusted_proxies": ["127.0.0.0/8"], "admin_two_factor_required": False}
    )
    staff = new_staff(site.ctx, "billing")
    with site.client() as attacker:
        for n in range(5):
            response = staff_login(
                attacker, staff.email, f"guess {n}", **{"X-Forwarded-For": f"203.0.113.{n}"}
            )
            assert response.status_code == 400
        blocked = staff_login(attacker, staff.email, **{"X-Forwarded-For": "203.0.113.99"})
        assert blocked.status_code == 429
        token = csrf_from(attacker.get("/admin/login").text)
        assert token
    assert [m.to_address for m in site.mails("security_notice")] == [staff.email]
