"""Where the reads of the hottest paths run: on the event loop, or in the threadpool.

The section guard's session lookup and the client dashboard's cache key are a few indexed
SELECTs through a :class:`~facturo.db.reader.RowReader`. On SQLite they cost less on the event
loop (no hop to the threadpool; a read never waits for a lock in WAL mode). On PostgreSQL each
is a round trip to the server: run on the loop, they would hold up every other request of the
process while they wait, so they go to the threadpool, where the waits of many requests
overlap, on a few shared connections.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

from facturo.db.engine import Database
from facturo.db.reader import RowReader

T = TypeVar("T")


async def read_hot(db: Database, work: Callable[[RowReader], T]) -> T:
    """``work(reader)``: on the event loop with its pinned connection on SQLite, in the
    threadpool with the shared connections on PostgreSQL."""
    if db.is_sqlite:
        return work(db.pinned_reader())
    return await run_in_threadpool(work, db.shared_reader())
