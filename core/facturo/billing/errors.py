"""Errors of billing operations."""

from __future__ import annotations


class BillingError(Exception):
    """A billing operation is not allowed (e.g. cancelling a paid document)."""


class ImmutableDocumentError(BillingError):
    """An issued invoice or credit note cannot be changed or deleted."""
