"""Which customers a staff search term matches, read through the database's trigram index.

``customers.search_text`` holds each customer's searchable fields folded (no accents, no
case). A term matches when its folded form occurs anywhere in that text. Migration 0013 gives
both databases a trigram index for this: PostgreSQL's ``pg_trgm`` serves ``LIKE '%term%'``
on the column itself, and SQLite's FTS5 table ``customers_search`` answers the same ``LIKE``
from its own index.
"""

from __future__ import annotations

from sqlalchemy import Select, select, text
from sqlalchemy.orm import Session

from facturo.models import Customer
from facturo.text import fold

WILDCARDS = ("\\", "%", "_")


def newest_matching_query(session: Session, term: str, limit: int) -> Select[Customer]:
    """The query for up to ``limit`` customers whose search text holds the folded ``term``,
    newest first."""
    folded = fold(term)
    newest = select(Customer).order_by(Customer.id.desc()).limit(limit)
    if session.get_bind().dialect.name == "sqlite" and not any(c in folded for c in WILDCARDS):
        # FTS5 plans only a plain two-argument LIKE on its index (with ESCAPE it would read
        # every row, so a term holding a wildcard character takes the escaped path below).
        # The limit inside stops a common term after the newest matches instead of
        # collecting every one of them.
        indexed = text(
            "SELECT rowid FROM customers_search WHERE search_text LIKE :pattern "
            "ORDER BY rowid DESC LIMIT :limit"
        ).bindparams(pattern=f"%{folded}%", limit=limit)
        return newest.where(Customer.id.in_(indexed))
    escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return newest.where(Customer.search_text.like(f"%{escaped}%", escape="\\"))


def newest_matching(session: Session, term: str, limit: int) -> list[Customer]:
    """Up to ``limit`` customers whose search text holds ``term``, newest first."""
    return list(session.scalars(newest_matching_query(session, term, limit)))
