"""prestaimport_license: on SQLite, a counter that every change to the licence tables bumps.

The validation keeps what it read about a key while the counter stays the same (see
``lookup.py``). Triggers bump it, so no write can forget to. On SQLite writers are serialised
anyway, so the one counter row costs no concurrency; PostgreSQL validations read the tables
every time and get neither table nor triggers.

A later migration that rebuilds one of these tables on SQLite (batch mode copies it and drops
the original, and its triggers with it) must create the table's triggers again with
:func:`create_triggers`; the validation stops trusting the counter while one is missing.

Revision ID: prestaimport_license_0002_pv
Revises: prestaimport_license_0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "prestaimport_license_0002_pv"
down_revision = "prestaimport_license_0001"
branch_labels = None
depends_on = None

P = "prestaimport_license_"
VERSION_TABLE = P + "state_version"
#: The tables the validation reads about a key.
WATCHED = ("keys", "licences", "bindings", "moves", "suppliers", "addons")
EVENTS = ("insert", "update", "delete")


def trigger_names() -> list[str]:
    """Every trigger this migration creates."""
    return [f"{P}{table}_{event}_bumps_state" for table in WATCHED for event in EVENTS]


def create_triggers(table: str) -> None:
    """(Re)create the three triggers of one watched table (``table`` without the prefix)."""
    for event in EVENTS:
        op.execute(
            f"CREATE TRIGGER IF NOT EXISTS {P}{table}_{event}_bumps_state "
            f"AFTER {event.upper()} ON {P}{table} "
            f"BEGIN UPDATE {VERSION_TABLE} SET version = version + 1 WHERE id = 1; END"
        )


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.create_table(
        VERSION_TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_" + VERSION_TABLE),
    )
    op.execute(f"INSERT INTO {VERSION_TABLE} (id, version) VALUES (1, 0)")
    for table in WATCHED:
        create_triggers(table)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in trigger_names():
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table(VERSION_TABLE)
