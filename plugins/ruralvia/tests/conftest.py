from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

# The plugin may not be pip-installed while it is developed; make its package importable.
_PLUGIN_ROOT = Path(__file__).resolve().parents[1]
if str(_PLUGIN_ROOT) not in sys.path:
    sys.path.insert(0, str(_PLUGIN_ROOT))

from facturo_ruralvia.settings import Environment, RuralviaSettings  # noqa: E402

TEST_KEY = "sq7HjrUOBfKmC576ILgskD5srU870gJ7"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (Path(__file__).parent / "vectors" / "redsys.json").read_text()
    )
    return data


@pytest.fixture
def settings() -> RuralviaSettings:
    return RuralviaSettings(
        merchant_code="999008881",
        terminal="1",
        secret_key=TEST_KEY,
        currency="EUR",
        environment=Environment.TEST,
        language=None,
    )
