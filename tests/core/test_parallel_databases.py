"""Parallel test runs (pytest-xdist): each worker process tests against a PostgreSQL database
of its own, so two workers never truncate each other's tables."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from facturo.testing import postgres_test_url, worker_database_url


def _drop(url: str, name: str) -> None:
    admin = create_engine(
        make_url(url).set(drivername="postgresql+psycopg", database="postgres"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.mark.postgres_only
def test_a_worker_gets_its_own_database_created_once() -> None:
    base = str(postgres_test_url())
    name = f"{make_url(base).database}_gwtest"
    _drop(base, name)
    try:
        url = worker_database_url(base, "gwtest")
        assert make_url(url).database == name
        assert worker_database_url(base, "gwtest") == url  # already there: reused
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT current_database()")) == name
        engine.dispose()
    finally:
        _drop(base, name)


@pytest.mark.postgres_only
def test_this_worker_tests_against_its_own_database() -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    database = make_url(str(postgres_test_url())).database
    if worker:
        assert database is not None and database.endswith(f"_{worker}")
    else:
        assert database is not None and "_gw" not in database
