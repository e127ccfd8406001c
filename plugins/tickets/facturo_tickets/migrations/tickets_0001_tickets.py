"""tickets: departments, tickets, messages, attachments.

Revision ID: tickets_0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "tickets_0001"
down_revision = None
branch_labels = ("tickets",)
depends_on = "0002"

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tickets_departments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("default_priority", sa.String(length=10), nullable=False),
        sa.Column("roles", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tickets_departments"),
        sa.UniqueConstraint("email", name="uq_tickets_departments_email"),
    )
    op.create_table(
        "tickets_tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("guest_email", sa.String(length=254), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=250), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("last_customer_message_at", TZ, nullable=True),
        sa.Column("answered_at", TZ, nullable=True),
        sa.Column("close_warning_at", TZ, nullable=True),
        sa.Column("closed_at", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_tickets_tickets_customer_id_customers"
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["tickets_departments.id"],
            name="fk_tickets_tickets_department_id_tickets_departments",
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["staff_users.id"], name="fk_tickets_tickets_assignee_id_staff_users"
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name="fk_tickets_tickets_service_id_services"
        ),
        sa.ForeignKeyConstraint(
            ["merged_into_id"],
            ["tickets_tickets.id"],
            name="fk_tickets_tickets_merged_into_id_tickets_tickets",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_tickets_tickets"),
        sa.UniqueConstraint("number", name="uq_tickets_tickets_number"),
    )
    op.create_index("ix_tickets_tickets_customer_id", "tickets_tickets", ["customer_id"])
    op.create_index("ix_tickets_tickets_department_id", "tickets_tickets", ["department_id"])
    op.create_index("ix_tickets_tickets_status", "tickets_tickets", ["status"])
    op.create_index("ix_tickets_tickets_assignee_id", "tickets_tickets", ["assignee_id"])
    op.create_table(
        "tickets_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=10), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column("email_message_id", sa.String(length=500), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets_tickets.id"],
            name="fk_tickets_messages_ticket_id_tickets_tickets",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_users.id"], name="fk_tickets_messages_staff_id_staff_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_tickets_messages"),
        sa.UniqueConstraint("email_message_id", name="uq_tickets_messages_email_message_id"),
    )
    op.create_index("ix_tickets_messages_ticket_id", "tickets_messages", ["ticket_id"])
    op.create_table(
        "tickets_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("stored_path", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["tickets_messages.id"],
            name="fk_tickets_attachments_message_id_tickets_messages",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_tickets_attachments"),
    )
    op.create_index("ix_tickets_attachments_message_id", "tickets_attachments", ["message_id"])


def downgrade() -> None:
    op.drop_index("ix_tickets_attachments_message_id", table_name="tickets_attachments")
    op.drop_table("tickets_attachments")
    op.drop_index("ix_tickets_messages_ticket_id", table_name="tickets_messages")
    op.drop_table("tickets_messages")
    for column in ("assignee_id", "status", "department_id", "customer_id"):
        op.drop_index(f"ix_tickets_tickets_{column}", table_name="tickets_tickets")
    op.drop_table("tickets_tickets")
    op.drop_table("tickets_departments")
