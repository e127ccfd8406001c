"""Settings of the bank-transfer plugin: the account customers pay into."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError

#: How the payment concept is built from the document reference.
#: ``document_reference`` asks the payer to write the reference itself (e.g. PRO-2026-000123);
#: ``rf_creditor_reference`` turns it into an ISO 11649 RF reference (RF..PRO2026000123).
REFERENCE_SOURCES = ("document_reference", "rf_creditor_reference")

_KEYS = ("account_holder", "iban", "bic", "bank_name", "reference_source")
_HOLDER_MAX = 70  # the EPC QR beneficiary name limit


class SettingsError(ValueError):
    """A setting that is missing or wrong; `key` names it."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(f"[plugin.transfer] {key}: {message}")


@dataclass(frozen=True)
class TransferSettings:
    """The validated account details. `iban` and `bic` are compact and upper-case."""

    account_holder: str
    iban: str
    bic: str
    bank_name: str
    reference_source: str = "document_reference"

    @classmethod
    def validate(cls, raw: Mapping[str, object]) -> TransferSettings:
        """Check `raw` (the `[plugin.transfer]` table) and return settings.

        `account_holder`, `iban` and `bic` are required, `bank_name` and `reference_source`
        optional. Raises SettingsError naming the first bad or unknown key.
        """
        unknown = sorted(set(raw) - set(_KEYS))
        if unknown:
            raise SettingsError(unknown[0], f"unknown setting; expected one of {', '.join(_KEYS)}")
        holder = _text(raw, "account_holder", required=True)
        if len(holder) > _HOLDER_MAX:
            raise SettingsError("account_holder", f"longer than {_HOLDER_MAX} characters")
        iban_text = _text(raw, "iban", required=True)
        try:
            iban = stdnum_iban.validate(iban_text)
        except ValidationError as exc:
            raise SettingsError("iban", f"{iban_text!r} is not a valid IBAN ({exc})") from None
        bic_text = _text(raw, "bic", required=True)
        try:
            bic = stdnum_bic.validate(bic_text)
        except ValidationError as exc:
            raise SettingsError("bic", f"{bic_text!r} is not a valid BIC ({exc})") from None
        source = _text(raw, "reference_source") or "document_reference"
        if source not in REFERENCE_SOURCES:
            raise SettingsError(
                "reference_source", f"{source!r} is not one of {', '.join(REFERENCE_SOURCES)}"
            )
        return cls(
            account_holder=holder,
            iban=iban,
            bic=bic,
            bank_name=_text(raw, "bank_name"),
            reference_source=source,
        )


def build_settings(values: Mapping[str, object]) -> TransferSettings:
    """The schema's ``build``: the checked table (blank values left out) as settings."""
    return TransferSettings.validate({k: v for k, v in values.items() if v not in (None, "")})


def _text(raw: Mapping[str, object], key: str, *, required: bool = False) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str):
        raise SettingsError(key, f"must be a string, not {type(value).__name__}")
    value = value.strip()
    if required and not value:
        raise SettingsError(key, "is required")
    if "\n" in value or "\r" in value:
        raise SettingsError(key, "must be a single line")
    return value
