"""Customer search that stays fast at 200,000 customers: a trigram index over the folded
``customers.search_text``, so that ``LIKE '%term%'`` reads the index instead of every row.

PostgreSQL: a GIN index with ``pg_trgm`` (a trusted extension since PostgreSQL 13: the
database owner may create it). Where the extension cannot be created the index is left out
and search still works, by reading the table.

SQLite: an FTS5 table with the trigram tokenizer (SQLite 3.34+) over the same column,
kept by triggers (external content: the text is stored once, in ``customers``).

Revision ID: 0013_lead_customer_trigrams
Revises: 0012_lead_scale_indexes
Create Date: 2026-12-01
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0013_lead_customer_trigrams"
down_revision = "0012_lead_scale_indexes"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)

SQLITE_UP = (
    "CREATE VIRTUAL TABLE customers_search USING fts5("
    "search_text, content='customers', content_rowid='id', tokenize='trigram')",
    "INSERT INTO customers_search(customers_search) VALUES ('rebuild')",
    "CREATE TRIGGER customers_search_insert AFTER INSERT ON customers BEGIN "
    "INSERT INTO customers_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER customers_search_delete AFTER DELETE ON customers BEGIN "
    "INSERT INTO customers_search(customers_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER customers_search_update AFTER UPDATE OF search_text ON customers BEGIN "
    "INSERT INTO customers_search(customers_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO customers_search(rowid, search_text) VALUES (new.id, new.search_text); END",
)
SQLITE_DOWN = (
    "DROP TRIGGER customers_search_update",
    "DROP TRIGGER customers_search_delete",
    "DROP TRIGGER customers_search_insert",
    "DROP TABLE customers_search",
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)
    elif bind.dialect.name == "postgresql":
        savepoint = bind.begin_nested()
        try:
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        except sa.exc.DBAPIError as error:
            savepoint.rollback()
            log.warning("pg_trgm not available, customer search reads the table: %s", error)
            return
        savepoint.commit()
        op.execute(
            "CREATE INDEX ix_customers_search_trgm ON customers "
            "USING gin (search_text gin_trgm_ops)"
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(statement)
    elif bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_customers_search_trgm")
