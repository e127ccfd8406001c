"""Batches of the renewal run written by two transactions at once (PostgreSQL).

The run is bound by the server's CPU (foreign-key checks, index entries, WAL), which one
connection spends on one core. Two writer threads, each with its own connection and
transaction, take the drafted batches in order. What must follow batch order (the document
ids and the block of proforma references) is reserved by the drafting worker in a short
transaction of its own, committed before the batch is written, so the two batch transactions
hold no lock in common but the invoice series' (only when credit settles a proforma, at
their ends: the second waits for the first's commit).

A proforma reference is not a legal number (only invoice numbers, allocated at payment, are
gap-free), so a batch that fails or loses claims to a concurrent run leaves unused
references, as unused ids of a sequence. SQLite serialises writers: it keeps one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from facturo.context import Context

#: batch transactions at once; the machine measured has 2 cores and the server's work
#: per batch is about twice this process's
WRITERS = 2

B = TypeVar("B")


def write_in_parallel(
    ctx: Context,
    take: Callable[[], B | None],
    write: Callable[[Session, B], None],
    writers: int = WRITERS,
) -> None:
    """Write every batch ``take`` gives (None: no more) in ``writers`` threads, each batch in
    a transaction of its own, at the same time as the other writers'.

    ``take`` is called by one writer at a time. The first error stops the other writers
    from taking more batches and is raised once they are done."""
    order = threading.Lock()
    failed = threading.Event()

    def writer() -> None:
        try:
            while not failed.is_set():
                with order:
                    batch = None if failed.is_set() else take()
                if batch is None:
                    return
                with ctx.db.transaction() as session:
                    write(session, batch)
        except BaseException:
            failed.set()
            raise

    with ThreadPoolExecutor(writers, thread_name_prefix="renewal-write") as pool:
        futures = [pool.submit(writer) for _ in range(writers)]
    for future in futures:
        future.result()
