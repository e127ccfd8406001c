"""The test databases: a migrated template per run, an empty copy of it per test (a copied
SQLite file, or emptied PostgreSQL tables), and a PostgreSQL database per xdist worker."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from facturo.context import Context


def worker_database_url(url: str, worker: str) -> str:
    """The PostgreSQL database of xdist worker ``worker`` (``gw0``…): ``<database>_<worker>``,
    created when missing. Every name a test derives from the URL (plugin-set templates,
    restore and migration scratch databases) then belongs to that worker alone."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = f"{parsed.database}_{worker}"
    create_postgres_database(parsed, name)
    return parsed.set(database=name).render_as_string(hide_password=False)


def create_postgres_database(url: Any, name: str) -> None:
    """Create the PostgreSQL database ``name`` on ``url``'s server unless it exists."""
    admin = create_engine(
        url.set(drivername="postgresql+psycopg", database="postgres"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as connection:
        found = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not found:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


@dataclass
class TestDatabase:
    """A migrated template database and a way to get an empty copy of it per test."""

    __test__ = False  # not a test class, whatever its name
    url: str
    template: Path | None = None
    tables: list[str] = field(default_factory=list)
    #: The plugin migration folders the template was built with.
    migration_dirs: set[Path] = field(default_factory=set)

    def catch_up(self, ctx: Context) -> None:
        """Migrate plugins of ``ctx`` the template does not have (a plugin object a test
        registers with ``extra``, a plugin not installed when the template was built)."""
        wanted = {Path(p).resolve() for p in ctx.migration_dirs()}
        if wanted <= self.migration_dirs:
            return
        from sqlalchemy import inspect

        from facturo.db import migrations

        migrations.upgrade(ctx.db.engine, sorted(self.migration_dirs | wanted))
        if self.template is None:  # PostgreSQL: the schema is shared by the next tests
            self.tables = inspect(ctx.db.engine).get_table_names()
            self.migration_dirs |= wanted

    def fresh(self, tmp_path: Path) -> str:
        if self.template is not None:
            target = tmp_path / "facturo.db"
            shutil.copyfile(self.template, target)
            return f"sqlite:///{target}"
        empty_postgres_tables(self.url, [t for t in self.tables if t != "alembic_version"])
        return self.url


#: Statements that reset every sequence of the public schema a test used to its start.
_RESET_SEQUENCES = (
    "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, false) "
    "FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL"
)


def empty_postgres_tables(url: str, tables: list[str]) -> None:
    """Empty ``tables`` and restart the sequences a test used, in one round trip.

    A superuser (the test setup's ``postgres``) deletes the rows with triggers and foreign
    keys off (``session_replication_role = replica``): a few milliseconds, where a TRUNCATE
    of every table recreates each table's files (~0.1-1.5 s per test). Others TRUNCATE."""
    from sqlalchemy.pool import NullPool

    if not tables:
        return
    engine = create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=NullPool
    )
    quoted = [f'"{t}"' for t in tables]
    with engine.begin() as connection:
        superuser = connection.scalar(text("SELECT current_setting('is_superuser')")) == "on"
        if superuser:
            statements = ["SET LOCAL session_replication_role = replica"]
            statements += [f"DELETE FROM {name}" for name in quoted]
            statements.append(_RESET_SEQUENCES)
            driver = connection.connection.driver_connection  # psycopg: several statements
            assert driver is not None
            driver.execute("; ".join(statements))
        else:
            connection.execute(text(f"TRUNCATE {', '.join(quoted)} RESTART IDENTITY CASCADE"))
    engine.dispose()
