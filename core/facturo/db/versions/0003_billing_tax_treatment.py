"""Widen documents.tax_treatment: the codes eu_reverse_charge and special_territory are 17
characters long.

Revision ID: 0003_billing
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_billing"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite does not enforce VARCHAR lengths (and a batch rebuild would drop the triggers).
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column(
            "documents",
            "tax_treatment",
            existing_type=sa.String(length=16),
            type_=sa.String(length=32),
            existing_nullable=False,
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column(
            "documents",
            "tax_treatment",
            existing_type=sa.String(length=32),
            type_=sa.String(length=16),
            existing_nullable=False,
            postgresql_using="left(tax_treatment, 16)",
        )
