"""Facturo: a plugin-based billing engine with a web client area."""

from __future__ import annotations

__version__ = "0.1.0"
