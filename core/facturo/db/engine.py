"""Engines and sessions.

On SQLite every write session starts with ``BEGIN IMMEDIATE`` so that writers queue on the
database lock instead of failing when a read transaction tries to upgrade; read-only work can
ask for a deferred connection. On PostgreSQL the default READ COMMITTED is used and row locks
(``SELECT … FOR UPDATE``) serialise what must be serialised.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from facturo.db.reader import PinnedReader

T = TypeVar("T")


def make_engine(url: str, echo: bool = False) -> Engine:
    """Create an engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False}
        )
        _configure_sqlite(engine)
        return engine
    if parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg").render_as_string(False))
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")


class ReadOnlySessionError(RuntimeError):
    """Something was written in a session from ``Database.read_session()``.

    Such writes would vanish (a read session is never committed), so they are refused when
    they reach the database: at flush, or when an INSERT/UPDATE/DELETE statement is run.
    """


def _refuse_flush(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        changed = [*session.new, *session.dirty, *session.deleted]
        names = ", ".join(sorted({type(obj).__name__ for obj in changed}))
        raise ReadOnlySessionError(
            f"write in a read-only session ({names}): use ctx.db.transaction() to write; "
            "the helpers that take a session never commit"
        )


def _refuse_statement(state: Any) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise ReadOnlySessionError(
            "INSERT/UPDATE/DELETE in a read-only session: use ctx.db.transaction() to write"
        )


class Database:
    """One engine and its session factories."""

    def __init__(self, url: str, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        reader = self.engine.execution_options(sqlite_begin="DEFERRED")
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._readers = sessionmaker(reader, expire_on_commit=False)
        event.listen(self._readers, "before_flush", _refuse_flush)
        event.listen(self._readers, "do_orm_execute", _refuse_statement)
        self.read_engine = reader
        self._pinned: PinnedReader | None = None
        self._pinned_lock = threading.Lock()

    def pinned_reader(self) -> PinnedReader:
        """The process's :class:`~facturo.db.reader.PinnedReader` (a connection per thread
        that reads through it, in autocommit: call it from the event loop's thread)."""
        if self._pinned is None:
            with self._pinned_lock:
                if self._pinned is None:
                    self._pinned = PinnedReader(self.engine)
        return self._pinned

    def session(self) -> Session:
        """A new session for work that may write."""
        return self._sessions()

    def read_session(self) -> Session:
        """A new session for read-only work (no write lock on SQLite); writing in it raises
        ReadOnlySessionError (it is never committed, so the write would vanish)."""
        return self._readers()

    def snapshot_session(self) -> Session:
        """A read session whose statements all see one snapshot of the database: several
        reads that must agree (a page and the key it is cached under) cannot straddle a
        commit. SQLite's deferred read transaction holds its snapshot from the first read;
        on PostgreSQL the transaction is REPEATABLE READ (READ COMMITTED gives each statement
        its own snapshot). Read-only: a read-only transaction never fails to serialise."""
        session = self._readers()
        if not self.is_sqlite:
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction, committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def run(self, work: Callable[[Session], T], attempts: int = 5) -> T:
        """Run ``work`` in a transaction, retrying when the database reports a lock conflict."""
        for attempt in range(attempts):
            try:
                with self.transaction() as session:
                    return work(session)
            except OperationalError as exc:
                if attempt == attempts - 1 or not _is_retryable(exc):
                    raise
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _is_retryable(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "locked" in text or "deadlock" in text or "could not serialize" in text
