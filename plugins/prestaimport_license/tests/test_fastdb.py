"""FastInsert.prepare makes the parameters SQLAlchemy's compiled statement would bind."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Table, select

from facturo.plugin import Context
from facturo_prestaimport_license.fastdb import FastInsert
from facturo_prestaimport_license.models import ValidationLog

LOG_TABLE: Table = ValidationLog.__table__  # type: ignore[assignment]


def test_prepared_rows_are_the_compiled_statements_parameters(lctx: Context) -> None:
    writer = FastInsert(lctx.db.engine, LOG_TABLE)
    rows = []
    for at in (datetime(2026, 7, 1, 10, 0, tzinfo=UTC), datetime(999, 1, 2, 3, 4, 5, 6, UTC)):
        row = {
            "at": at,
            "licence_id": None if at.year < 2000 else 7,
            "key_hint": "…QY",
            "shop_host": "shop.example",
            "install_id": "",
            "code": "VALID",
            "ip": "127.0.0.1",
            "app_version": "1.2",
            "ignored": "not a column",
        }
        expected = writer.compiled.arguments({name: row[name] for name in writer.columns})
        assert writer.prepare(row) == expected
        rows.append(row)
    writer.insert_many(rows)  # COPY on PostgreSQL, a multi-row INSERT on SQLite
    with lctx.db.read_session() as session:
        written = session.scalars(select(ValidationLog).order_by(ValidationLog.id)).all()
    assert [{name: getattr(log, name) for name in writer.columns} for log in written] == [
        {name: row[name] for name in writer.columns} for row in rows
    ]


def test_naive_instants_are_still_refused(lctx: Context) -> None:
    writer = FastInsert(lctx.db.engine, LOG_TABLE)
    row = dict.fromkeys(writer.columns, "x") | {"at": datetime(2026, 7, 1, 10, 0)}
    with pytest.raises(ValueError, match="timezone-aware"):
        writer.prepare(row)
