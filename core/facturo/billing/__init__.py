"""Billing domain modules (documents, numbering, taxes and their evidence)."""
