"""transfer: bank statement imports and lines.

Revision ID: transfer_0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "transfer_0001"
down_revision = None
branch_labels = ("transfer",)
depends_on = "0002"


def upgrade() -> None:
    op.create_table(
        "transfer_statement_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("file_format", sa.String(length=16), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_transfer_statement_imports"),
    )
    op.create_table(
        "transfer_statement_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("identity", sa.String(length=200), nullable=False),
        sa.Column("booking_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("remittance", sa.Text(), nullable=False),
        sa.Column("bank_reference", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("confidence", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["transfer_statement_imports.id"],
            name="fk_transfer_statement_lines_import_id",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name="fk_transfer_statement_lines_document_id",
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name="fk_transfer_statement_lines_payment_id"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_transfer_statement_lines"),
        sa.UniqueConstraint("identity", name="uq_transfer_statement_lines_identity"),
    )
    op.create_index(
        "ix_transfer_statement_lines_import_id", "transfer_statement_lines", ["import_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_transfer_statement_lines_import_id", table_name="transfer_statement_lines")
    op.drop_table("transfer_statement_lines")
    op.drop_table("transfer_statement_imports")
