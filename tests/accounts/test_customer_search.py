"""Staff search forgives accents and case, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Callable

from facturo.accounts.customer_admin import search_customers, update_customer
from facturo.context import Context
from facturo.models import Customer
from facturo.testing import make_customer
from facturo.text import fold


def test_fold_drops_accents_case_and_extra_spaces() -> None:
    assert fold("  Lucía   MUÑOZ ") == "lucia munoz"
    assert fold("Çelik Straße") == "celik strasse"


def test_lucia_finds_lucia_with_accent_and_edits_keep_it_findable(
    make_context: Callable[..., Context],
) -> None:
    ctx = make_context()
    lucia = make_customer(ctx, email="lucia@example.com")
    other = make_customer(ctx, email="pedro@example.com", tax_id="00000000T")
    with ctx.db.transaction() as session:
        row = session.get(Customer, lucia.id)
        assert row is not None
        update_customer(session, row, {"name": "Lucía Muñoz", "company": "Óptica Peñalara"}, "t")

    def found(query: str) -> set[int]:
        with ctx.db.read_session() as session:
            return {c.id for c in search_customers(ctx, session, query)}

    for query in ("lucia", "LUCÍA", "munoz", "optica penalara", "Peñalara"):
        assert found(query) == {lucia.id}, query
    assert found("pedro@") == {other.id}
    assert found("%") == set()  # a wildcard typed by staff is a literal character
    assert found("_") == set()
