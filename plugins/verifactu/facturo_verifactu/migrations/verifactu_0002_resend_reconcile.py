"""verifactu: re-sent records (Subsanación, RechazoPrevio) and AEAT reconciliation runs.

A subsanación or a re-sent anulación is a new record of the same invoice: records are now unique
by (issuer, kind, number, revision). Each reconciliation run against the AEAT query service is
kept with the differences it found.

Revision ID: verifactu_0002
Revises: verifactu_0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "verifactu_0002"
down_revision = "verifactu_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("verifactu_records") as batch:
        batch.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))
        batch.drop_constraint("uq_verifactu_records_issuer_nif_kind_number", type_="unique")
        batch.create_unique_constraint(
            "uq_verifactu_records_issuer_nif_kind_number_revision",
            ["issuer_nif", "kind", "number", "revision"],
        )
    op.create_table(
        "verifactu_reconciliations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer_nif", sa.String(length=9), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("aeat_records", sa.Integer(), nullable=False),
        sa.Column("local_records", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_verifactu_reconciliations"),
        sa.CheckConstraint(
            "month BETWEEN 1 AND 12", name="ck_verifactu_reconciliations_month_range"
        ),
    )
    op.create_index(
        "ix_verifactu_reconciliations_period",
        "verifactu_reconciliations",
        ["issuer_nif", "year", "month"],
    )
    op.create_table(
        "verifactu_differences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reconciliation_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("issue_date", sa.String(length=10), nullable=False),
        sa.Column("problem", sa.String(length=32), nullable=False),
        sa.Column("local_value", sa.Text(), nullable=False),
        sa.Column("aeat_value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reconciliation_id"],
            ["verifactu_reconciliations.id"],
            name="fk_verifactu_differences_reconciliation_id",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_verifactu_differences"),
    )
    op.create_index(
        "ix_verifactu_differences_reconciliation_id",
        "verifactu_differences",
        ["reconciliation_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_verifactu_differences_reconciliation_id", table_name="verifactu_differences")
    op.drop_table("verifactu_differences")
    op.drop_index("ix_verifactu_reconciliations_period", table_name="verifactu_reconciliations")
    op.drop_table("verifactu_reconciliations")
    with op.batch_alter_table("verifactu_records") as batch:
        batch.drop_constraint(
            "uq_verifactu_records_issuer_nif_kind_number_revision", type_="unique"
        )
        batch.create_unique_constraint(
            "uq_verifactu_records_issuer_nif_kind_number", ["issuer_nif", "kind", "number"]
        )
        batch.drop_column("revision")
