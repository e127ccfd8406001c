"""Indexes for pages that stay fast at a million documents: credit notes found from their
invoice (``documents.original_id``, read for every listed document; a partial index, as almost
every document has none) and the payments list in
date order (keyset pagination on ``paid_at, id``).

Revision ID: 0012_lead_scale_indexes
Revises: 0011_cof_collections
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

NOT_NULL = sa.text("original_id IS NOT NULL")

revision = "0012_lead_scale_indexes"
down_revision = "0011_cof_collections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Partial: with most rows NULL, a full index's statistics make SQLite scan instead.
    op.create_index(
        "ix_documents_original_id",
        "documents",
        ["original_id"],
        sqlite_where=NOT_NULL,
        postgresql_where=NOT_NULL,
    )
    op.create_index("ix_payments_paid_at_id", "payments", ["paid_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_payments_paid_at_id", table_name="payments")
    op.drop_index("ix_documents_original_id", table_name="documents")
