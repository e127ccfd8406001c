"""Payments gain what people read: a value date for date-only payments (a bank transfer's
value date) and the gateway's details (card brand and last four digits).

Revision ID: 0009_refunds_payment_details
Revises: 0008_lead_impersonation
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_refunds_payment_details"
down_revision = "0008_lead_impersonation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("value_date", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("details", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("details")
        batch_op.drop_column("value_date")
