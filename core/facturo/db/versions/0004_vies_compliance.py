"""Tax evidence per document (VAT-number check, place of supply), the consumer's order terms
(immediate supply and withdrawal), withdrawals, and the payer's country on payments.

Revision ID: 0004_vies_compliance
Revises: 0003_billing
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_vies_compliance"
down_revision = "0003_billing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tax_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("vat_number", sa.String(length=32), nullable=False),
        sa.Column("vat_status", sa.String(length=16), nullable=False),
        sa.Column("vat_reference", sa.String(length=64), nullable=False),
        sa.Column("vat_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("vat_detail", sa.Text(), nullable=False),
        sa.Column("vat_source", sa.String(length=32), nullable=False),
        sa.Column("billing_country", sa.String(length=2), nullable=False),
        sa.Column("payment_country", sa.String(length=2), nullable=False),
        sa.Column("payment_source", sa.String(length=32), nullable=False),
        sa.Column("conflict", sa.Boolean(), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.String(length=64), nullable=False),
        sa.Column("review_note", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "vat_status IN ('', 'valid', 'invalid', 'unknown')",
            name=op.f("ck_tax_evidence_vat_status_known"),
        ),
        sa.CheckConstraint(
            "NOT conflict OR payment_country <> billing_country",
            name=op.f("ck_tax_evidence_conflict"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_tax_evidence_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tax_evidence")),
        sa.UniqueConstraint("document_id", name=op.f("uq_tax_evidence_document_id")),
    )
    op.create_index(
        "ix_tax_evidence_conflict_reviewed", "tax_evidence", ["conflict", "reviewed_at"]
    )
    op.create_table(
        "order_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("immediate_supply", sa.Boolean(), nullable=False),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("text_version", sa.String(length=32), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_order_terms_document_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_order_terms_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_terms")),
        sa.UniqueConstraint("document_id", name=op.f("uq_order_terms_document_id")),
    )
    op.create_index(op.f("ix_order_terms_customer_id"), "order_terms", ["customer_id"])
    op.create_table(
        "withdrawals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("credit_note_id", sa.Integer(), nullable=True),
        sa.Column("refund_id", sa.Integer(), nullable=True),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_withdrawals_amount_not_negative")),
        sa.CheckConstraint(
            "outcome IN ('cancelled', 'refunded')", name=op.f("ck_withdrawals_outcome_known")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_withdrawals_document_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["credit_note_id"],
            ["documents.id"],
            name=op.f("fk_withdrawals_credit_note_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_withdrawals_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"], ["refunds.id"], name=op.f("fk_withdrawals_refund_id_refunds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_withdrawals")),
        sa.UniqueConstraint("document_id", name=op.f("uq_withdrawals_document_id")),
    )
    op.create_index(op.f("ix_withdrawals_customer_id"), "withdrawals", ["customer_id"])
    op.add_column("payments", sa.Column("payer_country", sa.String(length=2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("payer_country")
    op.drop_index(op.f("ix_withdrawals_customer_id"), table_name="withdrawals")
    op.drop_table("withdrawals")
    op.drop_index(op.f("ix_order_terms_customer_id"), table_name="order_terms")
    op.drop_table("order_terms")
    op.drop_index("ix_tax_evidence_conflict_reviewed", table_name="tax_evidence")
    op.drop_table("tax_evidence")
