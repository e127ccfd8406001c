"""Login, logout, session rotation, rate limits, forgotten and changed passwords."""

from __future__ import annotations

import re

from sqlalchemy import select

from facturo.accounts.customers import verify_password
from facturo.delivery.events import deliver_events
from facturo.models import Customer, OutboxMessage
from facturo.testing import Clock, logged_in_cookies
from tests.web.client.conftest import (
    PASSWORD,
    Site,
    csrf_from,
    logged_in,
    login,
    make_customer,
    post_form,
)

EN = {"Accept-Language": "en"}


def test_login_wrong_password_and_session_rotation(site: Site) -> None:
    customer = make_customer(site.ctx, language="en")
    client = site.client(headers=EN)
    assert client.get("/client/").headers["location"] == "/client/login?next=/client/"
    bad = login(client, customer.email, "not the password")
    assert bad.status_code == 400 and "Wrong email or password." in bad.text
    unknown = login(client, "nobody@example.com", PASSWORD)
    assert unknown.status_code == 400 and "Wrong email or password." in unknown.text
    before = csrf_from(client.get("/client/login").text)
    ok = login(client, customer.email.upper(), PASSWORD)
    assert ok.status_code == 303 and ok.headers["location"] == "/client/"
    cookie = ok.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    after = csrf_from(client.get("/client/").text)
    assert after != before  # the session was rotated: the old token is gone
    stale = client.post("/client/account/password", data={"csrf_token": before})
    assert stale.status_code == 403 and "The form has expired" in stale.text
    out = post_form(client, "/client/logout", {})
    assert out.status_code == 303
    assert client.get("/client/").status_code == 303


def test_login_next_stays_inside_the_client_area(site: Site) -> None:
    customer = make_customer(site.ctx)
    client = site.client()
    token = csrf_from(client.get("/client/login").text)
    evil = client.post(
        "/client/login?next=//evil.example/x",
        data={"email": customer.email, "password": PASSWORD, "csrf_token": token},
    )
    assert evil.headers["location"] == "/client/"


def test_login_is_rate_limited_with_when_to_retry(site: Site) -> None:
    customer = make_customer(site.ctx)
    client = site.client(headers=EN)
    for _ in range(5):
        assert login(client, customer.email, "wrong password!").status_code == 400
    limited = login(client, customer.email, PASSWORD)
    assert limited.status_code == 429
    assert re.search(r"Too many attempts\. Try again in \d+ (seconds|minutes)\.", limited.text)
    assert client.get("/client/").status_code == 303


def test_forgot_password_same_answer_and_single_use_link(site: Site, clock: Clock) -> None:
    customer = make_customer(site.ctx, language="en")
    other_session = site.client(cookies=logged_in_cookies(site.ctx, customer))
    assert other_session.get("/client/").status_code == 200
    client = site.client(headers=EN)
    answers = []
    for email in (customer.email, "nobody@example.com"):
        response = post_form(
            client, "/client/password/forgot", {"email": email}, page="/client/password/forgot"
        )
        assert response.status_code == 200
        answers.append(re.sub(r'value="[^"]*"', "", response.text))
    assert answers[0] == answers[1] and "If an account exists" in answers[0]
    deliver_events(site.ctx)  # the worker looks the address up and queues the link
    with site.ctx.db.read_session() as session:
        [mail] = list(session.scalars(select(OutboxMessage)))
    assert mail.template == "password_reset" and mail.to_address == customer.email
    path = re.search(r"http://testserver(/client/password/reset/\S+)", mail.text_body)
    assert path
    link = path.group(1)
    form = client.get(link)
    assert form.status_code == 200 and 'name="password2"' in form.text
    token = csrf_from(form.text)
    weak = client.post(link, data={"password": "short", "password2": "short", "csrf_token": token})
    assert weak.status_code == 400 and "Use at least 10 characters." in weak.text
    new = "a brand new passphrase 2026"
    done = client.post(link, data={"password": new, "password2": new, "csrf_token": token})
    assert done.status_code == 303 and done.headers["location"] == "/client/login"
    with site.ctx.db.read_session() as session:
        row = session.get(Customer, customer.id)
        assert row is not None and verify_password(row.password_hash, new)
    # Other sessions ended; the link works only once.
    assert other_session.get("/client/").status_code == 303
    reused = client.get(link)
    assert reused.status_code == 400 and "already been used" in reused.text
    again = client.post(
        link, data={"password": "x" * 12 + "yz", "password2": "x" * 12 + "yz", "csrf_token": token}
    )
    assert again.status_code == 400
    with site.ctx.db.read_session() as session:
        row = session.get(Customer, customer.id)
        assert row is not None and verify_password(row.password_hash, new)


def test_reset_link_expires_after_one_hour(site: Site, clock: Clock) -> None:
    customer = make_customer(site.ctx, language="en")
    client = site.client(headers=EN)
    post_form(
        client, "/client/password/forgot", {"email": customer.email}, page="/client/password/forgot"
    )
    deliver_events(site.ctx)
    with site.ctx.db.read_session() as session:
        body = session.scalars(select(OutboxMessage.text_body)).one()
    path = re.search(r"http://testserver(/client/password/reset/\S+)", body)
    assert path
    clock.advance(minutes=61)
    expired = client.get(path.group(1))
    assert expired.status_code == 400 and "This link has expired." in expired.text
    forged = client.get("/client/password/reset/garbage")
    assert forged.status_code == 400 and "This link is not valid." in forged.text


def test_forgot_password_is_rate_limited(site: Site) -> None:
    client = site.client(headers=EN)
    for _ in range(5):
        ok = post_form(
            client,
            "/client/password/forgot",
            {"email": "x@example.com"},
            page="/client/password/forgot",
        )
        assert ok.status_code == 200
    limited = post_form(
        client,
        "/client/password/forgot",
        {"email": "x@example.com"},
        page="/client/password/forgot",
    )
    assert limited.status_code == 429 and "Try again in" in limited.text


def test_change_password_requires_current_and_ends_other_sessions(site: Site) -> None:
    customer = make_customer(site.ctx, language="en")
    other = site.client(cookies=logged_in_cookies(site.ctx, customer))
    client = logged_in(site, customer)
    new = "another long passphrase"
    wrong = post_form(
        client,
        "/client/account/password",
        {"current_password": "nope", "new_password": new, "new_password2": new},
    )
    assert wrong.status_code == 400 and "The current password is wrong." in wrong.text
    weak = post_form(
        client,
        "/client/account/password",
        {
            "current_password": PASSWORD,
            "new_password": "password123",
            "new_password2": "password123",
        },
    )
    assert weak.status_code == 400 and "This is a very common password." in weak.text
    assert other.get("/client/").status_code == 200
    ok = post_form(
        client,
        "/client/account/password",
        {"current_password": PASSWORD, "new_password": new, "new_password2": new},
    )
    assert ok.status_code == 303
    assert client.get("/client/account").status_code == 200  # this session stays
    assert other.get("/client/").status_code == 303  # the other one ended
    assert login(site.client(), customer.email, new).status_code == 303
