"""Migrations take an empty database to every head (core and a plugin branch) and back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pluggy
import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from facturo.db import migrations
from facturo.db.engine import make_engine
from facturo.plugin_resources import resource_dirs
from facturo.plugins import load_plugins
from facturo.testing import postgres_test_url


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    """An empty SQLite file, or a new PostgreSQL database when testing on PostgreSQL."""
    pg = postgres_test_url()
    if not pg:
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    url = make_url(pg)
    name = f"{url.database}_migrations"
    admin = create_engine(
        url.set(drivername="postgresql+psycopg", database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def plugin_dirs(manager: pluggy.PluginManager) -> list[Path]:
    return resource_dirs(manager, "migrations")


def test_core_and_plugin_branch_go_up_and_down(empty_database: str, hello_installed: Path) -> None:
    engine = make_engine(empty_database)
    dirs = plugin_dirs(load_plugins(["hello"]))
    assert migrations.pending(engine, dirs)
    migrations.upgrade(engine, dirs)
    tables = set(inspect(engine).get_table_names())
    assert {"customers", "documents", "payments", "outbox_messages", "hello_paid_notes"} <= tables
    assert migrations.current_heads(engine) >= {"hello_0001_paid_notes"}
    assert not migrations.pending(engine, dirs)
    migrations.downgrade(engine, dirs)
    remaining = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert remaining == set()
    assert migrations.current_heads(engine) == set()
    engine.dispose()


def test_every_bundled_plugin_migrates_up_and_down(empty_database: str) -> None:
    from facturo.testing import enabled_test_plugins

    engine = make_engine(empty_database)
    dirs = plugin_dirs(load_plugins(list(enabled_test_plugins())))
    migrations.upgrade(engine, dirs)
    assert not migrations.pending(engine, dirs)
    migrations.downgrade(engine, dirs)
    assert set(inspect(engine).get_table_names()) - {"alembic_version"} == set()
    engine.dispose()
