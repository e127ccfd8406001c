"""Renewals collected without the customer acting: the collection method of each customer
and every charge attempt on a renewal proforma (unique per document and attempt number).

Revision ID: 0011_cof_collections
Revises: 0009_refunds_payment_details
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_cof_collections"
down_revision = "0009_refunds_payment_details"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "collection_methods",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("gateway", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_collection_methods_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_collection_methods")),
    )
    op.create_table(
        "collection_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("gateway", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("retry_on", sa.Date(), nullable=True),
        sa.Column("charged_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("attempt >= 1", name=op.f("ck_collection_attempts_attempt_positive")),
        sa.CheckConstraint(
            "status IN ('charging', 'paid', 'declined', 'unusable', 'error', 'unknown', 'skipped')",
            name=op.f("ck_collection_attempts_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_collection_attempts_document_id_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_attempts")),
        sa.UniqueConstraint(
            "document_id", "attempt", name=op.f("uq_collection_attempts_document_id_attempt")
        ),
    )
    op.create_index(
        op.f("ix_collection_attempts_document_id"), "collection_attempts", ["document_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_collection_attempts_document_id"), table_name="collection_attempts")
    op.drop_table("collection_attempts")
    op.drop_table("collection_methods")
