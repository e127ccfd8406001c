"""Customers' folded search text (accent- and case-insensitive staff search).

Revision ID: 0007_lead_customer_search
Revises: 0006_security_sessions_factors
Create Date: 2026-11-30
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0007_lead_customer_search"
down_revision = "0006_security_sessions_factors"
branch_labels = None
depends_on = None

FIELDS = ("name", "company", "email", "tax_id", "city")


def _fold(text: str) -> str:
    # A copy of facturo.text.fold as it was when this migration was written: migrations must
    # not change meaning when the application code does.
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
    bind = op.get_bind()
    customers = sa.table(
        "customers", sa.column("id"), sa.column("search_text"), *map(sa.column, FIELDS)
    )
    rows = bind.execute(sa.select(customers.c.id, *(customers.c[f] for f in FIELDS))).all()
    for row in rows:
        text = _fold(" | ".join(str(value or "") for value in row[1:]))
        bind.execute(customers.update().where(customers.c.id == row[0]).values(search_text=text))


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("search_text")
