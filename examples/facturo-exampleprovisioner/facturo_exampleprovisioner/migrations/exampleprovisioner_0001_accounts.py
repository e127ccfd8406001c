"""exampleprovisioner: the accounts table.

Revision ID: exampleprovisioner_0001_accounts
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# region: migration
revision = "exampleprovisioner_0001_accounts"
down_revision = None
branch_labels = ("exampleprovisioner",)
# The newest core revision when this was written (a plugin's first migration builds on it).
depends_on = "0006_security_sessions_factors"
# endregion


def upgrade() -> None:
    op.create_table(
        "exampleprovisioner_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("paid_until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name="fk_exampleprovisioner_accounts_service_id_services",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_exampleprovisioner_accounts"),
        sa.UniqueConstraint("service_id", name="uq_exampleprovisioner_accounts_service_id"),
    )


def downgrade() -> None:
    op.drop_table("exampleprovisioner_accounts")
