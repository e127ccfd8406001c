"""Self-registration, email verification and the "verify first" rules."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from facturo.models import Customer, Document, OutboxMessage
from facturo.testing import Clock, SmtpServer, drain, make_catalog
from tests.web.client.conftest import Site, csrf_from, logged_in, make_customer, post_form

GOOD = {
    "email": "new@example.com",
    "password": "a-long-and-unusual-passphrase",
    "password2": "a-long-and-unusual-passphrase",
    "name": "Nuria Pérez",
    "company": "",
    "tax_id": "12345678Z",
    "address": "Calle Luna 3",
    "postal_code": "46001",
    "city": "Valencia",
    "region": "Valencia",
    "country": "ES",
    "language": "es",
    "phone": "",
    "terms": "yes",
}


def _register(site: Site, data: dict[str, Any], lang: str = "en") -> Any:
    client = site.client(headers={"Accept-Language": lang})
    token = csrf_from(client.get("/client/register").text)
    return client.post("/client/register", data={**data, "csrf_token": token})


def _count(site: Site, model: type) -> int:
    with site.ctx.db.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_register_form_has_every_field(site: Site) -> None:
    page = site.client(headers={"Accept-Language": "en"}).get("/client/register")
    assert page.status_code == 200
    for name in GOOD:
        assert f'name="{name}"' in page.text
    assert '<option value="FR">France</option>' in page.text
    spanish = site.client(headers={"Accept-Language": "es"}).get("/client/register").text
    assert "Crea tu cuenta" in spanish and '<option value="FR">Francia</option>' in spanish


def test_bad_registrations_are_refused_with_field_messages(site: Site) -> None:
    cases = [
        ({"name": "", "address": ""}, "This field is required."),
        ({"tax_id": "12345678A"}, "This tax id is not valid for the country chosen."),
        ({"country": "XX"}, "Choose a country from the list."),
        ({"company": "Acme S.L.", "tax_id": ""}, "A company needs its tax id."),
        ({"password": "short", "password2": "short"}, "Use at least 10 characters."),
        ({"password": "password123", "password2": "password123"}, "very common password"),
        ({"password2": "something-else-entirely"}, "The two passwords do not match."),
        ({"terms": ""}, "Accept the terms to register."),
        ({"email": "not-an-email"}, "Enter a valid email address."),
    ]
    for change, message in cases:
        response = _register(site, {**GOOD, **change})
        assert response.status_code == 400, change
        assert message in response.text, change
        assert 'aria-invalid="true"' in response.text
    # The form keeps what was typed (escaped), never the password.
    response = _register(site, {**GOOD, "name": "<b>x</b>", "terms": ""})
    assert "&lt;b&gt;x&lt;/b&gt;" in response.text and GOOD["password"] not in response.text
    assert _count(site, Customer) == 0


def test_registration_without_csrf_token_is_refused(site: Site) -> None:
    client = site.client()
    client.get("/client/register")
    response = client.post("/client/register", data=GOOD)
    assert response.status_code == 403
    assert _count(site, Customer) == 0


def test_register_verify_and_expired_link(
    site_factory: Callable[..., Site], smtp_server: SmtpServer, clock: Clock
) -> None:
    site = site_factory(overrides=smtp_server.settings())
    response = _register(site, GOOD)
    assert response.status_code == 200 and "Check your email" in response.text
    drain(site.ctx)
    [message] = smtp_server.sink.wait_for(1)
    assert message["To"] == "new@example.com"
    body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    link = re.search(r"http://testserver(/client/verify/\S+)", body)
    assert link, body
    with site.ctx.db.read_session() as session:
        customer = session.scalar(select(Customer))
        assert customer is not None and customer.tax_id == "12345678Z"
        assert customer.email_verified_at is None and customer.language == "es"
    # A forged token changes nothing.
    forged = site.client(headers={"Accept-Language": "en"}).get(link.group(1)[:-3] + "abc")
    assert forged.status_code == 400 and "not valid" in forged.text
    # After 48 hours the link has expired.
    clock.advance(hours=49)
    expired = site.client(headers={"Accept-Language": "en"}).get(link.group(1))
    assert expired.status_code == 400 and "expired" in expired.text
    with site.ctx.db.read_session() as session:
        assert session.scalar(select(Customer.email_verified_at)) is None
    clock.advance(hours=-48)
    browser = site.client(headers={"Accept-Language": "en"})
    ok = browser.get(link.group(1))
    assert ok.status_code == 303 and ok.headers["location"] == "/client/catalog"
    signed_in = browser.get("/client/catalog")
    assert signed_in.status_code == 200
    # The customer chose Spanish when registering: their language wins.
    assert "Tu dirección de correo está verificada y ya has entrado" in signed_in.text
    with site.ctx.db.read_session() as session:
        assert session.scalar(select(Customer.email_verified_at)) is not None


def test_registered_email_gets_neutral_answer_and_owner_notice(site: Site) -> None:
    owner = make_customer(site.ctx, email="new@example.com")
    response = _register(site, {**GOOD, "email": "NEW@example.com"})
    assert response.status_code == 200 and "Check your email" in response.text
    assert _count(site, Customer) == 1
    with site.ctx.db.read_session() as session:
        [notice] = list(session.scalars(select(OutboxMessage)))
    assert notice.template == "account_exists" and notice.to_address == owner.email


def test_unverified_customer_sees_banner_and_cannot_order(site: Site) -> None:
    licence, _ = make_catalog(site.ctx)
    customer = make_customer(site.ctx, verified=False, language="en")
    client = logged_in(site, customer)
    client.headers["Accept-Language"] = "en"
    page = client.get("/client/")
    assert "Verify your email address" in page.text and "Send again" in page.text
    refused = post_form(client, "/client/order", {"product": licence.id, "cycle": "annual"})
    assert refused.status_code == 403 and "Verify your email address" in refused.text
    assert _count(site, Document) == 0
    sent = post_form(client, "/client/verify/resend", {})
    assert sent.status_code == 303
    with site.ctx.db.read_session() as session:
        templates = [m.template for m in session.scalars(select(OutboxMessage))]
    assert templates.count("verify_email") == 1
    assert "We have sent the verification email again." in client.get("/client/").text


def test_registration_is_rate_limited(site: Site) -> None:
    for n in range(5):
        ok = _register(site, {**GOOD, "email": f"user{n}@example.com"})
        assert ok.status_code == 200
    limited = _register(site, {**GOOD, "email": "user9@example.com"})
    assert limited.status_code == 429 and "Too many attempts. Try again in" in limited.text
    assert _count(site, Customer) == 5
