"""What every benchmark does to its PostgreSQL database: drop it and create it afresh."""

from __future__ import annotations


def recreate_postgres(url: str) -> None:
    """Drop the database named by ``url`` (closing its connections) and create it empty."""
    from sqlalchemy import create_engine, text

    base, _, name = url.rpartition("/")
    admin = create_engine(
        base.replace("postgresql://", "postgresql+psycopg://", 1) + "/postgres",
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
