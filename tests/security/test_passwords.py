"""Hole 11: "abcdabcdab" was accepted. Strength is now estimated by zxcvbn, with the person's
own email and name as context, a minimum score, and a message that says why."""

from __future__ import annotations

from sqlalchemy import func, select

from facturo.accounts.passwords import weakness
from facturo.models import Customer
from tests.security.conftest import Site, csrf_from

FORM = {
    "name": "Ana García",
    "address": "Calle Mayor 1",
    "postal_code": "28001",
    "city": "Madrid",
    "country": "ES",
    "language": "en",
    "terms": "yes",
}


def _register(site: Site, email: str, password: str) -> str:
    with site.client() as client:
        token = csrf_from(client.get("/client/register").text)
        response = client.post(
            "/client/register",
            data={
                **FORM,
                "email": email,
                "password": password,
                "password2": password,
                "csrf_token": token,
            },
        )
        assert response.status_code in (200, 400)
        return response.text if response.status_code == 400 else ""


def test_weak_passwords_are_refused_with_the_reason(site: Site) -> None:
    cases = {
        "abcdabcdab": 'Repeats like "abcabcabc" are only slightly harder to guess than "abc".',
        "password123": "This is a very common password.",
        "asdfghjkl;": "Straight rows of keys are easy to guess.",
        "anagarcia2026": "It contains your name or email address.",
    }
    for password, reason in cases.items():
        page = _register(site, "anagarcia@example.com", password)
        assert "This password is too easy to guess." in page, password
        assert reason.replace('"', "&#34;") in page, password
    with site.ctx.db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 0
    assert _register(site, "anagarcia@example.com", "tortilla volcano sideways lamp") == ""


def test_reasons_in_spanish(site: Site) -> None:
    with site.client(headers={"Accept-Language": "es"}) as client:
        token = csrf_from(client.get("/client/register").text)
        response = client.post(
            "/client/register",
            data={
                **FORM,
                "email": "x@example.com",
                "password": "abcdabcdab",
                "password2": "abcdabcdab",
                "csrf_token": token,
            },
        )
    assert "Esta contraseña es demasiado fácil de adivinar." in response.text


def test_context_words_make_a_password_weak() -> None:
    assert (
        weakness("margarita.lopez", ("margarita.lopez@example.com", "Margarita López")) is not None
    )
    assert weakness("Plum-Harbor-Tiger-91", ()) is None
