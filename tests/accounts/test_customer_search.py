"""Staff search forgives accents and case, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete, text

from facturo.accounts.customer_admin import search_customers, update_customer
from facturo.accounts.customer_search import newest_matching_query
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


def test_search_reads_the_trigram_index_not_every_customer(ctx: Context) -> None:
    make_customer(ctx, email="lucia@example.com")
    with ctx.db.read_session() as session:
        query = newest_matching_query(session, "lucia", limit=50)
        compiled = query.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SET LOCAL enable_seqscan = off"))
            session.execute(text("SET LOCAL enable_indexscan = off"))
            plan = " ".join(session.scalars(text(f"EXPLAIN {compiled}")))
            assert "ix_customers_search_trgm" in plan, plan
        else:
            rows = session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
            plan = " ".join(str(row[-1]) for row in rows)
            assert "customers_search VIRTUAL TABLE INDEX" in plan, plan


def test_a_deleted_customer_leaves_the_search_index(ctx: Context) -> None:
    gone = make_customer(ctx, email="gone@example.com")
    kept = make_customer(ctx, email="kept@example.com")
    with ctx.db.transaction() as session:
        session.execute(delete(Customer).where(Customer.id == gone.id))
    with ctx.db.read_session() as session:
        assert [c.id for c in search_customers(ctx, session, "example.com")] == [kept.id]
