from __future__ import annotations

import pytest

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
