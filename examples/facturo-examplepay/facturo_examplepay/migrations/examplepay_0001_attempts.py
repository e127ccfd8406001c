"""examplepay: the payment attempts table.

Revision ID: examplepay_0001_attempts
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "examplepay_0001_attempts"
down_revision = None
branch_labels = ("examplepay",)
# The newest core revision when this was written (a plugin's first migration builds on it).
depends_on = "0006_security_sessions_factors"


def upgrade() -> None:
    op.create_table(
        "examplepay_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name="fk_examplepay_attempts_document_id_documents"
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name="fk_examplepay_attempts_payment_id_payments"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_examplepay_attempts"),
        sa.UniqueConstraint("reference", name="uq_examplepay_attempts_reference"),
    )
    op.create_index("ix_examplepay_attempts_document_id", "examplepay_attempts", ["document_id"])


def downgrade() -> None:
    op.drop_index("ix_examplepay_attempts_document_id", table_name="examplepay_attempts")
    op.drop_table("examplepay_attempts")
