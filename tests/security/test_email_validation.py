"""Hole 9: addresses with CR/LF (or otherwise invalid) were accepted at registration and then
poisoned the outbox. One validation (email-validator) now guards every way in."""

from __future__ import annotations

import base64
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import func, select

from facturo.accounts.emails import InvalidEmail, clean_email
from facturo.models import Customer, OutboxMessage, StaffUser
from facturo.testing import logged_in_cookies
from tests.security.conftest import (
    Site,
    csrf_from,
    customer_login,
    new_customer,
    new_staff,
    post_form,
)

BAD = [
    "victim@example.com\r\nBcc: everyone@example.com",
    "victim@example.com\nX-Injected: 1",
    "no-at-sign.example.com",
    "two@@example.com",
    "spaces in@example.com",
    '"quoted"@example.com',
    "Name <name@example.com>",
    "name@localhost",
    "x" * 250 + "@example.com",
]


def _counts(site: Site) -> tuple[int, int, int]:
    with site.ctx.db.read_session() as session:
        return (
            session.scalar(select(func.count()).select_from(Customer)) or 0,
            session.scalar(select(func.count()).select_from(StaffUser)) or 0,
            session.scalar(select(func.count()).select_from(OutboxMessage)) or 0,
        )


def test_registration_refuses_bad_addresses_and_writes_nothing(site: Site) -> None:
    before = _counts(site)
    with site.client() as client:
        token = csrf_from(client.get("/client/register").text)
        for address in BAD:
            response = client.post(
                "/client/register",
                data={
                    "email": address,
                    "password": "a long and unusual passphrase",
                    "password2": "a long and unusual passphrase",
                    "name": "Eve",
                    "address": "Calle 1",
                    "postal_code": "28001",
                    "city": "Madrid",
                    "country": "ES",
                    "language": "en",
                    "terms": "yes",
                    "csrf_token": token,
                },
            )
            assert response.status_code == 400, address
            assert "Enter a valid email address." in response.text
    assert _counts(site) == before


def test_forgot_password_and_email_change_refuse_bad_addresses(site: Site) -> None:
    customer = new_customer(site.ctx)
    before = _counts(site)
    with site.client() as client:
        for address in BAD[:3]:
            answer = post_form(
                client, "/client/password/forgot", {"email": address}, "/client/password/forgot"
            )
            assert answer.status_code == 400
        customer_login(client, customer.email)
        for address in BAD[:3]:
            answer = post_form(
                client,
                "/client/security/email",
                {"new_email": address, "password": "correct horse battery"},
                "/client/security",
            )
            assert answer.status_code == 400 and "Enter a valid email address." in answer.text
    assert _counts(site)[2] == before[2]  # no mail queued


def test_staff_forms_refuse_bad_addresses(site_factory: Callable[..., Site]) -> None:
    site = site_factory()
    admin = new_staff(site.ctx, "admin")
    customer = new_customer(site.ctx)
    before = _counts(site)
    cookies = logged_in_cookies(site.ctx, staff=admin)
    with httpx.Client(base_url=site.url, cookies=cookies, headers={"Accept-Language": "en"}) as web:
        for address in BAD[:2]:
            created = web.post(
                "/admin/staff",
                data={
                    "email": address,
                    "name": "X",
                    "role": "support",
                    "csrf_token": "test-csrf-token",
                },
            )
            assert created.status_code == 400 and "Enter a valid email address." in created.text
            edited = web.post(
                f"/admin/customers/{customer.id}/edit",
                data={"email": address, "name": "Ana", "csrf_token": "test-csrf-token"},
            )
            assert edited.status_code == 400 and "Enter a valid email address." in edited.text
            assert 'aria-invalid="true"' in edited.text
    assert _counts(site) == before
    with site.ctx.db.read_session() as session:
        row = session.get(Customer, customer.id)
        assert row is not None and row.email == customer.email


def test_ticket_intake_ignores_bad_senders() -> None:
    from facturo_tickets.intake import parse_message

    injected = base64.b64encode(b"eve@example.com\r\nBcc: x@example.com").decode()
    for sender in (f"=?utf-8?b?{injected}?=", "Eve <eve@exa mple.com>", "eve@localhost"):
        raw = f"From: {sender}\r\nTo: support@facturo.es\r\nSubject: hi\r\n\r\nbody\r\n"
        parsed = parse_message(raw.encode(), ["facturo.es"], ["support@facturo.es"])
        assert parsed.sender == "", sender  # no ticket, no auto-reply to it
    good = parse_message(
        b"From: Ana <Ana@Example.com>\r\nTo: support@facturo.es\r\nSubject: hi\r\n\r\nbody\r\n",
        ["facturo.es"],
        ["support@facturo.es"],
    )
    assert good.sender == "ana@example.com"


@pytest.mark.parametrize("address", BAD)
def test_one_validation_for_every_way_in(address: str) -> None:
    with pytest.raises(InvalidEmail):
        clean_email(address)
    assert clean_email("  Ana.Garcia@Example.COM ") == "ana.garcia@example.com"
    assert clean_email("billing@facturo.test") == "billing@facturo.test"  # reserved for tests
