"""Test data builders (they live in facturo.testing so plugin tests can use them too)."""

from __future__ import annotations

from facturo.testing import make_catalog, make_customer

__all__ = ["make_catalog", "make_customer"]
