"""Indexes for pages that stay fast at a million documents: credit notes found from their
invoice (``documents.original_id``, read for every listed document) and the payments list in
date order (keyset pagination on ``paid_at, id``).

Revision ID: 0012_lead_scale_indexes
Revises: 0011_cof_collections
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0012_lead_scale_indexes"
down_revision = "0011_cof_collections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_documents_original_id", "documents", ["original_id"])
    op.create_index("ix_payments_paid_at_id", "payments", ["paid_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_payments_paid_at_id", table_name="payments")
    op.drop_index("ix_documents_original_id", table_name="documents")
