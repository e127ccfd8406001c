"""Reading rows of a few fixed Core SELECTs, from a session or straight from the driver.

Code that runs on every request of a hot page (the section guard's session lookup, the client
dashboard's cache key) reads through a :class:`RowReader`: ``rows(statement, params)`` gives
the typed rows of a Core SELECT built once at import. Two readers give the same values:

* :class:`SessionReader` runs the statements on a session's connection (in its transaction,
  so in its snapshot): for reads that must agree with others, such as a page and its key.
* :class:`PinnedReader` runs them on one DB-API connection per thread kept in autocommit
  (every statement sees the latest committed data, each in its own snapshot), with SQL
  compiled once per statement and the column types' own result processing: no pool
  checkout, no transaction, no SQLAlchemy execution context. It is meant for the event
  loop's thread, where an indexed read is cheaper than a hop to the threadpool. Statements
  must not use expanding (``IN``) parameters. On PostgreSQL each statement is prepared once
  per connection and run through libpq (:mod:`facturo.db.libpq`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from sqlalchemy import Engine, Select, event
from sqlalchemy.orm import Session

from facturo.db.libpq import PreparedStatements

Row = tuple[Any, ...]
#: A read: a Core SELECT and its parameters.
Read = tuple[Select[Any], dict[str, Any]]
#: A statement's raw rows and their description (each column's name and type code first).
Fetched = tuple[list[Sequence[Any]], Sequence[Sequence[Any]]]


class RowReader(Protocol):
    """Something that runs a Core SELECT and returns its typed rows."""

    def rows(self, statement: Select[Any], params: dict[str, Any]) -> list[Row]:
        """The rows of ``statement`` with ``params``, each value as its column type gives it."""
        ...


class SessionReader:
    """Rows read on ``session``'s connection, inside its transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def rows(self, statement: Select[Any], params: dict[str, Any]) -> list[Row]:
        """The rows of ``statement`` with ``params`` (see :class:`RowReader`)."""
        return [tuple(row) for row in self.session.connection().execute(statement, params)]


class _Compiled:
    """A statement compiled for one dialect: SQL, parameter order and defaults (the literal
    values the statement holds), bind and result processors."""

    def __init__(self, engine: Engine, statement: Select[Any]) -> None:
        dialect = engine.dialect
        compiled = statement.compile(dialect=dialect)
        self.statement = statement  # kept so that its id is not reused while cached
        self.sql = str(compiled)
        self.positional = bool(compiled.positional)
        self.order = list(compiled.positiontup or ())
        self.defaults = dict(compiled.construct_params(_check=False))
        self.binds: dict[str, Callable[[Any], Any]] = dict(
            getattr(compiled, "_bind_processors", {})
        )
        self.dialect = dialect
        #: (index, processor) of the columns whose values the type converts, known once the
        #: driver has described the result (a type's processor may depend on it: numerics on
        #: PostgreSQL).
        self.processed: list[tuple[int, Callable[[Any], Any]]] | None = None

    def describe(self, description: Sequence[Sequence[Any]]) -> None:
        """Pick the result processors for the driver's ``cursor.description``."""
        processors = [
            column.type._cached_result_processor(self.dialect, described[1])
            for column, described in zip(self.statement.selected_columns, description, strict=True)
        ]
        self.processed = [(index, process) for index, process in enumerate(processors) if process]

    def arguments(self, params: dict[str, Any]) -> Any:
        """The DB-API parameters for ``params`` (processed as SQLAlchemy would)."""
        values = {**self.defaults, **params}
        binds = self.binds
        for name, process in binds.items():
            if values.get(name) is not None:
                values[name] = process(values[name])
        return [values[name] for name in self.order] if self.positional else values

    def convert(self, raw: Sequence[Sequence[Any]]) -> list[Row]:
        """Typed rows from the driver's rows."""
        processed = self.processed or ()
        if not processed:
            return [tuple(row) for row in raw]
        rows = []
        for row in raw:
            values = list(row)
            for index, process in processed:
                value = values[index]
                if value is not None:
                    values[index] = process(value)
            rows.append(tuple(values))
        return rows


