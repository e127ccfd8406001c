"""Errors of billing operations."""

from __future__ import annotations

from facturo.errors import FacturoError


class BillingError(FacturoError):
    """A billing operation is not allowed (e.g. cancelling a paid document)."""


class ImmutableDocumentError(BillingError):
    """An issued invoice or credit note cannot be changed or deleted."""
