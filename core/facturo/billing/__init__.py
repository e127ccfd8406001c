"""Billing: documents, numbering, taxes, money and how documents are presented."""
