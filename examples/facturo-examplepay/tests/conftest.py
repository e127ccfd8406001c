"""Fixtures: a database with this plugin's tables (its migrations run once per session)."""

from __future__ import annotations

import pytest

pytest_plugins = ["facturo.testing"]
PLUGIN = "examplepay"


@pytest.fixture(scope="session")
def test_database(tmp_path_factory: pytest.TempPathFactory) -> object:
    """The core's tables and this plugin's."""
    from facturo.testing import build_test_database

    return build_test_database(tmp_path_factory.mktemp("db"), (PLUGIN,))
