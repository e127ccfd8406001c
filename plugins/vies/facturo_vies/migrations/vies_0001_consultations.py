"""vies: consultations (the proof) and staff overrides.

Revision ID: vies_0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "vies_0001"
down_revision = None
branch_labels = ("vies",)
depends_on = "0002"


def upgrade() -> None:
    op.create_table(
        "vies_consultations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("requester", sa.String(length=20), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=True),
        sa.Column("request_identifier", sa.String(length=64), nullable=False),
        sa.Column("request_date", sa.String(length=40), nullable=False),
        sa.Column("trader_name", sa.Text(), nullable=False),
        sa.Column("trader_address", sa.Text(), nullable=False),
        sa.Column("fault_code", sa.String(length=64), nullable=False),
        sa.Column("endpoint", sa.String(length=300), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("request_xml", sa.Text(), nullable=False),
        sa.Column("response_xml", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "status IN ('valid', 'invalid', 'unavailable', 'error')",
            name=op.f("ck_vies_consultations_status_known"),
        ),
        sa.CheckConstraint(
            "status <> 'valid' OR valid", name=op.f("ck_vies_consultations_valid_matches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vies_consultations")),
    )
    op.create_index(
        "ix_vies_consultations_number_checked",
        "vies_consultations",
        ["country", "number", "checked_at"],
    )
    op.create_table(
        "vies_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "decision IN ('valid', 'invalid')", name=op.f("ck_vies_overrides_decision_known")
        ),
        sa.CheckConstraint("length(reason) > 0", name=op.f("ck_vies_overrides_reason_given")),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_users.id"], name=op.f("fk_vies_overrides_staff_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by"],
            ["staff_users.id"],
            name=op.f("fk_vies_overrides_revoked_by_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_vies_overrides_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vies_overrides")),
    )
    op.create_index("ix_vies_overrides_number", "vies_overrides", ["country", "number"])


def downgrade() -> None:
    op.drop_index("ix_vies_overrides_number", table_name="vies_overrides")
    op.drop_table("vies_overrides")
    op.drop_index("ix_vies_consultations_number_checked", table_name="vies_consultations")
    op.drop_table("vies_consultations")
