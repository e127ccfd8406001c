from __future__ import annotations

import sys
from datetime import UTC, datetime
from importlib.util import find_spec
from pathlib import Path

import pytest

PLUGIN_DIR = Path(__file__).resolve().parents[1]

# The plugin may be run from a checkout where it is not pip-installed yet.
if find_spec("facturo_prestaimport_license") is None:
    sys.path.insert(0, str(PLUGIN_DIR))

from facturo_prestaimport_license.client import Shop  # noqa: E402
from facturo_prestaimport_license.signing import KeyEntry, Keyring, load_private_key  # noqa: E402

# Fixed seeds so that failures are reproducible; they sign nothing outside the tests.
SEED_A = bytes(range(32))
SEED_B = bytes(range(32, 64))


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 7, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def keyring() -> Keyring:
    return Keyring([KeyEntry.from_private_key("2026-01", load_private_key(SEED_A))], "2026-01")


@pytest.fixture
def next_key() -> KeyEntry:
    return KeyEntry.from_private_key("2026-07", load_private_key(SEED_B))


@pytest.fixture
def shop() -> Shop:
    return Shop(platform="prestashop", url="https://www.example-shop.com/")


@pytest.fixture
def other_shop() -> Shop:
    return Shop(platform="prestashop", url="https://other-shop.example/")
