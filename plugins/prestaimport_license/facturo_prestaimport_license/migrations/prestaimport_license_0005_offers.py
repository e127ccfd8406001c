"""prestaimport_license: usage insight and renewal offers — the application version in the
validation log (with an index for the usage charts) and the one-time renewal payment links.

Revision ID: prestaimport_license_0005_offers
Revises: prestaimport_license_0004_dl
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "prestaimport_license_0005_offers"
down_revision = "prestaimport_license_0004_dl"
branch_labels = None
depends_on = None

P = "prestaimport_license_"


def upgrade() -> None:
    with op.batch_alter_table(P + "validations") as batch:
        batch.add_column(
            sa.Column("app_version", sa.String(length=32), nullable=False, server_default="")
        )
    op.create_index(
        "ix_" + P + "validations_at_shop", P + "validations", ["at", "shop_host", "app_version"]
    )
    op.create_table(
        P + "offer_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("licence_id", sa.Integer(), nullable=False),
        sa.Column("addon_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("epc_payload", sa.String(length=400), nullable=False, server_default=""),
        sa.ForeignKeyConstraint(
            ["licence_id"],
            [P + "licences.id"],
            name=op.f("fk_" + P + "offer_links_licence_id_" + P + "licences"),
        ),
        sa.ForeignKeyConstraint(
            ["addon_id"],
            [P + "addons.id"],
            name=op.f("fk_" + P + "offer_links_addon_id_" + P + "addons"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_" + P + "offer_links_document_id_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_" + P + "offer_links")),
        sa.CheckConstraint("expires_at > created_at", name=op.f("ck_" + P + "offer_links_window")),
    )
    op.create_index(
        "ix_" + P + "offer_links_licence_id_addon_id",
        P + "offer_links",
        ["licence_id", "addon_id", "expires_at"],
    )
    op.create_index(op.f("ix_" + P + "offer_links_document_id"), P + "offer_links", ["document_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_" + P + "offer_links_document_id"), table_name=P + "offer_links")
    op.drop_index("ix_" + P + "offer_links_licence_id_addon_id", table_name=P + "offer_links")
    op.drop_table(P + "offer_links")
    op.drop_index("ix_" + P + "validations_at_shop", table_name=P + "validations")
    with op.batch_alter_table(P + "validations") as batch:
        batch.drop_column("app_version")
