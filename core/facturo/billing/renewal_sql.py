"""The renewal run's dialect-specific statements: claiming billed periods and linking them
to their documents, in bulk (``unnest`` arrays on PostgreSQL, executemany on SQLite)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from facturo.db.bulk import is_postgres
from facturo.models import BilledPeriod

CLAIM_BATCH = 1000
PERIODS = cast(Table, BilledPeriod.__table__)


@dataclass(frozen=True)
class DueService:
    """A service due for renewal, as the run reads it."""

    id: int
    customer_id: int
    due: date
    cycle: str
    price: Decimal
    label: str
    product_id: int


def claim_periods(session: Session, chunk: Sequence[DueService]) -> set[int]:
    """Insert the natural keys of ``chunk``'s periods; return the service ids this run won.

    On PostgreSQL the services are first locked (``FOR KEY SHARE``, in id order), so that the
    run waits for anyone renewing one of them on demand (``renewal_proforma`` locks the service
    ``FOR UPDATE``, then claims) *before* it writes a claim. Claiming first would hold the
    period's unique key while the foreign-key check waits for that service: a deadlock.
    """
    if is_postgres(session):
        session.execute(
            text(
                "SELECT 1 FROM services WHERE id = ANY(CAST(:sids AS integer[])) "
                "ORDER BY id FOR KEY SHARE"
            ),
            {"sids": [r.id for r in chunk]},
        )
        claimed = session.scalars(
            text(
                "INSERT INTO billed_periods (service_id, period_start) "
                "SELECT * FROM unnest(CAST(:sids AS integer[]), CAST(:starts AS date[])) "
                "ON CONFLICT (service_id, period_start) DO NOTHING RETURNING service_id"
            ),
            {"sids": [r.id for r in chunk], "starts": [r.due for r in chunk]},
        )
        return set(claimed)
    table = PERIODS
    builder = sqlite_insert
    statement = (
        builder(table)
        .on_conflict_do_nothing(index_elements=["service_id", "period_start"])
        .returning(table.c.service_id)
    )
    won: set[int] = set()
    for start in range(0, len(chunk), CLAIM_BATCH):
        part = chunk[start : start + CLAIM_BATCH]
        rows = [{"service_id": r.id, "period_start": r.due, "document_id": None} for r in part]
        won.update(session.execute(statement, rows).scalars())
    return won


def link_periods(session: Session, links: list[dict[str, Any]]) -> None:
    """Point each claimed billed period at its document."""
    periods = PERIODS
    if is_postgres(session):
        session.execute(
            text(
                "UPDATE billed_periods SET document_id = v.doc FROM unnest("
                "CAST(:docs AS integer[]), CAST(:sids AS integer[]), CAST(:starts AS date[])"
                ") AS v(doc, sid, start) "
                "WHERE billed_periods.service_id = v.sid AND billed_periods.period_start = v.start"
            ),
            {
                "docs": [link["b_doc"] for link in links],
                "sids": [link["b_sid"] for link in links],
                "starts": [link["b_start"] for link in links],
            },
        )
        return
    # one DBAPI executemany (dates converted by the column type's own bind processor)
    process = periods.c.period_start.type._cached_bind_processor(session.get_bind().dialect)
    dates: dict[date, Any] = {}
    params = []
    for link in links:
        start = link["b_start"]
        stored = dates.get(start)
        if stored is None:
            stored = dates[start] = process(start) if process else start
        params.append((link["b_doc"], link["b_sid"], stored))
    cursor = session.connection().connection.cursor()
    try:
        cursor.executemany(
            "UPDATE billed_periods SET document_id = ? WHERE service_id = ? AND period_start = ?",
            params,
        )
    finally:
        cursor.close()
