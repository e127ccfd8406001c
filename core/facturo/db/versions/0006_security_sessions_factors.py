"""Server-side sessions, passkeys, customer two-factor; session epochs retired.

Revision ID: 0006_security_sessions_factors
Revises: 0005_reliability_money_outbox
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_security_sessions_factors"
down_revision = "0005_reliability_money_outbox"
branch_labels = None
depends_on = None

OWNER_CHECK = (
    "(kind = 'customer' AND customer_id IS NOT NULL AND staff_id IS NULL) OR "
    "(kind = 'staff' AND staff_id IS NOT NULL AND customer_id IS NULL)"
)


def upgrade() -> None:
    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.Column("device_hash", sa.String(length=64), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=30), nullable=False),
        sa.CheckConstraint(OWNER_CHECK, name=op.f("ck_auth_sessions_one_owner")),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_auth_sessions_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_auth_sessions_staff_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_auth_sessions_token_hash")),
    )
    op.create_index("ix_auth_sessions_customer", "auth_sessions", ["customer_id", "revoked_at"])
    op.create_index("ix_auth_sessions_staff", "auth_sessions", ["staff_id", "revoked_at"])
    op.create_table(
        "passkeys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("credential_id", sa.String(length=1400), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.Integer(), nullable=False),
        sa.Column("transports", sa.JSON(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(OWNER_CHECK, name=op.f("ck_passkeys_one_owner")),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_passkeys_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_passkeys_staff_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passkeys")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_passkeys_credential_id")),
    )
    op.create_index(op.f("ix_passkeys_customer_id"), "passkeys", ["customer_id"])
    op.create_index(op.f("ix_passkeys_staff_id"), "passkeys", ["staff_id"])
    op.add_column("customers", sa.Column("totp_secret", sa.String(length=64), nullable=True))
    op.add_column(
        "customers",
        sa.Column("totp_last_step", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column(
        "customers",
        sa.Column("recovery_codes", sa.JSON(), nullable=False, server_default="[]"),
    )
    op.add_column(
        "staff_users",
        sa.Column("totp_last_step", sa.Integer(), nullable=False, server_default="0"),
    )
    # Sessions are rows now; the per-user epoch counters are gone (SQLite ≥ 3.35 drops columns
    # in place, without rebuilding the table).
    op.drop_column("customers", "session_epoch")
    op.drop_column("staff_users", "session_epoch")


def downgrade() -> None:
    op.add_column(
        "staff_users",
        sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column(
        "customers",
        sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0"),
    )
    op.drop_column("staff_users", "totp_last_step")
    op.drop_column("customers", "recovery_codes")
    op.drop_column("customers", "totp_last_step")
    op.drop_column("customers", "totp_secret")
    op.drop_index(op.f("ix_passkeys_staff_id"), table_name="passkeys")
    op.drop_index(op.f("ix_passkeys_customer_id"), table_name="passkeys")
    op.drop_table("passkeys")
    op.drop_index("ix_auth_sessions_staff", table_name="auth_sessions")
    op.drop_index("ix_auth_sessions_customer", table_name="auth_sessions")
    op.drop_table("auth_sessions")
