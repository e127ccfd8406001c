"""Facturo plugin `tickets`: its hook implementations (see facturo.hookspecs)."""

from __future__ import annotations
