"""API tokens, and database triggers that keep issued documents immutable.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Columns of a numbered document that may never change (pdf may be set once, from NULL).
FROZEN = (
    "number",
    "kind",
    "customer_id",
    "currency",
    "issue_date",
    "invoice_date",
    "subtotal",
    "tax_total",
    "total",
    "tax_treatment",
    "tax_breakdown",
    "legends",
    "seller",
    "customer_data",
    "original_id",
    "reference",
)
MESSAGE = "issued documents are immutable"


def _sqlite_triggers() -> list[str]:
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in FROZEN)
    raise_ = f"SELECT RAISE(ABORT, '{MESSAGE}');"
    issued_line = "(SELECT number FROM documents WHERE id = {ref}.document_id) IS NOT NULL"
    return [
        f"""CREATE TRIGGER documents_issued_no_update BEFORE UPDATE ON documents
        WHEN OLD.number IS NOT NULL AND ({changed}
             OR (OLD.pdf IS NOT NULL AND NEW.pdf IS NOT OLD.pdf))
        BEGIN {raise_} END""",
        f"""CREATE TRIGGER documents_issued_no_delete BEFORE DELETE ON documents
        WHEN OLD.number IS NOT NULL BEGIN {raise_} END""",
        f"""CREATE TRIGGER document_lines_issued_no_update BEFORE UPDATE ON document_lines
        WHEN {issued_line.format(ref="OLD")} BEGIN {raise_} END""",
        f"""CREATE TRIGGER document_lines_issued_no_delete BEFORE DELETE ON document_lines
        WHEN {issued_line.format(ref="OLD")} BEGIN {raise_} END""",
        f"""CREATE TRIGGER document_lines_issued_no_insert BEFORE INSERT ON document_lines
        WHEN {issued_line.format(ref="NEW")} BEGIN {raise_} END""",
    ]


def _postgresql_statements() -> list[str]:
    changed = " OR ".join(f"NEW.{c}::text IS DISTINCT FROM OLD.{c}::text" for c in FROZEN)
    return [
        f"""CREATE FUNCTION facturo_documents_immutable() RETURNS trigger AS $$
        BEGIN
          IF TG_OP = 'DELETE' THEN
            IF OLD.number IS NOT NULL THEN RAISE EXCEPTION '{MESSAGE}'; END IF;
            RETURN OLD;
          END IF;
          IF OLD.number IS NOT NULL AND ({changed}
             OR (OLD.pdf IS NOT NULL AND NEW.pdf IS DISTINCT FROM OLD.pdf)) THEN
            RAISE EXCEPTION '{MESSAGE}';
          END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
        """CREATE TRIGGER documents_immutable BEFORE UPDATE OR DELETE ON documents
        FOR EACH ROW EXECUTE FUNCTION facturo_documents_immutable()""",
        f"""CREATE FUNCTION facturo_document_lines_immutable() RETURNS trigger AS $$
        DECLARE doc_id integer;
        BEGIN
          IF TG_OP = 'INSERT' THEN doc_id := NEW.document_id; ELSE doc_id := OLD.document_id; END IF;
          IF (SELECT number FROM documents WHERE id = doc_id) IS NOT NULL THEN
            RAISE EXCEPTION '{MESSAGE}';
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
        """CREATE TRIGGER document_lines_immutable BEFORE INSERT OR UPDATE OR DELETE
        ON document_lines FOR EACH ROW EXECUTE FUNCTION facturo_document_lines_immutable()""",
    ]


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_users.id"], name=op.f("fk_api_tokens_staff_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    dialect = op.get_bind().dialect.name
    statements = _sqlite_triggers() if dialect == "sqlite" else _postgresql_statements()
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in (
            "documents_issued_no_update",
            "documents_issued_no_delete",
            "document_lines_issued_no_update",
            "document_lines_issued_no_delete",
            "document_lines_issued_no_insert",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS documents_immutable ON documents")
        op.execute("DROP TRIGGER IF EXISTS document_lines_immutable ON document_lines")
        op.execute("DROP FUNCTION IF EXISTS facturo_documents_immutable()")
        op.execute("DROP FUNCTION IF EXISTS facturo_document_lines_immutable()")
    op.drop_table("api_tokens")
