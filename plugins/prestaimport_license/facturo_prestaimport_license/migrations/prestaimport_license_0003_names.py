"""prestaimport_license: suppliers are named in both languages (``name`` is the Spanish name,
also the one signed into leases; ``name_en`` the English one, empty when it is the same).

A plain ADD COLUMN on both databases: SQLite keeps the table, so its state-version triggers
(migration 0002) stay in place.

Revision ID: prestaimport_license_0003_names
Revises: prestaimport_license_0002_pv
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "prestaimport_license_0003_names"
down_revision = "prestaimport_license_0002_pv"
branch_labels = None
depends_on = None

TABLE = "prestaimport_license_suppliers"


def upgrade() -> None:
    op.add_column(
        TABLE, sa.Column("name_en", sa.String(length=200), nullable=False, server_default="")
    )


def downgrade() -> None:
    with op.batch_alter_table(TABLE) as batch_op:
        batch_op.drop_column("name_en")
