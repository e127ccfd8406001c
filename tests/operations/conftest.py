"""Operations tests run on the core schema only."""

from __future__ import annotations

import pytest

from facturo.testing import TestDatabase, build_test_database


@pytest.fixture(scope="session")
def test_database(tmp_path_factory: pytest.TempPathFactory) -> TestDatabase:
    return build_test_database(tmp_path_factory.mktemp("db"), ())
