"""The validation log: one row per evaluated request, written in batches off the event loop.

With ``log_batch_size`` = 1 the row is written before the answer leaves (in a worker thread, so
the event loop keeps serving); with a larger size rows are queued and written together when the
batch is full, and at most half a second after the first queued row, by a worker thread. Rows
still queued when a web process stops are written by the ``web_process_stopping`` hook (the
ASGI lifespan's shutdown: :func:`flush_on_stop`, which first waits for a write in progress),
and, for a server without a lifespan, at exit.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import threading
from typing import Any

from sqlalchemy import Table
from starlette.concurrency import run_in_threadpool

from facturo.plugin import Context

from .fastdb import FastInsert
from .models import ValidationLog

LOG = logging.getLogger(__name__)
FLUSH_DELAY_SECONDS = 0.5
_TABLE: Table = ValidationLog.__table__  # type: ignore[assignment]


class LogBuffer:
    """Validation-log rows written in batches of ``size`` (1 = each row at once)."""

    def __init__(self, ctx: Context, size: int) -> None:
        self.ctx = ctx
        self.size = size
        self.rows: list[Any] = []
        self.lock = threading.Lock()
        #: Held while rows are written, so that a final flush waits for one in progress.
        self.writing = threading.Lock()
        self.timer: asyncio.TimerHandle | None = None
        self._writer: FastInsert | None = None

    def add(self, row: dict[str, Any]) -> bool:
        """Queue ``row`` (turned into parameters here, so that the writing thread has little
        Python to run); True when the buffer is full and should be flushed now."""
        prepared = self.writer().prepare(row)
        with self.lock:
            self.rows.append(prepared)
            return len(self.rows) >= self.size

    def flush(self) -> int:
        """Write every queued row in one transaction; return how many. On a database error
        the rows are logged as lost (the answers were already sent) and 0 is returned."""
        with self.writing:
            with self.lock:
                rows, self.rows = self.rows, []
            if not rows:
                return 0
            try:
                self.writer().insert_prepared(rows)
            except Exception:
                LOG.exception("could not write %d validation log rows", len(rows))
                return 0
            return len(rows)

    def close(self) -> int:
        """Cancel the pending timed flush and write every queued row now (after any write in
        progress); return how many were written."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        return self.flush()

    def writer(self) -> FastInsert:
        """The compiled log insert for this context's engine."""
        if self._writer is None:
            self._writer = FastInsert(self.ctx.db.engine, _TABLE)
        return self._writer

    async def record(self, row: dict[str, Any]) -> None:
        """Queue ``row`` and see that it gets written (see the module docstring)."""
        if self.size == 1:
            self.add(row)
            await run_in_threadpool(self.flush)
            return
        loop = asyncio.get_running_loop()
        if self.add(row):
            loop.run_in_executor(None, self.flush)
        elif self.timer is None:
            self.timer = loop.call_later(FLUSH_DELAY_SECONDS, self._flush_later, loop)

    def _flush_later(self, loop: asyncio.AbstractEventLoop) -> None:
        self.timer = None
        loop.run_in_executor(None, self.flush)


_BUFFERS: dict[int, LogBuffer] = {}


def log_buffer(ctx: Context, size: int) -> LogBuffer:
    """The log buffer of ``ctx`` (one per context and process)."""
    buffer = _BUFFERS.get(id(ctx))
    if buffer is None or buffer.ctx is not ctx:
        buffer = _BUFFERS[id(ctx)] = LogBuffer(ctx, size)
        if size > 1:
            atexit.register(buffer.flush)  # rows still queued when the worker stops
    return buffer


def flush_on_stop(ctx: Context) -> int:
    """Write the rows ``ctx``'s buffer still holds (a web process is stopping); return how
    many."""
    buffer = _BUFFERS.get(id(ctx))
    if buffer is None or buffer.ctx is not ctx:
        return 0
    return buffer.close()
