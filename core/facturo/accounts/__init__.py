"""Accounts: customers and staff, passwords, two-factor, API tokens, email-link tokens."""
