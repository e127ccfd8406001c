"""tickets: canned replies, and when a ticket first got a reply (first-response targets).

Revision ID: tickets_0002_canned_first
Revises: tickets_0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "tickets_0002_canned_first"
down_revision = "tickets_0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tickets_canned_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tickets_canned_replies"),
        sa.UniqueConstraint("title", name="uq_tickets_canned_replies_title"),
    )
    with op.batch_alter_table("tickets_tickets") as batch:
        batch.add_column(sa.Column("first_response_at", TZ, nullable=True))
    # Tickets answered before this column existed: their first public staff message.
    op.execute(
        "UPDATE tickets_tickets SET first_response_at = ("
        " SELECT MIN(m.created_at) FROM tickets_messages m"
        " WHERE m.ticket_id = tickets_tickets.id AND m.author = 'staff' AND m.internal = false)"
    )


def downgrade() -> None:
    with op.batch_alter_table("tickets_tickets") as batch:
        batch.drop_column("first_response_at")
    op.drop_table("tickets_canned_replies")
