"""Small SQL helpers shared by the domain modules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session


def insert_ignore(
    session: Session, table: Any, values: Mapping[str, Any], conflict: Sequence[str]
) -> Any:
    """Insert one row unless it collides on the unique ``conflict`` columns.

    Returns the new row's primary key, or None when the row already existed. Never raises on the
    collision and never aborts the surrounding transaction (``ON CONFLICT DO NOTHING``).
    """
    dialect = session.get_bind().dialect.name
    builder = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        builder(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(conflict))
        .returning(*table.primary_key.columns)
    )
    return session.execute(statement).scalar_one_or_none()


def insert_many_ignore(
    session: Session, table: Any, rows: Sequence[Mapping[str, Any]], conflict: Sequence[str]
) -> None:
    """Bulk insert ``rows`` (executemany), skipping those that collide on ``conflict``."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    builder = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = builder(table).on_conflict_do_nothing(index_elements=list(conflict))
    session.execute(statement, list(rows))
