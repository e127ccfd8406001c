"""Billing: money, taxes, documents and their numbering, orders, services, payments, renewals,
the evidence behind their VAT (VAT-number checks, place of supply, consumer consent), and how
documents are presented."""
