"""Bulk inserts for batch work: COPY on PostgreSQL, one DBAPI executemany on SQLite.

For new rows only (no conflict handling), every row with the same keys and every NOT NULL column
given. About twenty times faster than ORM ``add_all`` on both databases.
"""

from __future__ import annotations

import json
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Table, func, select, text
from sqlalchemy.orm import Session


def is_postgres(session: Session) -> bool:
    """True when ``session`` is bound to PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


def reserve_ids(session: Session, table: Table, count: int) -> list[int]:
    """``count`` ids for new rows of ``table`` (integer primary key ``id``), ascending.

    From the sequence on PostgreSQL; on SQLite the write transaction (BEGIN IMMEDIATE) holds
    the database lock, so the ids after the current maximum are this transaction's. An id
    reserved and not used leaves a gap, as a sequence does.
    """
    if count <= 0:
        return []
    if is_postgres(session):
        return sorted(
            int(ident)
            for ident in session.scalars(
                text(  # the sequence looked up once, not once per id
                    "SELECT nextval(q.seq) FROM (SELECT CAST(pg_get_serial_sequence(:table, "
                    "'id') AS regclass) AS seq) AS q, generate_series(1, :n)"
                ),
                {"table": table.name, "n": count},
            )
        )
    first = int(session.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0) + 1
    return list(range(first, first + count))


def bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (all with the same keys, every NOT NULL column given): COPY on
    PostgreSQL, executemany elsewhere. For new rows only: no conflict handling."""
    if not rows:
        return
    if not is_postgres(session):
        _sqlite_executemany(session, table, rows)
        return
    columns = list(rows[0])
    as_json = [i for i, name in enumerate(columns) if isinstance(table.c[name].type, JSON)]
    names = ", ".join(f'"{name}"' for name in columns)
    pick = itemgetter(*columns) if len(columns) > 1 else lambda row: (row[columns[0]],)
    raw = session.connection().connection.driver_connection
    assert raw is not None
    # JSON values go as text (the server parses them, as it would psycopg's Json); a value
    # object shared by many rows (a legend list, a tax breakdown) is serialised once. Keyed
    # by id(): every row, hence every such object, stays alive until the COPY ends.
    encoded: dict[int, str] = {}

    def dumped(value: Any) -> Any:
        if value is None:
            return None
        found = encoded.get(id(value))
        if found is None:
            found = encoded[id(value)] = json.dumps(value)
        return found

    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        write = copy.write_row
        if not as_json:  # the values as they are, picked in C
            for row in rows:
                write(pick(row))
            return
        for row in rows:
            values = list(pick(row))
            for index in as_json:
                values[index] = dumped(values[index])
            write(values)


def _sqlite_executemany(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """One DBAPI executemany, each value converted by its column type's own bind processor
    (the same conversion SQLAlchemy applies, without its per-row statement overhead).

    The rows are turned into columns by ``itemgetter`` and ``zip`` and each converted column
    mapped through a dict of its distinct values, in C loops instead of picking and converting
    value by value in Python (a renewal run's plan tables: 0.48 -> 0.43 s of CPU)."""
    dialect = session.get_bind().dialect
    columns = list(rows[0])
    pick = itemgetter(*columns) if len(columns) > 1 else lambda row: (row[columns[0]],)
    converted: list[Any] = list(zip(*map(pick, rows), strict=True))
    for index, name in enumerate(columns):
        column_type = table.c[name].type
        process = column_type._cached_bind_processor(dialect)
        if process is None:
            continue
        values = converted[index]
        if isinstance(column_type, JSON):
            # by id(): an object shared by many rows is serialised once; the rows keep
            # every such object alive meanwhile, so an id cannot be reused
            by_id = {id(v): v for v in values if v is not None}
            done = {key: process(v) for key, v in by_id.items()}
            converted[index] = [None if v is None else done[id(v)] for v in values]
        else:  # a run repeats the same dates, instants and amounts a lot
            memo = {v: process(v) for v in set(values) if v is not None}
            converted[index] = list(map(memo.get, values))  # None: not in memo, stays None
    names = ", ".join(f'"{name}"' for name in columns)
    marks = ", ".join("?" for _ in columns)
    cursor = session.connection().connection.cursor()
    try:
        cursor.executemany(
            f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})',
            list(zip(*converted, strict=True)),
        )
    finally:
        cursor.close()
