"""prestaimport_license: licences, keys, bindings, moves, suppliers, add-ons, validation log.

Revision ID: prestaimport_license_0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "prestaimport_license_0001"
down_revision = None
branch_labels = ("prestaimport_license",)
depends_on = "0002"

P = "prestaimport_license_"


def _dt(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        P + "licences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        _dt("expires_at", True),
        sa.Column("status_reason", sa.String(200), nullable=False),
        _dt("created_at"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_" + P + "licences_customer_id"
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name="fk_" + P + "licences_service_id"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_" + P + "licences"),
        sa.UniqueConstraint("service_id", name="uq_" + P + "licences_service_id"),
    )
    op.create_index("ix_" + P + "licences_customer_id", P + "licences", ["customer_id"])
    op.create_table(
        P + "keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("licence_id", sa.Integer(), nullable=False),
        sa.Column("lookup_hmac", sa.LargeBinary(32), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(200), nullable=False),
        sa.Column("hint", sa.String(4), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        _dt("created_at"),
        _dt("replaced_at", True),
        sa.ForeignKeyConstraint(
            ["licence_id"],
            [P + "licences.id"],
            name="fk_" + P + "keys_licence_id",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_" + P + "keys"),
        sa.UniqueConstraint("lookup_hmac", name="uq_" + P + "keys_lookup_hmac"),
    )
    op.create_index("ix_" + P + "keys_licence_id", P + "keys", ["licence_id"])
    op.create_table(
        P + "bindings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("licence_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("shop_id", sa.String(128), nullable=True),
        sa.Column("shop_host", sa.String(253), nullable=False),
        sa.Column("shop_fp", sa.String(64), nullable=False),
        _dt("bound_at"),
        sa.Column("bound_via", sa.String(24), nullable=False),
        sa.ForeignKeyConstraint(
            ["licence_id"],
            [P + "licences.id"],
            name="fk_" + P + "bindings_licence_id",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_" + P + "bindings"),
        sa.UniqueConstraint("licence_id", name="uq_" + P + "bindings_licence_id"),
    )
    op.create_index("ix_" + P + "bindings_shop_host", P + "bindings", ["shop_host"])
    op.create_index("ix_" + P + "bindings_shop_fp", P + "bindings", ["shop_fp"])
    op.create_table(
        P + "moves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("licence_id", sa.Integer(), nullable=False),
        sa.Column("old_shop_host", sa.String(253), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        _dt("at"),
        sa.ForeignKeyConstraint(
            ["licence_id"],
            [P + "licences.id"],
            name="fk_" + P + "moves_licence_id",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_" + P + "moves"),
    )
    op.create_index("ix_" + P + "moves_licence_id", P + "moves", ["licence_id"])
    op.create_table(
        P + "suppliers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_" + P + "suppliers"),
        sa.UniqueConstraint("code", name="uq_" + P + "suppliers_code"),
    )
    op.create_table(
        P + "addons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("licence_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        _dt("starts_at", True),
        _dt("expires_at", True),
        _dt("updated_at"),
        sa.ForeignKeyConstraint(
            ["licence_id"],
            [P + "licences.id"],
            name="fk_" + P + "addons_licence_id",
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            [P + "suppliers.id"],
            name="fk_" + P + "addons_supplier_id",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name="fk_" + P + "addons_service_id"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_" + P + "addons"),
        sa.UniqueConstraint(
            "licence_id", "supplier_id", name="uq_" + P + "addons_licence_id_supplier_id"
        ),
    )
    op.create_index("ix_" + P + "addons_service_id", P + "addons", ["service_id"])
    op.create_table(
        P + "provisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mark", sa.String(120), nullable=False),
        _dt("at"),
        sa.PrimaryKeyConstraint("id", name="pk_" + P + "provisions"),
        sa.UniqueConstraint("mark", name="uq_" + P + "provisions_mark"),
    )
    op.create_table(
        P + "validations",
        sa.Column("id", sa.Integer(), nullable=False),
        _dt("at"),
        sa.Column("licence_id", sa.Integer(), nullable=True),
        sa.Column("key_hint", sa.String(4), nullable=False),
        sa.Column("shop_host", sa.String(253), nullable=False),
        sa.Column("install_id", sa.String(128), nullable=False),
        sa.Column("code", sa.String(24), nullable=False),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_" + P + "validations"),
    )
    op.create_index("ix_" + P + "validations_at", P + "validations", ["at"])
    op.create_index(
        "ix_" + P + "validations_licence_id_at", P + "validations", ["licence_id", "at"]
    )


def downgrade() -> None:
    for table in (
        "validations",
        "provisions",
        "addons",
        "suppliers",
        "moves",
        "bindings",
        "keys",
        "licences",
    ):
        op.drop_table(P + table)
