"""Rendered pages kept in the web process while what they show stays the same.

A page is stored in a *slot* (whose page it is: the customer, the language…) together with the
*key* it was rendered from: the values the page shows, read in the same snapshot as the page.
A later request reads the key again and gets the stored page only when the key is equal, so a
page can never outlive its data, in this process or because another process (or the worker)
changed the database. Nothing is invalidated by hand.

The per-request parts of a page are not stored: pages are rendered with :data:`PLACEHOLDER`
as the CSRF token and :func:`fill` puts the requesting session's token in its place; pages
with one-shot messages are never stored.
"""

from __future__ import annotations

import secrets
from collections.abc import Hashable

from facturo.lru import LeastRecentlyUsed
from facturo.operations.metrics import PAGE_CACHE_LOOKUPS

#: Stands for the CSRF token in a stored page: random per process, so no data can forge it.
PLACEHOLDER = "csrf-" + secrets.token_hex(16)
_PLACEHOLDER_BYTES = PLACEHOLDER.encode("ascii")


def fill(body: bytes, csrf_token: str) -> bytes:
    """``body`` (a stored page) with the requesting session's CSRF token in it."""
    return body.replace(_PLACEHOLDER_BYTES, csrf_token.encode("ascii"))


class PageCache:
    """At most ``slots`` pages, least recently used dropped first; safe across threads. Its
    hits and misses are counted, and reported by ``/metrics`` under the page's ``name`` (the
    plain ``hits`` and ``misses`` are exact where pages are looked up from one thread, as the
    dashboard does on the event loop)."""

    def __init__(self, name: str, slots: int = 1024) -> None:
        self._pages: LeastRecentlyUsed[Hashable, tuple[object, bytes]] = LeastRecentlyUsed(slots)
        self.hits = 0
        self.misses = 0
        self._hit = PAGE_CACHE_LOOKUPS.labels(name, "hit")
        self._miss = PAGE_CACHE_LOOKUPS.labels(name, "miss")

    def get(self, slot: Hashable, key: object) -> bytes | None:
        """The page stored in ``slot`` if it was rendered from a key equal to ``key``."""
        found = self._pages.get(slot)
        if found is None or found[0] != key:
            self.misses += 1
            self._miss.inc()
            return None
        self.hits += 1
        self._hit.inc()
        return found[1]

    def put(self, slot: Hashable, key: object, body: bytes) -> None:
        """Store ``body``, rendered from ``key``, in ``slot`` (replacing what was there)."""
        self._pages.put(slot, (key, body))

    def clear(self) -> None:
        """Forget every page."""
        self._pages.clear()
