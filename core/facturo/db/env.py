"""Alembic environment: the core branch and every enabled plugin's branch on one MetaData."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, engine_from_config, pool

import facturo.models  # noqa: F401  (registers the core tables on the MetaData)
from facturo.db.base import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against ``config.attributes["connection"]`` or a new engine from the URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section) or {},
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as conn:
        _run(conn)


run_migrations_online()
