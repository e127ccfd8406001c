"""New capability 15: security emails — password changed, second factor added or removed, a
sign-in from an unseen device, email address changed (to the old and the new address) — and
changing one's email address from the account page through a link sent to the new one."""

from __future__ import annotations

import re

from facturo.models import Customer
from tests.security.conftest import Site, customer_login, new_customer, post_form


def _notices(site: Site) -> list[tuple[str, str]]:
    return [(m.to_address, m.subject) for m in site.mails("security_notice")]


def test_new_device_and_password_change_are_emailed(site: Site) -> None:
    customer = new_customer(site.ctx)
    with site.client() as first:
        customer_login(first, customer.email)  # the first login ever: nothing to report
        assert _notices(site) == []
        with site.client(
            cookies={"facturo_device": first.cookies["facturo_device"]}
        ) as same_device:
            customer_login(same_device, customer.email)
        assert _notices(site) == []
        with site.client(
            headers={"User-Agent": "Strange Browser 1.0", "Accept-Language": "en"}
        ) as unseen:
            customer_login(unseen, customer.email)
        [(to, subject)] = _notices(site)
        assert to == customer.email and subject == "New sign-in to your account"
        assert "Strange Browser 1.0" in site.mails("security_notice")[0].text_body
        new = "an entirely different passphrase"
        post_form(
            first,
            "/client/account/password",
            {
                "current_password": "correct horse battery",
                "new_password": new,
                "new_password2": new,
            },
        )
    assert (customer.email, "Your password was changed") in _notices(site)


def test_email_change_through_a_link_to_the_new_address(site: Site) -> None:
    customer = new_customer(site.ctx)
    with site.client() as client:
        customer_login(client, customer.email)
        wrong = post_form(
            client,
            "/client/security/email",
            {"new_email": "ana.new@example.com", "password": "nope"},
            "/client/security",
        )
        assert wrong.status_code == 400
        asked = post_form(
            client,
            "/client/security/email",
            {"new_email": "Ana.New@Example.com", "password": "correct horse battery"},
            "/client/security",
        )
        assert asked.status_code == 303
        with site.ctx.db.read_session() as session:
            row = session.get(Customer, customer.id)
            assert row is not None and row.email == customer.email  # nothing changes yet
        [confirm] = site.mails("email_change_confirm")
        assert confirm.to_address == "ana.new@example.com"
        link = re.search(r"http://testserver(/client/account/email/\S+)", confirm.text_body)
        assert link
        done = client.get(link.group(1))
        assert done.status_code == 200 and "ana.new@example.com" in done.text
        assert client.get(link.group(1)).status_code == 400  # works once
        assert client.get("/client/account/email/forged").status_code == 400
    with site.ctx.db.read_session() as session:
        row = session.get(Customer, customer.id)
        assert row is not None and row.email == "ana.new@example.com"
    told = {
        to
        for to, subject in _notices(site)
        if subject == "Your account's email address was changed"
    }
    assert told == {customer.email, "ana.new@example.com"}


def test_an_address_taken_by_another_account_reveals_nothing(site: Site) -> None:
    customer = new_customer(site.ctx)
    other = new_customer(site.ctx, email="bob@example.com")
    with site.client() as client:
        customer_login(client, customer.email)
        asked = post_form(
            client,
            "/client/security/email",
            {"new_email": other.email, "password": "correct horse battery"},
            "/client/security",
        )
        assert asked.status_code == 303  # the same answer as for a free address
    assert site.mails("email_change_confirm") == []
    [exists] = site.mails("account_exists")
    assert exists.to_address == other.email
