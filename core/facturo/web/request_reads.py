"""The reads a request makes on the event loop, sent in one round trip when the same session
asked for the same page before.

The section guard reads the login session, and a page like the client dashboard reads its
cache key, through :func:`reader_of`: one :class:`~facturo.db.reader.RecordingReader` per
request over the process's :class:`~facturo.db.reader.PinnedReader`. A page whose reads are
the same from one request to the next calls :func:`remember` once it has made them: they are
kept (statements and parameters, the session's first) for that path and session. The next
request for that path in that session sends them all at once before the guard asks for the
first (:meth:`~facturo.db.reader.PinnedReader.prefetched`: one libpq pipeline on PostgreSQL),
and each read is answered from there. Every answer is read at the start of the request that
uses it, so nothing is served older than a live read would be; a read the plan does not hold
is made live. Plans are kept per process, at most :data:`KEPT_PLANS`, least recently used
dropped first, under the session token's hash (never the token).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from facturo.accounts.sessions import token_hash
from facturo.db.reader import Read, RecordingReader
from facturo.lru import LeastRecentlyUsed

KEPT_PLANS = 4096


class ReadPlans(LeastRecentlyUsed[tuple[str, str], tuple[Read, ...]]):
    """The reads to send ahead, per path and session; safe across threads."""

    def __init__(self, size: int = KEPT_PLANS) -> None:
        super().__init__(size)

    def get(self, key: tuple[str, str]) -> tuple[Read, ...]:
        """The reads kept for ``key`` (empty when none)."""
        return super().get(key) or ()


def plans_of(request: Request) -> ReadPlans:
    """The plans of this app's process, made on first use."""
    state = request.app.state
    plans = getattr(state, "read_plans", None)
    if plans is None:
        plans = state.read_plans = ReadPlans()
    return plans


def reader_of(request: Request, token: str = "") -> RecordingReader:
    """The request's reader, made on first use: over this session's plan for the path when
    there is one (``token``: the session secret the guard found in the cookie)."""
    state = request.state
    reader: RecordingReader | None = getattr(state, "facturo_reader", None)
    if reader is not None:
        return reader
    pinned = request.app.state.ctx.db.pinned_reader()
    key = (request.scope["path"], token_hash(token)) if token else None
    plan = plans_of(request).get(key) if key is not None else ()
    base: Any = pinned.prefetched(plan) if plan else pinned
    reader = state.facturo_reader = RecordingReader(base)
    state.facturo_reads_key = key
    return reader


def remember(request: Request) -> None:
    """Keep the reads this request made through :func:`reader_of`, to be sent ahead next time
    (nothing when the request has no session)."""
    reader: RecordingReader | None = getattr(request.state, "facturo_reader", None)
    key: tuple[str, str] | None = getattr(request.state, "facturo_reads_key", None)
    if reader is not None and key is not None:
        plans_of(request).put(key, tuple(reader.reads))
