"""FastInsert.prepare makes the parameters SQLAlchemy's compiled statement would bind."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Table

from facturo.plugin import Context
from facturo_prestaimport_license.fastdb import FastInsert
from facturo_prestaimport_license.models import ValidationLog

LOG_TABLE: Table = ValidationLog.__table__  # type: ignore[assignment]


def test_prepared_rows_are_the_compiled_statements_parameters(lctx: Context) -> None:
    writer = FastInsert(lctx.db.engine, LOG_TABLE)
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
    writer.insert_many([row])


def test_naive_instants_are_still_refused(lctx: Context) -> None:
    writer = FastInsert(lctx.db.engine, LOG_TABLE)
    row = dict.fromkeys(writer.columns, "x") | {"at": datetime(2026, 7, 1, 10, 0)}
    with pytest.raises(ValueError, match="timezone-aware"):
        writer.prepare(row)
