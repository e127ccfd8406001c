from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Until the plugin is installed into the venv, import it from its source folder.
try:
    import facturo_transfer  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from facturo_transfer.settings import TransferSettings


@pytest.fixture
def settings() -> TransferSettings:
    return TransferSettings.validate(
        {
            "account_holder": "Facturo Señalética SL",
            "iban": "ES91 2100 0418 4502 0005 1332",
            "bic": "caixesbbxxx",
            "bank_name": "CaixaBank",
        }
    )