class PinnedConnections:
    """One DB-API connection per thread for ``engine``, in autocommit mode (every statement
    sees the latest committed data, each in its own snapshot); all are closed when the engine
    (or one of ``dispose_with``) is disposed. Read only from a few long-lived threads (the
    event loop's)."""

    def __init__(self, engine: Engine, dispose_with: Sequence[Engine] = ()) -> None:
        self.engine = engine
        self.errors: tuple[type[BaseException], ...] = (engine.dialect.loaded_dbapi.Error,)
        self._local = threading.local()
        self._open: list[Any] = []
        #: On PostgreSQL, each connection's statements run as prepared through libpq.
        self._prepared: dict[int, PreparedStatements] = {}
        self._lock = threading.Lock()
        for owner in {id(e): e for e in (engine, *dispose_with)}.values():
            event.listen(owner, "engine_disposed", self._close_all)

    def fetch(
        self,
        sql: str,
        arguments: Any = (),
        described: Callable[[Sequence[Sequence[Any]]], None] | None = None,
    ) -> list[Sequence[Any]]:
        """Run ``sql`` on this thread's connection and return every row (``described`` is
        given the cursor's description first); on a database error the connection is replaced
        and the statement tried once more before the error is raised."""
        rows, description = self._retried(
            lambda connection: [self._run(connection, sql, arguments)]
        )[0]
        if described is not None:
            described(description)
        return rows

    def fetch_many(self, queries: Sequence[tuple[str, Any]]) -> list[Fetched]:
        """Each of ``queries`` (SQL and arguments) run as :meth:`fetch` runs it: its rows and
        their description. On PostgreSQL all are sent in one round trip."""

        def run(connection: Any) -> list[Fetched]:
            prepared = self._prepared.get(id(connection))
            if prepared is not None:
                return prepared.fetch_many(queries)  # type: ignore[return-value]
            return [self._run(connection, sql, arguments) for sql, arguments in queries]

        return self._retried(run)

    def _retried(self, run: Callable[[Any], list[Fetched]]) -> list[Fetched]:
        """``run`` on this thread's connection; on a database error the connection is
        replaced and ``run`` tried once more before the error is raised."""
        for attempt in (1, 2):
            connection = self._connection()
            try:
                return run(connection)
            except self.errors:
                self._discard(connection)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _run(self, connection: Any, sql: str, arguments: Any) -> Fetched:
        prepared = self._prepared.get(id(connection))
        if prepared is not None:
            return prepared.fetch(sql, arguments)  # type: ignore[return-value]
        cursor = connection.cursor()
        cursor.execute(sql, arguments)
        description = cursor.description
        rows: list[Sequence[Any]] = cursor.fetchall()
        cursor.close()
        return rows, description

    def _connection(self) -> Any:
        connection: Any = getattr(self._local, "connection", None)
        if connection is None:
            fairy = self.engine.raw_connection()
            fairy.detach()  # ours from now on; the pool opens another when it needs one
            connection = fairy.dbapi_connection
            connection.rollback()
            if self.engine.dialect.name == "postgresql":
                connection.autocommit = True
                self._prepared[id(connection)] = PreparedStatements(connection)
            elif self.engine.dialect.name == "sqlite":
                connection.isolation_level = None  # no implicit BEGIN: each SELECT on its own
            with self._lock:
                self._open.append(connection)
            self._local.connection = connection
        return connection

    def _discard(self, connection: Any) -> None:
        self._local.connection = None
        with self._lock:
            if connection in self._open:
                self._open.remove(connection)
            self._prepared.pop(id(connection), None)
        try:
            connection.close()
        except self.errors:
            pass

    def _close_all(self, _engine: Any = None) -> None:
        with self._lock:
            connections, self._open = self._open, []
            self._prepared = {}
        for connection in connections:
            try:
                connection.close()
            except self.errors:
                pass
        self._local = threading.local()


class PinnedReader:
    """Rows read on a DB-API connection of the calling thread's own, in autocommit mode
    (:class:`PinnedConnections`), with each statement compiled once."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.connections = PinnedConnections(engine)
        self._compiled: dict[int, _Compiled] = {}

    def rows(self, statement: Select[Any], params: dict[str, Any]) -> list[Row]:
        """The rows of ``statement`` with ``params`` (see :class:`RowReader`)."""
        compiled = self._compiled_for(statement)
        describe = compiled.describe if compiled.processed is None else None
        fetched = self.connections.fetch(compiled.sql, compiled.arguments(params), describe)
        return compiled.convert(fetched)

    def prefetched(self, reads: Sequence[Read]) -> Prefetched:
        """A reader that answers each of ``reads`` (statement and parameters) from one round
        trip made now (on PostgreSQL; one read after another elsewhere), and any other read
        when it is asked for. Each answer is as fresh as the request that asks for it: a
        prefetch is made at the start of the request that uses it."""
        compiled = [self._compiled_for(statement) for statement, _ in reads]
        fetched = self.connections.fetch_many(
            [
                (each.sql, each.arguments(params))
                for each, (_, params) in zip(compiled, reads, strict=True)
            ]
        )
        answers = []
        for each, (statement, params), (raw, description) in zip(
            compiled, reads, fetched, strict=True
        ):
            if each.processed is None:
                each.describe(description)
            answers.append((statement, params, each.convert(raw)))
        return Prefetched(self, answers)

    def _compiled_for(self, statement: Select[Any]) -> _Compiled:
        compiled = self._compiled.get(id(statement))
        if compiled is None:
            compiled = self._compiled[id(statement)] = _Compiled(self.engine, statement)
        return compiled


class Prefetched:
    """Rows read ahead by :meth:`PinnedReader.prefetched`; each answer is given once, to a
    read of the same statement with equal parameters, and other reads go to ``reader``."""

    def __init__(
        self, reader: RowReader, answers: list[tuple[Select[Any], dict[str, Any], list[Row]]]
    ) -> None:
        self.reader = reader
        self.answers = answers

    def rows(self, statement: Select[Any], params: dict[str, Any]) -> list[Row]:
        """The rows of ``statement`` with ``params`` (see :class:`RowReader`)."""
        for index, (read, read_params, rows) in enumerate(self.answers):
            if read is statement and read_params == params:
                del self.answers[index]
                return rows
        return self.reader.rows(statement, params)


class RecordingReader:
    """A reader that notes each statement and parameters it is asked for (``reads``: what
    to prefetch next time) and reads them through ``reader``."""

    def __init__(self, reader: RowReader) -> None:
        self.reader = reader
        self.reads: list[Read] = []

    def rows(self, statement: Select[Any], params: dict[str, Any]) -> list[Row]:
        """The rows of ``statement`` with ``params`` (see :class:`RowReader`)."""
        self.reads.append((statement, dict(params)))
        return self.reader.rows(statement, params)
