"""Facturo plugin ``transfer``: bank transfer instructions with an EPC QR code on every unpaid
document, staff confirmation by hand, and bank statement reconciliation (Norma 43, camt.053)."""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute

from facturo.plugin import (
    Context,
    Document,
    MenuItem,
    PaymentMethod,
    PaymentOption,
    PluginSettings,
    SettingField,
    StaffUser,
    hookimpl,
)


def _iban(value: Any) -> str:
    from stdnum import iban
    from stdnum.exceptions import ValidationError

    try:
        return str(iban.validate(str(value)))
    except ValidationError as exc:
        raise ValueError(f"{value!r} is not a valid IBAN") from exc


def _bic(value: Any) -> str:
    from stdnum import bic
    from stdnum.exceptions import ValidationError

    try:
        return str(bic.validate(str(value)))
    except ValidationError as exc:
        raise ValueError(f"{value!r} is not a valid BIC") from exc


@hookimpl
def settings_schema() -> PluginSettings:
    from facturo_transfer.settings import build_settings

    return PluginSettings(
        plugin="transfer",
        build=build_settings,
        fields=(
            SettingField("account_holder", required=True, help="Name of the account holder"),
            SettingField("iban", required=True, validate=_iban),
            SettingField("bic", required=True, validate=_bic),
            SettingField("bank_name", default=""),
            SettingField(
                "reference_source",
                kind="choice",
                default="document_reference",
                choices=("document_reference", "rf_creditor_reference"),
            ),
        ),
    )


@hookimpl
def demo_settings() -> dict[str, Any]:
    return {
        "plugin": "transfer",
        "settings": {
            "account_holder": "PrestaImport Software S.L.",
            "iban": "ES91 2100 0418 4502 0005 1332",
            "bic": "CAIXESBBXXX",
            "bank_name": "CaixaBank",
        },
    }


@hookimpl
def payment_methods() -> list[PaymentMethod]:
    return [
        PaymentMethod(
            "transfer", {"es": "Transferencia bancaria", "en": "Bank transfer"}, online=False
        )
    ]


@hookimpl
def invoice_payment_options(ctx: Context, document: Document, language: str) -> list[PaymentOption]:
    from facturo_transfer.options import payment_option

    if not document.is_payable:
        return []
    return [payment_option(ctx, document, language)]


@hookimpl
def web_routes(section: str) -> list[BaseRoute]:
    if section == "admin":
        from facturo_transfer.views import admin_routes

        return list(admin_routes())
    return []


@hookimpl
def admin_menu_items(staff: StaffUser) -> list[MenuItem]:
    return [
        MenuItem(
            label={"es": "Extractos bancarios", "en": "Bank statements"},
            url="/admin/transfer/statements",
            group="sales",
            order=60,
            roles=("admin", "billing"),
        )
    ]
