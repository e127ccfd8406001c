"""sepa: mandates, pre-notifications, collections and their items.

Revision ID: sepa_0001_mandates
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "sepa_0001_mandates"
down_revision = None
branch_labels = ("sepa",)
depends_on = "0002"


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sepa_mandates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=35), nullable=False),
        sa.Column("debtor_name", sa.String(length=70), nullable=False),
        sa.Column("iban", sa.String(length=34), nullable=False),
        sa.Column("bic", sa.String(length=11), nullable=False),
        sa.Column("scheme", sa.String(length=4), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("revoked_at", _utc(), nullable=True),
        sa.CheckConstraint("scheme IN ('CORE', 'B2B')", name="ck_sepa_mandates_scheme"),
        sa.CheckConstraint("status IN ('active', 'revoked')", name="ck_sepa_mandates_status"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_sepa_mandates_customer_id_customers"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_sepa_mandates"),
        sa.UniqueConstraint("reference", name="uq_sepa_mandates_reference"),
    )
    op.create_index("ix_sepa_mandates_customer_id", "sepa_mandates", ["customer_id"])
    op.create_table(
        "sepa_prenotifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("mandate_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("collect_on", sa.Date(), nullable=False),
        sa.Column("sent_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name="fk_sepa_prenotifications_document_id_documents"
        ),
        sa.ForeignKeyConstraint(
            ["mandate_id"],
            ["sepa_mandates.id"],
            name="fk_sepa_prenotifications_mandate_id_sepa_mandates",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_sepa_prenotifications"),
        sa.UniqueConstraint("document_id", name="uq_sepa_prenotifications_document_id"),
    )
    op.create_table(
        "sepa_collections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=35), nullable=False),
        sa.Column("scheme", sa.String(length=4), nullable=False),
        sa.Column("collection_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("total", sa.Numeric(12, 2), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("xml", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("sent_at", _utc(), nullable=True),
        sa.Column("settled_at", _utc(), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'sent', 'settled')", name="ck_sepa_collections_status"
        ),
        sa.CheckConstraint("scheme IN ('CORE', 'B2B')", name="ck_sepa_collections_scheme"),
        sa.PrimaryKeyConstraint("id", name="pk_sepa_collections"),
        sa.UniqueConstraint("message_id", name="uq_sepa_collections_message_id"),
    )
    op.create_table(
        "sepa_collection_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collection_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("open_document_id", sa.Integer(), nullable=True),
        sa.Column("mandate_id", sa.Integer(), nullable=False),
        sa.Column("end_to_end_id", sa.String(length=35), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("return_reason", sa.String(length=8), nullable=False),
        sa.Column("returned_at", _utc(), nullable=True),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'collected', 'returned')",
            name="ck_sepa_collection_items_status",
        ),
        sa.CheckConstraint("amount > 0", name="ck_sepa_collection_items_amount_positive"),
        sa.CheckConstraint(
            "(status = 'returned' AND open_document_id IS NULL)"
            " OR (status <> 'returned' AND open_document_id = document_id)",
            name="ck_sepa_collection_items_open_document",
        ),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["sepa_collections.id"],
            name="fk_sepa_collection_items_collection_id_sepa_collections",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name="fk_sepa_collection_items_document_id_documents"
        ),
        sa.ForeignKeyConstraint(
            ["open_document_id"],
            ["documents.id"],
            name="fk_sepa_collection_items_open_document_id_documents",
        ),
        sa.ForeignKeyConstraint(
            ["mandate_id"],
            ["sepa_mandates.id"],
            name="fk_sepa_collection_items_mandate_id_sepa_mandates",
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name="fk_sepa_collection_items_payment_id_payments"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_sepa_collection_items"),
        sa.UniqueConstraint("end_to_end_id", name="uq_sepa_collection_items_end_to_end_id"),
        sa.UniqueConstraint("open_document_id", name="uq_sepa_collection_items_open_document_id"),
    )
    op.create_index(
        "ix_sepa_collection_items_collection_id", "sepa_collection_items", ["collection_id"]
    )
    op.create_index(
        "ix_sepa_collection_items_document_id", "sepa_collection_items", ["document_id"]
    )


def downgrade() -> None:
    op.drop_table("sepa_collection_items")
    op.drop_table("sepa_collections")
    op.drop_table("sepa_prenotifications")
    op.drop_index("ix_sepa_mandates_customer_id", table_name="sepa_mandates")
    op.drop_table("sepa_mandates")
