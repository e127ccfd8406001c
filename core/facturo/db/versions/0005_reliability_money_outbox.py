"""Money constraints and fenced outbox claims.

- customers: the credit balance can never be negative;
- documents: the refunded total is between 0 and the document's total (credit notes, whose
  totals are negative, refund nothing);
- outbox_messages: ``message_id`` (the Message-ID fixed when the message is queued) and
  ``claim_token`` (who holds the lease of a message being sent; checked when the result is
  written).

PostgreSQL gets CHECK constraints. On SQLite adding a CHECK means rebuilding the table, which
would drop the immutability triggers of ``documents``: triggers that refuse the same states
stand in for them there.

Revision ID: 0005_reliability_money_outbox
Revises: 0004_vies_compliance
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_reliability_money_outbox"
down_revision = "0004_vies_compliance"
branch_labels = None
depends_on = None

# (table, constraint name, condition that must hold; {row} is "NEW." in a SQLite trigger)
CHECKS = (
    ("customers", "credit_not_negative", "{row}credit_balance >= 0"),
    (
        "documents",
        "refunded_within_total",
        "{row}refunded_total >= 0 AND ({row}refunded_total = 0"
        " OR {row}refunded_total <= {row}total)",
    ),
)


def _sqlite_triggers(table: str, name: str, condition: str) -> list[str]:
    raise_ = f"SELECT RAISE(ABORT, 'CHECK constraint failed: ck_{table}_{name}');"
    return [
        f"""CREATE TRIGGER ck_{table}_{name}_{event.lower()} BEFORE {event} ON {table}
        WHEN NOT ({condition.format(row="NEW.")}) BEGIN {raise_} END"""
        for event in ("INSERT", "UPDATE")
    ]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, name, condition in CHECKS:
        if sqlite:
            for statement in _sqlite_triggers(table, name, condition):
                op.execute(statement)
        else:
            op.create_check_constraint(op.f(f"ck_{table}_{name}"), table, condition.format(row=""))
    with op.batch_alter_table("outbox_messages") as batch:
        batch.add_column(sa.Column("message_id", sa.String(255), nullable=False, server_default=""))
        batch.add_column(sa.Column("claim_token", sa.String(32), nullable=True))


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_column("claim_token")
        batch.drop_column("message_id")
    for table, name, _condition in reversed(CHECKS):
        if sqlite:
            for event in ("insert", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS ck_{table}_{name}_{event}")
        else:
            op.drop_constraint(op.f(f"ck_{table}_{name}"), table, type_="check")
