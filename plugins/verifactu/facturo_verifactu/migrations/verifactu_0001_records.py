"""verifactu: record ledger and chain heads.

Revision ID: verifactu_0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "verifactu_0001"
down_revision = None
branch_labels = ("verifactu",)
depends_on = "0002"


def upgrade() -> None:
    op.create_table(
        "verifactu_chain_heads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer_nif", sa.String(length=9), nullable=False),
        sa.Column("last_sequence", sa.Integer(), nullable=False),
        sa.Column("last_record_id", sa.Integer(), nullable=True),
        sa.Column("last_hash", sa.String(length=64), nullable=True),
        sa.Column("next_send_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_wait_seconds", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_verifactu_chain_heads"),
        sa.UniqueConstraint("issuer_nif", name="uq_verifactu_chain_heads_issuer_nif"),
    )
    op.create_table(
        "verifactu_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer_nif", sa.String(length=9), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("invoice_type", sa.String(length=2), nullable=True),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("tax_total", sa.String(length=20), nullable=True),
        sa.Column("total", sa.String(length=20), nullable=True),
        sa.Column("previous_hash", sa.String(length=64), nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("generated_at", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error_description", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("csv", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name="fk_verifactu_records_document_id_documents"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_verifactu_records"),
        sa.UniqueConstraint(
            "issuer_nif", "sequence", name="uq_verifactu_records_issuer_nif_sequence"
        ),
        sa.UniqueConstraint(
            "issuer_nif", "kind", "number", name="uq_verifactu_records_issuer_nif_kind_number"
        ),
    )
    op.create_index("ix_verifactu_records_status", "verifactu_records", ["status"])
    op.create_index("ix_verifactu_records_document_id", "verifactu_records", ["document_id"])


def downgrade() -> None:
    op.drop_index("ix_verifactu_records_document_id", table_name="verifactu_records")
    op.drop_index("ix_verifactu_records_status", table_name="verifactu_records")
    op.drop_table("verifactu_records")
    op.drop_table("verifactu_chain_heads")
