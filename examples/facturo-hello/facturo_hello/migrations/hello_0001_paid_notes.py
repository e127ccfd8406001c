"""hello: the paid notes table.

Revision ID: hello_0001_paid_notes
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "hello_0001_paid_notes"
down_revision = None
branch_labels = ("hello",)
# The newest core revision when this was written (a plugin's first migration builds on it).
depends_on = "0006_security_sessions_factors"


def upgrade() -> None:
    op.create_table(
        "hello_paid_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name="fk_hello_paid_notes_document_id_documents"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_hello_paid_notes"),
        sa.UniqueConstraint("document_id", name="uq_hello_paid_notes_document_id"),
    )


def downgrade() -> None:
    op.drop_table("hello_paid_notes")
