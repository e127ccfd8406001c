"""Core statements compiled once and run on raw DB-API connections, for the validation hot path.

:class:`~facturo.plugin.PinnedConnections` (the core's) keeps one connection per thread (the
event loop's, in a web process) in autocommit mode, on which :class:`PinnedQuery` runs: no pool
checkout or pre-ping, no SQLAlchemy execution context and no transaction per request, and every
SELECT still sees the latest committed data. The connections are closed when the engine is
disposed. :class:`FastInsert` writes many rows in one transaction (multi-row ``INSERT`` on
SQLite, ``COPY`` on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import DateTime, Engine, Table, TypeDecorator, bindparam, insert

from facturo.plugin import PinnedConnections

Converter = Callable[[Sequence[Any]], tuple[Any, ...]]


class _Compiled:
    """A statement compiled for one dialect, with its parameter order and bind processors."""

    def __init__(self, engine: Engine, statement: Any) -> None:
        compiled = statement.compile(dialect=engine.dialect)
        self.sql = str(compiled)
        self.positional = bool(compiled.positional)
        self.order = list(compiled.positiontup or ())
        self.binds: dict[str, Callable[[Any], Any]] = dict(
            getattr(compiled, "_bind_processors", {})
        )

    def arguments(self, params: dict[str, Any]) -> Any:
        """The DB-API parameters for ``params`` (processed as SQLAlchemy would)."""
        binds = self.binds
        values = {
            name: (binds[name](value) if name in binds else value) for name, value in params.items()
        }
        return [values[name] for name in self.order] if self.positional else values


class PinnedQuery:
    """A Core SELECT compiled once for the connections' engine, run on a pinned connection.

    ``rows`` returns raw DB-API tuples; :meth:`converter` builds a function that picks columns
    by name and applies their result processors (the SQLAlchemy types' own).
    """

    def __init__(self, connections: PinnedConnections, statement: Any) -> None:
        self.connections = connections
        dialect = connections.engine.dialect
        self.compiled = _Compiled(connections.engine, statement)
        self.names = [column.key for column in statement.selected_columns]
        self.processors = [
            column.type._cached_result_processor(dialect, None)
            for column in statement.selected_columns
        ]

    def rows(self, params: dict[str, Any]) -> list[Sequence[Any]]:
        """Run the query with ``params``; raw rows."""
        return self.connections.fetch(self.compiled.sql, self.compiled.arguments(params))

    def converter(self, names: Sequence[str]) -> Converter:
        """A function turning a raw row into the typed values of the columns ``names``."""
        picks = [
            (self.names.index(name), self.processors[self.names.index(name)]) for name in names
        ]

        def convert(row: Sequence[Any]) -> tuple[Any, ...]:
            return tuple(
                value if (value := row[index]) is None or process is None else process(value)
                for index, process in picks
            )

        return convert


#: Instants a quicker processor must write exactly as SQLAlchemy's before it is used.
_PROBES = (
    datetime(2026, 12, 1, 18, 47, 0, tzinfo=UTC),
    datetime(2026, 12, 1, 18, 47, 0, 1, tzinfo=UTC),
    datetime(999, 1, 2, 3, 4, 5, 999_999, tzinfo=timezone(timedelta(hours=-5))),
)


def _quicker(
    column_type: Any, engine: Engine, process: Callable[[Any], Any] | None
) -> Callable[[Any], Any] | None:
    """``process``, or an equivalent that is quicker: on SQLite a decorated DATETIME column's
    bind processor formats the naive instant with a ``%``-format of nine fields (~2.1 µs);
    ``isoformat(" ", "microseconds")`` writes the same text in a fifth of the time. Used only
    when it gives SQLAlchemy's text for every probe instant (and SQLAlchemy's processor is
    kept for anything that is not a datetime once decorated)."""
    if (
        process is None
        or engine.dialect.name != "sqlite"
        or not isinstance(column_type, TypeDecorator)
        or not isinstance(column_type.impl, DateTime)
    ):
        return process
    decorate, dialect, plain = column_type.process_bind_param, engine.dialect, datetime

    def quicker(value: Any) -> Any:
        naive = decorate(value, dialect)
        return naive.isoformat(" ", "microseconds") if type(naive) is plain else process(value)

    same = all(quicker(probe) == process(probe) for probe in _PROBES)
    return quicker if same and quicker(None) == process(None) else process


class FastInsert:
    """An INSERT of every column but the id, compiled once.

    :meth:`prepare` turns a row into DB-API parameters (the columns' own bind processing) where
    the row is made; :meth:`insert_prepared` writes many in one transaction. On SQLite that is
    one multi-row ``INSERT … VALUES (…), (…)`` per :data:`ROWS_PER_STATEMENT` rows, so the
    thread that writes holds the GIL for a few calls rather than once per row (with
    ``executemany`` it takes the GIL back after every row, and each time the event loop's
    thread must hand it over). On PostgreSQL it is one ``COPY`` (psycopg dumps the values as
    for the statement's parameters).
    """

    ROWS_PER_STATEMENT = 1000

    def __init__(self, engine: Engine, table: Table) -> None:
        self.engine = engine
        self.columns = [column.name for column in table.columns if column.name != "id"]
        self.compiled = _Compiled(
            engine, insert(table).values({name: bindparam(name) for name in self.columns})
        )
        self.sqlite = engine.dialect.name == "sqlite" and self.compiled.positional
        head, values, tail = self.compiled.sql.rpartition("VALUES")
        self._head, self._group = head + values, tail.strip()
        binds = self.compiled.binds
        #: PostgreSQL (psycopg): the COPY that writes the rows, in ``columns`` order.
        self._copy: Any = None
        if engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
            from psycopg.sql import SQL, Identifier  # the driver's, present where it is used

            self._copy = SQL("COPY {} ({}) FROM STDIN").format(
                Identifier(table.name), SQL(", ").join(map(Identifier, self.columns))
            )
        #: (column, its bind processor or None) in the statement's parameter order.
        self._plan = [
            (name, _quicker(table.columns[name].type, engine, binds.get(name)))
            for name in (self.compiled.order if self.compiled.positional else self.columns)
        ]

    def prepare(self, row: dict[str, Any]) -> Any:
        """The DB-API parameters of ``row`` (a dict keyed by column name): what
        ``compiled.arguments`` makes of its columns, in one pass over them."""
        if self.compiled.positional:
            return [
                value if process is None else process(value)
                for name, process in self._plan
                for value in (row[name],)
            ]
        return {
            name: value if process is None else process(value)
            for name, process in self._plan
            for value in (row[name],)
        }

    def insert_prepared(self, prepared: list[Any]) -> None:
        """Insert rows made by :meth:`prepare` and commit."""
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            if self.sqlite:
                cursor.execute("BEGIN IMMEDIATE")
                step = self.ROWS_PER_STATEMENT
                for start in range(0, len(prepared), step):
                    chunk = prepared[start : start + step]
                    sql = self._head + " " + ", ".join([self._group] * len(chunk))
                    cursor.execute(sql, [value for row in chunk for value in row])
            elif self._copy is not None:
                # COPY: per row ~2 µs of this process's CPU and ~5 µs of the server's, against
                # ~7-11 and ~10 with executemany (a Bind/Execute per row, in psycopg's pipeline)
                columns = self.columns
                with cursor.copy(self._copy) as copy:
                    for row in prepared:
                        copy.write_row([row[name] for name in columns])
            else:
                cursor.executemany(self.compiled.sql, prepared)
            cursor.close()
            raw.commit()
        except BaseException:
            raw.rollback()
            raise
        finally:
            raw.close()

    def insert_many(self, rows: list[dict[str, Any]]) -> None:
        """Insert ``rows`` (dicts keyed by column name) and commit."""
        self.insert_prepared([self.prepare(row) for row in rows])
