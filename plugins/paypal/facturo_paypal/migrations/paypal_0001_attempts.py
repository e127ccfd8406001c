"""paypal: checkout attempts and refunds.

Revision ID: paypal_0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "paypal_0001"
down_revision = None
branch_labels = ("paypal",)
depends_on = "0002"


def upgrade() -> None:
    op.create_table(
        "paypal_checkout_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("paypal_order_id", sa.String(length=64), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("capture_id", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name="fk_paypal_checkout_attempts_document_id_documents",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name="fk_paypal_checkout_attempts_customer_id_customers",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_paypal_checkout_attempts"),
        sa.UniqueConstraint("paypal_order_id", name="uq_paypal_checkout_attempts_paypal_order_id"),
        sa.UniqueConstraint("capture_id", name="uq_paypal_checkout_attempts_capture_id"),
    )
    op.create_index(
        "ix_paypal_checkout_attempts_document_id", "paypal_checkout_attempts", ["document_id"]
    )
    op.create_table(
        "paypal_refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refund_id", sa.String(length=80), nullable=False),
        sa.Column("capture_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_paypal_refunds"),
        sa.UniqueConstraint("refund_id", name="uq_paypal_refunds_refund_id"),
    )
    op.create_index("ix_paypal_refunds_capture_id", "paypal_refunds", ["capture_id"])


def downgrade() -> None:
    op.drop_index("ix_paypal_refunds_capture_id", table_name="paypal_refunds")
    op.drop_table("paypal_refunds")
    op.drop_index("ix_paypal_checkout_attempts_document_id", table_name="paypal_checkout_attempts")
    op.drop_table("paypal_checkout_attempts")
