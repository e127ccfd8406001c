"""LeastRecentlyUsed: bounded, the least recently read or written entry dropped first."""

from __future__ import annotations

from facturo.lru import LeastRecentlyUsed


def test_a_write_beyond_the_size_drops_the_least_recently_used() -> None:
    kept: LeastRecentlyUsed[str, int] = LeastRecentlyUsed(size=2)
    kept.put("a", 1)
    kept.put("b", 2)
    assert kept.get("a") == 1  # "a" is now the most recently used
    kept.put("c", 3)
    assert kept.get("b") is None
    assert list(kept) == ["a", "c"]


def test_forget_and_clear() -> None:
    kept: LeastRecentlyUsed[str, int] = LeastRecentlyUsed(size=3)
    kept.put("a", 1)
    kept.put("b", 2)
    kept.forget("a")
    kept.forget("missing")
    assert list(kept) == ["b"]
    kept.clear()
    assert list(kept) == []
