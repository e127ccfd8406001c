"""``[plugin.sepa]``: the creditor (the seller) and the collection timing."""

from __future__ import annotations

from typing import Any

from facturo.plugin import PluginSettings, SettingField

PLUGIN = "sepa"
#: ⚠ Assumed default: the SEPA rulebooks' 14 calendar days unless the mandate says otherwise.
DEFAULT_PRENOTIFICATION_DAYS = 14
PAIN_VERSIONS = ("pain.008.001.02", "pain.008.001.08")


def clean_iban(value: Any) -> str:
    """The IBAN in electronic form (no spaces, upper case); ValueError when invalid."""
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        return str(IBAN(str(value)).compact)
    except SchwiftyException as exc:
        raise ValueError(f"{value!r} is not a valid IBAN") from exc


def clean_bic(value: Any) -> str:
    """The BIC in upper case; ValueError when invalid."""
    from schwifty import BIC
    from schwifty.exceptions import SchwiftyException

    try:
        return str(BIC(str(value)).compact)
    except SchwiftyException as exc:
        raise ValueError(f"{value!r} is not a valid BIC") from exc


def clean_creditor_id(value: Any) -> str:
    """A SEPA creditor identifier (AT-02), checked with python-stdnum."""
    from stdnum.eu import at_02
    from stdnum.exceptions import ValidationError

    try:
        return str(at_02.validate(str(value)))
    except ValidationError as exc:
        raise ValueError(f"{value!r} is not a valid SEPA creditor identifier") from exc


def settings_schema() -> PluginSettings:
    """The creditor's name, account and identifier; pre-notification lead time; file version."""
    return PluginSettings(
        plugin=PLUGIN,
        fields=(
            SettingField("creditor_name", required=True, help="Creditor name in the files"),
            SettingField("creditor_id", required=True, validate=clean_creditor_id),
            SettingField("iban", required=True, validate=clean_iban),
            SettingField("bic", required=True, validate=clean_bic),
            SettingField(
                "prenotification_days",
                kind="int",
                default=DEFAULT_PRENOTIFICATION_DAYS,
                help="Days between the pre-notification email and the collection",
            ),
            SettingField(
                "pain_version", kind="choice", default=PAIN_VERSIONS[0], choices=PAIN_VERSIONS
            ),
        ),
    )


def demo_table() -> dict[str, Any]:
    """Settings for the demo and the tests (a verified example creditor identifier)."""
    return {
        "plugin": PLUGIN,
        "settings": {
            "creditor_name": "PrestaImport Software S.L.",
            "creditor_id": "ES77000B85626240",
            "iban": "ES91 2100 0418 4502 0005 1332",
            "bic": "CAIXESBBXXX",
        },
    }
