"""SQLite: the WAL checkpoints of a series of large write transactions, run by a thread of their
own instead of by each commit.

In WAL mode the connection whose commit leaves the log over ``wal_autocheckpoint`` pages (1000
by default) copies the log into the database file right then, before the commit returns: for a
batch job that commits about 13 MB at a time, that copy is a tenth of its main thread's time.
:class:`BackgroundCheckpoints` turns the automatic checkpoint off for the job's transactions and
runs the same PASSIVE checkpoint after each commit on another connection, in a thread (SQLite
releases the GIL), while the job goes on with its next transaction. Durability is unchanged:
commits are made exactly as before (``synchronous`` as the engine sets it), only who copies the
log into the database file changes; a checkpoint never loses a committed transaction.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

_SAVED = "facturo_wal_autocheckpoint"


class BackgroundCheckpoints:
    """Checkpoints of ``engine`` (SQLite, WAL mode) after each :meth:`committed`, in a thread.

    Call :meth:`pause` inside each write transaction of the job, :meth:`committed` after each
    commit and :meth:`close` at the end (it waits for a last checkpoint). A connection the job
    paused gets its ``wal_autocheckpoint`` back when it returns to the pool.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wal-checkpoint")
        self._pending: Future[None] | None = None
        if not event.contains(engine, "checkin", _restore_autocheckpoint):
            event.listen(engine, "checkin", _restore_autocheckpoint)

    def pause(self, session: Session) -> None:
        """No automatic checkpoint at the commit of ``session``'s current transaction."""
        connection = session.connection().connection
        if _SAVED not in connection.info:
            connection.info[_SAVED] = int(session.scalar(text("PRAGMA wal_autocheckpoint")) or 0)
        session.execute(text("PRAGMA wal_autocheckpoint = 0"))

    def committed(self) -> None:
        """Start a checkpoint, unless one is still running (the next call will start it)."""
        if self._pending is not None:
            if not self._pending.done():
                return
            self._pending.result()  # its error, if any, is the job's
        self._pending = self._thread.submit(self._checkpoint)

    def close(self) -> None:
        """Wait for the running checkpoint, then run a last one."""
        try:
            if self._pending is not None:
                self._pending.result()
            self._checkpoint()
        finally:
            self._thread.shutdown(wait=True)

    def _checkpoint(self) -> None:
        raw = self.engine.raw_connection()  # in autocommit, as the engine sets them up
        try:
            cursor = raw.cursor()
            try:
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                cursor.fetchall()
            finally:
                cursor.close()
        finally:
            raw.close()


def _restore_autocheckpoint(dbapi_connection: Any, record: Any) -> None:
    value = record.info.pop(_SAVED, None)
    if value is not None and dbapi_connection is not None:
        dbapi_connection.execute(f"PRAGMA wal_autocheckpoint = {int(value)}")
