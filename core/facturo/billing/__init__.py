"""Billing: money, taxes, documents and their numbering, orders, services, payments, renewals."""
