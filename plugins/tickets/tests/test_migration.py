"""The migration creates exactly what the models describe (no drift)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from facturo.plugin import Base


def test_models_match_the_migration(make_context) -> None:
    import facturo_tickets.models  # noqa: F401 - registers the tables

    ctx = make_context(plugins=("tickets",))
    with ctx.db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)

    def ours(entry: object) -> bool:
        return "tickets_" in repr(entry)

    assert "tickets_tickets" in Base.metadata.tables
    assert [d for d in diff if ours(d)] == []
