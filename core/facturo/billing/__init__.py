"""Billing: money, taxes, documents and their numbering, orders, services, payments, renewals,
and the evidence behind their VAT (VAT-number checks, place of supply, consumer consent)."""
