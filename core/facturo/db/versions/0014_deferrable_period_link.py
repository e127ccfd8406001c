"""The billed period's link to its document may be checked at commit: the renewal run claims a
period with the id its document will have and writes the document later in the same
transaction (``SET CONSTRAINTS … DEFERRED``), instead of linking every claim afterwards.

PostgreSQL only: SQLite defers any foreign key of a transaction with
``PRAGMA defer_foreign_keys``. Still checked immediately unless a transaction defers it.

Revision ID: 0014_deferrable_period_link
Revises: 0013_lead_customer_trigrams
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0014_deferrable_period_link"
down_revision = "0013_lead_customer_trigrams"
branch_labels = None
depends_on = None

CONSTRAINT = "fk_billed_periods_document_id_documents"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"ALTER TABLE billed_periods ALTER CONSTRAINT {CONSTRAINT} "
            "DEFERRABLE INITIALLY IMMEDIATE"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE billed_periods ALTER CONSTRAINT {CONSTRAINT} NOT DEFERRABLE")
