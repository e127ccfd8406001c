from __future__ import annotations

import pytest

from facturo_transfer.settings import SettingsError, TransferSettings

VALID = {
    "account_holder": "Facturo SL",
    "iban": "es91 2100 0418 4502 0005 1332",
    "bic": "CAIXESBBXXX",
    "bank_name": "CaixaBank",
}


def test_validate_compacts_iban_and_bic() -> None:
    settings = TransferSettings.validate({**VALID, "bic": "caixesbb xxx"})
    assert settings.iban == "ES9121000418450200051332"
    assert settings.bic == "CAIXESBBXXX"
    assert settings.reference_source == "document_reference"


def test_bank_name_and_reference_source_are_optional() -> None:
    raw = {k: v for k, v in VALID.items() if k != "bank_name"}
    settings = TransferSettings.validate({**raw, "reference_source": "rf_creditor_reference"})
    assert settings.bank_name == ""
    assert settings.reference_source == "rf_creditor_reference"


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        ({"iban": "ES9121000418450200051333"}, "iban", "not a valid IBAN"),
        ({"iban": "XX00"}, "iban", "not a valid IBAN"),
        ({"bic": "CAIX"}, "bic", "not a valid BIC"),
        ({"bic": "CAIX1SBBXXX"}, "bic", "not a valid BIC"),
        ({"account_holder": "  "}, "account_holder", "is required"),
        ({"account_holder": "x" * 71}, "account_holder", "longer than 70"),
        ({"bank_name": 3}, "bank_name", "must be a string"),
        ({"reference_source": "invoice"}, "reference_source", "is not one of"),
        ({"swift": "CAIXESBBXXX"}, "swift", "unknown setting"),
    ],
)
def test_invalid_settings_name_the_key(change: dict[str, object], key: str, words: str) -> None:
    with pytest.raises(SettingsError) as info:
        TransferSettings.validate({**VALID, **change})
    assert info.value.key == key
    assert f"[plugin.transfer] {key}:" in str(info.value)
    assert words in str(info.value)


def test_missing_iban_is_reported() -> None:
    raw = {k: v for k, v in VALID.items() if k != "iban"}
    with pytest.raises(SettingsError, match="iban: is required"):
        TransferSettings.validate(raw)
