"""Gap-free yearly number series, allocated inside the caller's transaction.

The counter row is incremented with ``UPDATE … RETURNING``: on PostgreSQL the row lock is held
until the caller commits, so concurrent payments queue and no number is skipped or repeated; on
SQLite the write transaction (``BEGIN IMMEDIATE``) serialises the same way. A rolled-back
transaction releases its number, so the series stays gap-free.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from facturo.db.util import insert_ignore
from facturo.models import NumberSeries

SERIES_KINDS = ("proforma", "invoice", "credit_note")


def allocate(session: Session, kind: str, year: int, fmt: str) -> str:
    """Return the next number of series (``kind``, ``year``) formatted with ``fmt``."""
    if kind not in SERIES_KINDS:
        raise ValueError(f"unknown series {kind!r}")
    table = NumberSeries.__table__
    insert_ignore(session, table, {"kind": kind, "year": year, "last_value": 0}, ("kind", "year"))
    value = session.execute(
        update(NumberSeries)
        .where(NumberSeries.kind == kind, NumberSeries.year == year)
        .values(last_value=NumberSeries.last_value + 1)
        .returning(NumberSeries.last_value)
    ).scalar_one()
    return fmt.format(year=year, seq=value)


def allocate_block(session: Session, kind: str, year: int, fmt: str, count: int) -> list[str]:
    """Reserve ``count`` consecutive numbers at once (for batch work such as the billing run)."""
    if count <= 0:
        return []
    table = NumberSeries.__table__
    insert_ignore(session, table, {"kind": kind, "year": year, "last_value": 0}, ("kind", "year"))
    last = session.execute(
        update(NumberSeries)
        .where(NumberSeries.kind == kind, NumberSeries.year == year)
        .values(last_value=NumberSeries.last_value + count)
        .returning(NumberSeries.last_value)
    ).scalar_one()
    return [fmt.format(year=year, seq=value) for value in range(last - count + 1, last + 1)]
