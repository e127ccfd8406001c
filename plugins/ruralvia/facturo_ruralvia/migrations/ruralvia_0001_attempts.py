"""ruralvia: card payment attempts.

Revision ID: ruralvia_0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ruralvia_0001"
down_revision = None
branch_labels = ("ruralvia",)
depends_on = "0002"


def upgrade() -> None:
    op.create_table(
        "ruralvia_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_number", sa.String(length=12), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("merchant_code", sa.String(length=9), nullable=False),
        sa.Column("terminal", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("response_code", sa.String(length=8), nullable=True),
        sa.Column("response_es", sa.Text(), nullable=False),
        sa.Column("response_en", sa.Text(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name="fk_ruralvia_attempts_document_id_documents"
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name="fk_ruralvia_attempts_payment_id_payments"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_ruralvia_attempts"),
        sa.UniqueConstraint("order_number", name="uq_ruralvia_attempts_order_number"),
    )
    op.create_index("ix_ruralvia_attempts_document_id", "ruralvia_attempts", ["document_id"])


def downgrade() -> None:
    op.drop_index("ix_ruralvia_attempts_document_id", table_name="ruralvia_attempts")
    op.drop_table("ruralvia_attempts")
