"""Facturo plugin `prestaimport_license`: its hook implementations (see facturo.hookspecs)."""

from __future__ import annotations
