"""ruralvia: cards saved for renewals (Redsys Credential-on-File references) and the kind of
each attempt (customer-initiated or a merchant-initiated renewal charge).

Revision ID: ruralvia_0002_saved_cards
Revises: ruralvia_0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ruralvia_0002_saved_cards"
down_revision = "ruralvia_0001"
branch_labels = None
# Its tables need only the core's customers (ruralvia_0001 already depends on 0002); the
# code also uses 0011's collection tables, which `facturo db upgrade` applies in the same run.
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ruralvia_saved_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=40), nullable=False),
        sa.Column("cof_txnid", sa.String(length=40), nullable=False),
        sa.Column("brand", sa.String(length=32), nullable=False),
        sa.Column("last4", sa.String(length=4), nullable=False),
        sa.Column("expiry", sa.String(length=4), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("order_number", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name="fk_ruralvia_saved_cards_customer_id_customers",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_ruralvia_saved_cards"),
        sa.UniqueConstraint(
            "customer_id", "identifier", name="uq_ruralvia_saved_cards_customer_id_identifier"
        ),
    )
    op.create_index("ix_ruralvia_saved_cards_customer_id", "ruralvia_saved_cards", ["customer_id"])
    with op.batch_alter_table("ruralvia_attempts") as batch:
        batch.add_column(
            sa.Column("save_card", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("kind", sa.String(length=3), nullable=False, server_default="cit")
        )
        batch.add_column(sa.Column("saved_card_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_ruralvia_attempts_saved_card_id_ruralvia_saved_cards",
            "ruralvia_saved_cards",
            ["saved_card_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("ruralvia_attempts") as batch:
        batch.drop_constraint(
            "fk_ruralvia_attempts_saved_card_id_ruralvia_saved_cards", type_="foreignkey"
        )
        batch.drop_column("saved_card_id")
        batch.drop_column("kind")
        batch.drop_column("save_card")
    op.drop_index("ix_ruralvia_saved_cards_customer_id", table_name="ruralvia_saved_cards")
    op.drop_table("ruralvia_saved_cards")
