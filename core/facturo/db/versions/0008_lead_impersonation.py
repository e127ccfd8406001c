"""Who signed in as a customer: auth_sessions.impersonator_id.

Revision ID: 0008_lead_impersonation
Revises: 0007_lead_customer_search
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_lead_impersonation"
down_revision = "0007_lead_customer_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("auth_sessions") as batch:
        batch.add_column(sa.Column("impersonator_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_auth_sessions_impersonator_id_staff_users",
            "staff_users",
            ["impersonator_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("auth_sessions") as batch:
        batch.drop_constraint("fk_auth_sessions_impersonator_id_staff_users", type_="foreignkey")
        batch.drop_column("impersonator_id")
