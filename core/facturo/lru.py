"""A bounded mapping that drops its least recently used entry first.

The web process keeps several such memories (rendered pages, the reads a session's page makes,
verified session cookies); each is bounded, so nothing a client sends can make it grow past
its size.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LeastRecentlyUsed(Generic[K, V]):
    """At most ``size`` entries; reading or writing one makes it the most recently used, and
    a write beyond ``size`` drops the least recently used. Safe across threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value kept for ``key`` (None when there is none)."""
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        """Keep ``value`` for ``key``, replacing what was kept."""
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def forget(self, key: K) -> None:
        """Drop what is kept for ``key``, if anything."""
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._entries.clear()

    def __iter__(self) -> Iterator[K]:
        """The keys, least recently used first (a copy: safe to iterate while others write)."""
        with self._lock:
            return iter(list(self._entries))
