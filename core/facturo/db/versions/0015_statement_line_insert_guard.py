"""Lines added to an issued document are refused once per statement instead of once per row
(PostgreSQL).

Migration 0002's ``document_lines_immutable`` ran a PL/pgSQL function with a query on
``documents`` before every line inserted, updated or deleted. For INSERT the same check is now
one ``AFTER INSERT … FOR EACH STATEMENT`` trigger that joins the statement's new lines (a
transition table) with their documents and raises the same error if any of them is numbered:
the statement fails as before, whatever the number of lines it inserted. The renewal run
inserts 100,000 lines in 100 statements; the per-row trigger took about 7 µs per line.
UPDATE and DELETE keep the per-row trigger (a transition table cannot serve a trigger with
more than one event, and those are rare).

SQLite keeps its per-row triggers: it has no statement-level triggers.

Revision ID: 0015_statement_line_insert_guard
Revises: 0014_deferrable_period_link
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0015_statement_line_insert_guard"
down_revision = "0014_deferrable_period_link"
branch_labels = None
depends_on = None

MESSAGE = "issued documents are immutable"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER document_lines_immutable ON document_lines")
    op.execute(
        """CREATE TRIGGER document_lines_immutable BEFORE UPDATE OR DELETE
        ON document_lines FOR EACH ROW EXECUTE FUNCTION facturo_document_lines_immutable()"""
    )
    op.execute(
        f"""CREATE FUNCTION facturo_document_lines_insert_immutable() RETURNS trigger AS $$
        BEGIN
          IF EXISTS (SELECT 1 FROM facturo_new_lines AS n JOIN documents AS d
                     ON d.id = n.document_id WHERE d.number IS NOT NULL) THEN
            RAISE EXCEPTION '{MESSAGE}';
          END IF;
          RETURN NULL;
        END $$ LANGUAGE plpgsql"""
    )
    op.execute(
        """CREATE TRIGGER document_lines_insert_immutable AFTER INSERT ON document_lines
        REFERENCING NEW TABLE AS facturo_new_lines
        FOR EACH STATEMENT EXECUTE FUNCTION facturo_document_lines_insert_immutable()"""
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER document_lines_insert_immutable ON document_lines")
    op.execute("DROP FUNCTION facturo_document_lines_insert_immutable()")
    op.execute("DROP TRIGGER document_lines_immutable ON document_lines")
    op.execute(
        """CREATE TRIGGER document_lines_immutable BEFORE INSERT OR UPDATE OR DELETE
        ON document_lines FOR EACH ROW EXECUTE FUNCTION facturo_document_lines_immutable()"""
    )
