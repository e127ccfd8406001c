"""prestaimport_license: downloads — releases, their files, release-email opt-outs.

Revision ID: prestaimport_license_0004_dl
Revises: prestaimport_license_0003_names
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "prestaimport_license_0004_dl"
down_revision = "prestaimport_license_0003_names"
branch_labels = None
depends_on = None

P = "prestaimport_license_"


def upgrade() -> None:
    op.create_table(
        P + "releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("notes_es", sa.Text(), nullable=False),
        sa.Column("notes_en", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_" + P + "releases")),
        sa.UniqueConstraint("version", name=op.f("uq_" + P + "releases_version")),
    )
    op.create_table(
        P + "release_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"],
            [P + "releases.id"],
            name=op.f("fk_" + P + "release_files_release_id_" + P + "releases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_" + P + "release_files")),
    )
    op.create_index(
        op.f("ix_" + P + "release_files_release_id"), P + "release_files", ["release_id"]
    )
    op.create_table(
        P + "release_email_opt_outs",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_" + P + "release_email_opt_outs_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_" + P + "release_email_opt_outs")),
    )


def downgrade() -> None:
    op.drop_table(P + "release_email_opt_outs")
    op.drop_index(op.f("ix_" + P + "release_files_release_id"), table_name=P + "release_files")
    op.drop_table(P + "release_files")
    op.drop_table(P + "releases")
